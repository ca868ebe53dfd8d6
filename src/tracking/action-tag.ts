/**
 * The campaign an action belongs to, read from the exact trailing tag ` [fleetscan:<id>]` that
 * the pipeline appends to every Comment. Only a tag at the very end counts: a comment that merely
 * mentions a campaign id (`re-run of [fleetscan:c-…] by hand`) is somebody else's action.
 */
const TRAILING_TAG = / \[fleetscan:(c-[a-z0-9]{12})\]$/;

export function campaignIdOfComment(comment: unknown): string | null {
  if (typeof comment !== 'string') return null;
  return TRAILING_TAG.exec(comment)?.[1] ?? null;
}
