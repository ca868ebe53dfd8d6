// Copies the non-TypeScript files the code loads at run time (Lua scripts, dashboard assets)
// next to the compiled JavaScript, so `new URL('./lua/x.lua', import.meta.url)` works from dist/.
import { cpSync, readdirSync, statSync } from 'node:fs';
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
