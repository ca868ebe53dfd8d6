// Prints the README's first-run commands (the first ```sh block, comments dropped), one a line,
// so CI runs exactly what a newcomer types and the two cannot drift apart.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/**
 * @param {string} markdown
 * @returns {string[]}
 */
export function readmeCommands(markdown) {
  const block = /^```sh\n([\s\S]*?)^```/m.exec(markdown);
  if (!block?.[1]) throw new Error('README has no ```sh block with the first-run commands');
  return block[1]
    .split('\n')
    .map((line) => line.replace(/\s+#.*$/, '').trim())
    .filter((line) => line !== '' && !line.startsWith('#'));
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const commands = readmeCommands(readFileSync(process.argv[2] ?? 'README.md', 'utf8'));
  process.stdout.write(`${commands.join('\n')}\n`);
}
