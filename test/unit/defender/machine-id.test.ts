import { describe, expect, it } from 'vitest';
import { InvalidMachineIdError } from '../../../src/defender/errors.js';
import { isMachineId, normalizeMachineId } from '../../../src/defender/machine-id.js';

const ID = '0123456789abcdef0123456789abcdef01234567';

describe('normalizeMachineId', () => {
  it('accepts 40 lowercase hex characters as they are', () => {
    expect(normalizeMachineId(ID)).toBe(ID);
    expect(isMachineId(ID)).toBe(true);
  });

  it('lowercases an uppercase id', () => {
    expect(normalizeMachineId(ID.toUpperCase())).toBe(ID);
    expect(isMachineId(ID.toUpperCase())).toBe(false);
  });

  const hostile: [string, string][] = [
    ['empty', ''],
    ['39 characters', ID.slice(1)],
    ['41 characters', `${ID}0`],
    ['non-hex letter', `${ID.slice(0, 39)}g`],
    ['dot-dot', '..'],
    ['dot-dot segment after an id', `${ID}/..`],
    ['path traversal to another endpoint', `../machineactions/${ID.slice(0, 21)}`],
    ['encoded dot-dot', `%2e%2e${ID.slice(6)}`],
    ['encoded slash', `${ID.slice(0, 37)}%2f`],
    ['slash', `${ID.slice(0, 20)}/${ID.slice(21)}`],
    ['backslash', `${ID.slice(0, 20)}\\${ID.slice(21)}`],
    ['query', `${ID.slice(0, 39)}?`],
    ['fragment', `${ID.slice(0, 39)}#`],
    ['CR/LF header injection', `${ID.slice(0, 38)}\r\n`],
    ['trailing newline', `${ID}\n`],
    ['leading space', ` ${ID}`],
    ['trailing space', `${ID} `],
    ['tab inside', `${ID.slice(0, 20)}\t${ID.slice(21)}`],
    ['NUL byte', `${ID.slice(0, 39)}\0`],
    ['fullwidth digits', '０'.repeat(40)],
    ['fullwidth letters', 'ａ'.repeat(40)],
    ['Cyrillic a and e lookalikes', `${ID.slice(0, 38)}\u0430\u0435`],
    ['Kelvin sign (lowercases to k)', `${ID.slice(0, 39)}\u212a`],
    ['Arabic-Indic digits', '\u0660'.repeat(40)],
    ['combining mark', `${ID.slice(0, 39)}a\u0301`.slice(0, 41)],
    ['zero-width space', `${ID.slice(0, 20)}\u200b${ID.slice(21)}`],
    ['0x prefix', `0x${ID.slice(2)}`],
    ['OData quote', `${ID.slice(0, 39)}'`],
  ];

  it.each(hostile)('rejects %s', (_label, value) => {
    expect(() => normalizeMachineId(value)).toThrow(InvalidMachineIdError);
    expect(isMachineId(value)).toBe(false);
  });

  it('rejects values that are not strings', () => {
    expect(() => normalizeMachineId(undefined)).toThrow(InvalidMachineIdError);
    expect(() => normalizeMachineId(12)).toThrow(InvalidMachineIdError);
    expect(isMachineId(null)).toBe(false);
  });

  it('names the bad value in the error, shortened and quoted', () => {
    const error = (() => {
      try {
        normalizeMachineId(`a\r\nb${'x'.repeat(200)}`);
      } catch (caught) {
        return caught as InvalidMachineIdError;
      }
      return undefined;
    })();
    expect(error?.message).toContain('"a\\r\\nb');
    expect(error?.message.length).toBeLessThan(150);
  });
});
