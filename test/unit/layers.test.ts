import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { packageRoot } from '../../src/shared/package-root.js';
import {
  describeUpward,
  importsOf,
  parseLayerMap,
  readTree,
  upwardImports,
} from '../helpers/layer-map.js';

const root = packageRoot();
const srcDir = join(root, 'src');
const layers = parseLayerMap(readFileSync(join(root, 'docs', 'design.md'), 'utf8'));

describe('docs/design.md layer map', () => {
  it('places every folder of src/ in one row, and no folder src/ does not have', () => {
    const folders = readdirSync(srcDir, { withFileTypes: true })
      .filter((entry) => entry.isDirectory())
      .map((entry) => entry.name)
      .sort();
    expect([...layers.keys()].sort()).toEqual(folders);
  });

  it('matches the code: no import in src/ runs up the map or across a row', () => {
    const upward = upwardImports(srcDir, readTree(srcDir), layers).map(describeUpward);
    expect(upward).toEqual([]);
  });

  it('keeps the simulator its own implementation: it imports only config/duration.ts', () => {
    // It implements mde-api.md on its own, so a mistake in the client is caught, not mirrored.
    const simulator = readTree(join(srcDir, 'simulator'));
    const outside = [...simulator].flatMap(([file, text]) =>
      importsOf(text)
        .filter((s) => s.startsWith('../') && !s.startsWith('../config/duration.js'))
        .map((s) => `${file.slice(srcDir.length + 1)} imports ${s}`),
    );
    expect(outside).toEqual([]);
  });
});

describe('the layer check', () => {
  const map = new Map([
    ['shared', 1],
    ['campaigns', 2],
    ['lanes', 3],
    ['tracking', 3],
    ['runtime', 4],
  ]);
  const check = (file: string, text: string) =>
    upwardImports(srcDir, new Map([[join(srcDir, file), text]]), map).map(describeUpward);

  it('lets a folder import itself and the rows below it, and packages', () => {
    expect(
      check(
        'lanes/a.ts',
        "import { x } from './b.js';\nimport type { C } from '../campaigns/c.js';\nimport z from 'zod';\nexport * from '../shared/s.js';",
      ),
    ).toEqual([]);
  });

  it('names the file, the import and both layers of an import that runs up', () => {
    expect(check('campaigns/a.ts', "import type { L } from '../lanes/lanes.js';")).toEqual([
      'src/campaigns/a.ts imports ../lanes/lanes.js: campaigns (layer 2) → lanes (layer 3)',
    ]);
  });

  it('catches re-exports and dynamic imports, and imports across one row', () => {
    expect(
      check(
        'lanes/a.ts',
        "export { t } from '../tracking/t.js';\nconst m = await import('../runtime/r.js');",
      ),
    ).toEqual([
      'src/lanes/a.ts imports ../tracking/t.js: lanes (layer 3) → tracking (layer 3)',
      'src/lanes/a.ts imports ../runtime/r.js: lanes (layer 3) → runtime (layer 4)',
    ]);
  });

  it('refuses a folder the map does not have', () => {
    expect(check('newfolder/a.ts', "import { s } from '../shared/s.js';")).toEqual([
      'src/newfolder/a.ts imports ../shared/s.js: newfolder (not in the map) → shared (layer 1)',
    ]);
  });

  it('reads the rows of the map and refuses a folder in two rows', () => {
    const doc =
      '\n## Layer map\n\n| layer | folders |\n|---|---|\n| 1 | `shared`, `web` |\n| 2 | `config` |\n';
    expect([...parseLayerMap(doc)]).toEqual([
      ['shared', 1],
      ['web', 1],
      ['config', 2],
    ]);
    expect(() => parseLayerMap(`${doc}| 3 | \`web\` |\n`)).toThrow('`web` stands in two rows');
  });
});
