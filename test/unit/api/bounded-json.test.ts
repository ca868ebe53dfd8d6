import { describe, expect, it } from 'vitest';
import {
  BODY_LIMITS,
  createPause,
  decodeBody,
  parseJsonBounded,
} from '../../../src/api/bounded-json.js';

describe('parseJsonBounded', () => {
  it.each([
    '{}',
    '[]',
    ' {"a" : [1, -2.5e3, 0, true, false, null, "x\\"y\\\\", "\\u00e9\\n"], "b": {"c": {}}} ',
    '"just a string"',
    '42',
    '[[], [[]], {"": ""}]',
    JSON.stringify({ devices: Array.from({ length: 5_000 }, (_, i) => String(i)), comment: 'é' }),
  ])('reads case %# as JSON.parse does', async (text) => {
    expect(await parseJsonBounded(text)).toEqual(JSON.parse(text));
  });

  it.each([
    ['{"a":1,}', /expected a property name/],
    ['[1,]', /unexpected "]"/],
    ['{"a" 1}', /expected :/],
    ['[1 2]', /expected , or ]/],
    ['{"a":1} x', /unexpected content after the JSON value/],
    ['"abc', /unterminated string/],
    ['["a\u0001"]', /invalid string/],
    ['[01]', /expected , or ]/],
    ['[', /unexpected end/],
    ['tru', /unexpected "t"/],
  ])('refuses %s', async (text, message) => {
    await expect(parseJsonBounded(text)).rejects.toThrow(message);
  });

  it('keeps a __proto__ key as an own property, as JSON.parse does', async () => {
    const value = (await parseJsonBounded('{"__proto__": {"polluted": true}}')) as object;
    expect(Object.getPrototypeOf(value)).toBe(Object.prototype);
    expect(Object.keys(value)).toEqual(['__proto__']);
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
  });

  it('refuses nesting deeper than the limit where it starts, without reading the rest', async () => {
    const deep = `{"devices":${'['.repeat(5_000_000)}`;
    await expect(parseJsonBounded(deep)).rejects.toThrow(
      `The body nests deeper than ${String(BODY_LIMITS.maxDepth)} levels (at character 42)`,
    );
    const ok = `${'['.repeat(BODY_LIMITS.maxDepth)}${']'.repeat(BODY_LIMITS.maxDepth)}`;
    expect(await parseJsonBounded(ok)).toBeInstanceOf(Array);
  });

  it('refuses a string longer than the limit', async () => {
    await expect(parseJsonBounded(`{"comment":"${'x'.repeat(70_000)}"}`)).rejects.toThrow(
      `The body has a string longer than ${String(BODY_LIMITS.maxStringChars)} characters (at character 11)`,
    );
  });

  it('gives the event loop turns while it reads a large body', async () => {
    const text = JSON.stringify({
      devices: Array.from({ length: 200_000 }, (_, i) => `id-${String(i)}`),
    });
    let turns = 0;
    const timer = setInterval(() => (turns += 1), 0);
    const value = (await parseJsonBounded(text, BODY_LIMITS, createPause(1))) as {
      devices: string[];
    };
    clearInterval(timer);
    expect(value.devices).toHaveLength(200_000);
    expect(turns).toBeGreaterThan(0);
  });
});

describe('decodeBody', () => {
  it('decodes chunk by chunk without splitting a character between chunks', async () => {
    const bytes = Buffer.from(`${'x'.repeat(1_000)}é${'ü'.repeat(3_000)}`);
    const chunks = [bytes.subarray(0, 1_001), bytes.subarray(1_001, 4_000), bytes.subarray(4_000)];
    expect(await decodeBody(chunks)).toBe(bytes.toString('utf8'));
  });
});
