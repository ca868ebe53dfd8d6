import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { packageRoot } from '../../src/shared/package-root.js';

describe('docs/design.md module map', () => {
  it('has a row for every folder of src/', () => {
    const root = packageRoot();
    const design = readFileSync(join(root, 'docs', 'design.md'), 'utf8');
    const rows = new Set(
      [...design.matchAll(/^\| `src\/([a-z-]+)(?:\/[a-z-]+)?` \|/gm)].map((m) => m[1]),
    );
    const folders = readdirSync(join(root, 'src'), { withFileTypes: true })
      .filter((entry) => entry.isDirectory())
      .map((entry) => entry.name);
    expect(folders.filter((folder) => !rows.has(folder))).toEqual([]);
  });
});
