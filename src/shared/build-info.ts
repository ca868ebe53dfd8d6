import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot, packageVersion } from './package-root.js';

/** What `npm run build` recorded about the build (scripts/copy-assets.js → dist/build-info.json). */
export interface BuildInfo {
  version: string;
  /** The git commit the build came from, or `unknown` (built outside a git checkout). */
  commit: string;
  /** True when the checkout had uncommitted changes at build time. */
  dirty: boolean;
}

/** The build's record; outside a build (sources run by tests) the commit is `unknown`. */
export function buildInfo(): BuildInfo {
  try {
    const info = JSON.parse(
      readFileSync(join(packageRoot(), 'dist', 'build-info.json'), 'utf8'),
    ) as Partial<BuildInfo>;
    return {
      version: packageVersion(),
      commit: typeof info.commit === 'string' ? info.commit : 'unknown',
      dirty: info.dirty === true,
    };
  } catch {
    return { version: packageVersion(), commit: 'unknown', dirty: false };
  }
}

/** `fleetscan --version`: `0.2.0 (commit 1a2b3c4d5e6f)`, `+dirty` when built from changed files. */
export function versionText(info: BuildInfo = buildInfo()): string {
  return `${info.version} (commit ${info.commit}${info.dirty ? '+dirty' : ''})`;
}
