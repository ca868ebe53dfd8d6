import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { keyCountOf, LUA_SCRIPTS, resolveIncludes } from '../../../src/lua/lua-scripts.js';
import { packageRoot } from '../../../src/shared/package-root.js';

const folder = join(packageRoot(), 'src', 'lua');

describe('the Lua registry', () => {
  it('lists every script file of src/lua/, and only those', () => {
    const files = readdirSync(folder)
      .filter((file) => file.endsWith('.lua'))
      .map((file) => file.slice(0, -'.lua'.length))
      .sort();
    expect([...LUA_SCRIPTS].sort()).toEqual(files);
  });

  it('has no Lua outside src/lua/', () => {
    const stray = readdirSync(join(packageRoot(), 'src'), { recursive: true, encoding: 'utf8' })
      .filter((file) => file.endsWith('.lua'))
      .filter((file) => !file.startsWith('lua/'));
    expect(stray).toEqual([]);
  });

  it('has no Lua text, EVAL or Redis TIME read outside src/lua/', () => {
    const src = join(packageRoot(), 'src');
    const lua = /redis\.call\('(?!CONFIG|ACL)|rcall\(|\.eval\(|\.evalsha\(|'TIME'/;
    const offending = readdirSync(src, { recursive: true, encoding: 'utf8' })
      .filter((file) => file.endsWith('.ts') && !file.startsWith('lua/'))
      .filter((file) => lua.test(readFileSync(join(src, file), 'utf8')));
    expect(offending).toEqual([]);
  });

  it('reads Redis TIME in one include only', () => {
    const readers = LUA_SCRIPTS.filter((name) =>
      readFileSync(join(folder, `${name}.lua`), 'utf8').includes("'TIME'"),
    );
    expect(readers).toEqual([]);
    expect(readFileSync(join(folder, 'includes', 'script-now.lua'), 'utf8')).toContain("'TIME'");
  });

  it.each(LUA_SCRIPTS)(
    '%s opens with a header naming its keys, arguments, output and time',
    (name) => {
      const header = readFileHeader(name);
      expect(header).toMatch(/KEYS\[1\]/);
      expect(header).toMatch(/Output/);
      expect(header).toMatch(/Time:/);
    },
  );

  it('reads the key count from the name', () => {
    expect(keyCountOf('lane-finish-8')).toBe(8);
    expect(keyCountOf('acquire-n')).toBeNull();
    expect(() => keyCountOf('acquire')).toThrow('Lua script acquire has no key count in its name');
  });

  it('states the real key count of every fixed-count script in its header', () => {
    for (const name of LUA_SCRIPTS) {
      const count = keyCountOf(name);
      if (count === null) continue;
      const header = readFileHeader(name);
      expect(header, name).toContain(`KEYS[${count}]`);
      expect(header, name).not.toContain(`KEYS[${count + 1}]`);
    }
  });
});

describe('resolveIncludes', () => {
  const files: Record<string, string> = {
    'includes/a': '--- @include "includes/b"\nlocal function a() return b() end',
    'includes/b': 'local function b() return 1 end',
    'includes/loop': '--- @include "includes/loop"\nlocal x = 1',
  };
  const read = (path: string) => {
    const text = files[path];
    if (text === undefined) throw new Error(`ENOENT ${path}`);
    return text;
  };

  it('puts every included file in once, its own includes first', () => {
    const out = resolveIncludes(
      '--- @include "includes/a"\n--- @include "includes/b"\nreturn a()',
      read,
      'main-1',
    );
    expect(out).toBe(
      'local function b() return 1 end\nlocal function a() return b() end\n\nreturn a()',
    );
  });

  it('stops at a file that includes itself', () => {
    expect(resolveIncludes('--- @include "includes/loop"\n', read, 'main-1')).toBe(
      '\nlocal x = 1\n',
    );
  });

  it('names the script and the include that cannot be read', () => {
    expect(() => resolveIncludes('--- @include "includes/nope"', read, 'main-1')).toThrow(
      'Lua script main-1 includes "includes/nope", which cannot be read',
    );
  });
});

/** The long comment a script file opens with (after its include lines). */
function readFileHeader(name: string): string {
  const text = readFileSync(join(folder, `${name}.lua`), 'utf8');
  const header = /^(?:--- @include "[^"]+"\n)*--\[\[([\s\S]*?)\]\]/.exec(text);
  if (!header?.[1]) throw new Error(`${name}.lua opens with no header`);
  return header[1];
}
