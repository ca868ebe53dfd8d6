import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import ts from 'typescript';

/** Folder of src/ → its row in the layer map (1 is the bottom). */
export type LayerMap = ReadonlyMap<string, number>;

/** One import that does not run down the map. */
export interface UpwardImport {
  file: string;
  specifier: string;
  from: string;
  fromLayer: number;
  to: string;
  toLayer: number;
}

/**
 * Reads the `## Layer map` table of docs/design.md: rows `| N | \`a\`, \`b\` | … |`. Throws when
 * the section or its rows are missing, or a folder stands in two rows.
 */
export function parseLayerMap(markdown: string): LayerMap {
  const start = markdown.indexOf('\n## Layer map');
  if (start < 0) throw new Error('docs/design.md has no "## Layer map" section');
  const end = markdown.indexOf('\n## ', start + 1);
  const section = markdown.slice(start, end < 0 ? undefined : end);
  const layers = new Map<string, number>();
  for (const row of section.matchAll(/^\| (\d+) \| ([^|]+) \|/gm)) {
    const layer = Number(row[1]);
    for (const folder of (row[2] ?? '').matchAll(/`([a-z-]+)`/g)) {
      const name = folder[1] ?? '';
      if (layers.has(name)) throw new Error(`layer map: \`${name}\` stands in two rows`);
      layers.set(name, layer);
    }
  }
  if (layers.size === 0) throw new Error('docs/design.md "## Layer map" has no rows');
  return layers;
}

/**
 * Every module specifier a file names: static imports and re-exports (type-only ones too: they
 * couple the folders as much) and dynamic `import()`, as the TypeScript scanner finds them.
 */
export function importsOf(source: string): string[] {
  return ts.preProcessFile(source, true, true).importedFiles.map((f) => f.fileName);
}

/** The first folder under `srcDir` of a path, or undefined when the path is outside it. */
function folderOf(srcDir: string, path: string): string | undefined {
  const rel = relative(srcDir, path);
  if (rel.startsWith('..') || rel === '') return undefined;
  const parts = rel.split(sep);
  return parts.length > 1 ? parts[0] : '';
}

/**
 * The imports of `files` (path under `srcDir` → text) that do not go strictly down the map:
 * a folder imports from its own folder or from a lower row, never from its own row or above.
 * Package imports and paths outside src/ are not the map's business.
 */
export function upwardImports(
  srcDir: string,
  files: ReadonlyMap<string, string>,
  layers: LayerMap,
): UpwardImport[] {
  const found: UpwardImport[] = [];
  for (const [file, text] of files) {
    const from = folderOf(srcDir, file);
    if (from === undefined) continue;
    for (const specifier of importsOf(text)) {
      if (!specifier.startsWith('.')) continue;
      const to = folderOf(srcDir, resolve(dirname(file), specifier));
      if (to === undefined || to === from) continue;
      const fromLayer = layers.get(from) ?? Number.NaN;
      const toLayer = layers.get(to) ?? Number.NaN;
      if (!(toLayer < fromLayer)) {
        found.push({ file: relative(srcDir, file), specifier, from, fromLayer, to, toLayer });
      }
    }
  }
  return found;
}

/** Every .ts file below `dir`, with its text. */
export function readTree(dir: string): Map<string, string> {
  const files = new Map<string, string>();
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile() || !entry.name.endsWith('.ts')) continue;
    const path = join(entry.parentPath, entry.name);
    files.set(path, readFileSync(path, 'utf8'));
  }
  return files;
}

/** `src/tenants/x.ts imports ../runtime/y.js: tenants (layer 7) → runtime (layer 13)`. */
export function describeUpward(u: UpwardImport): string {
  const layer = (n: number) => (Number.isNaN(n) ? 'not in the map' : `layer ${String(n)}`);
  return `src/${u.file} imports ${u.specifier}: ${u.from} (${layer(u.fromLayer)}) → ${u.to} (${layer(u.toLayer)})`;
}
