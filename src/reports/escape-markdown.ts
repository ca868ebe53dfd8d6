/**
 * Text from outside (failure reasons the API wrote, campaign names, comments, tenant names) made
 * inert for one line of Markdown: a table cell or a heading. Renderers differ (GitHub, GitLab,
 * Confluence, pandoc), so nothing is left for them to interpret:
 * - Markdown punctuation that starts inline syntax (emphasis, code, links and images through
 *   their `[`, strike, attribute braces, a heading's closing #, table pipes) is backslash-escaped;
 *   block syntax (`-`, `1.`, `>`) cannot start inside a cell or after `# `;
 * - `&`, `<`, `>` and `"` become entities, so no HTML tag or entity survives;
 * - line breaks (CR, LF, U+2028/2029, NEL) and other control characters become a space, so a
 *   value cannot end the table row or start a block of its own;
 * - autolinks (`scheme://`, `www.`) are broken up, so a reason cannot become a live link.
 */
export function escapeMarkdownInline(text: string): string {
  return (
    text
      // eslint-disable-next-line no-control-regex -- control characters are what this removes
      .replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g, ' ')
      .replace(/[\\`*_[\]{}#|~]/g, (c) => `\\${c}`)
      .replace(/[&<>"]/g, (c) => ENTITIES[c] ?? c)
      .replace(/:\/\//g, ':\\/\\/')
      .replace(/\bwww\./gi, (w) => `${w.slice(0, 3)}\\.`)
      .replace(/@/g, '\\@')
  );
}

const ENTITIES: Readonly<Record<string, string>> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
};
