// Copies the non-TypeScript files the code loads at run time (Lua scripts, dashboard assets)
// next to the compiled JavaScript, so `new URL('./x.lua', import.meta.url)` in src/lua/ works from dist/.
import { spawnSync } from 'node:child_process';
import { cpSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { dirname, extname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const ASSETS = new Set(['.lua', '.css', '.js', '.html', '.svg', '.ico']);

function walk(dir) {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) walk(path);
    else if (ASSETS.has(extname(name)) && !name.endsWith('.d.ts')) {
      cpSync(path, join(root, 'dist', relative(root, path)));
    }
  }
}

walk(join(root, 'src'));

/** The commit this build came from (`fleetscan --version`), when built inside a git checkout. */
function gitCommit() {
  const run = (/** @type {string[]} */ args) =>
    spawnSync('git', args, { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  const head = run(['rev-parse', '--short=12', 'HEAD']);
  if (head.status !== 0 || !head.stdout.trim()) {
    // A container build has no .git: the Dockerfile passes the commit in.
    return { commit: process.env.FLEETSCAN_COMMIT || 'unknown', dirty: false };
  }
  const status = run(['status', '--porcelain', '--untracked-files=no']);
  return { commit: head.stdout.trim(), dirty: status.stdout.trim() !== '' };
}

// A packed tarball keeps the record of the checkout it was built in; a build outside any
// checkout (an unpacked tarball rebuilt) keeps the record it came with.
const { version } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const found = gitCommit();
const infoPath = join(root, 'dist', 'build-info.json');
let kept = null;
try {
  kept = JSON.parse(readFileSync(infoPath, 'utf8'));
} catch {
  kept = null;
}
const info =
  found.commit === 'unknown' && kept?.commit ? { ...kept, version } : { version, ...found };
writeFileSync(infoPath, `${JSON.stringify(info)}\n`);
