import { describe, expect, it } from 'vitest';
import { renderValue, toMachineId } from '../../../src/producer/sources/device-id.js';
import { canRunAntivirusScan } from '../../../src/producer/sources/scan-platforms.js';

const ID = '0123456789abcdef0123456789abcdef01234567';

describe('toMachineId', () => {
  it.each([
    [ID, ID],
    [ID.toUpperCase(), ID],
    [`  ${ID}\r`, ID],
    [`"${ID}"`, ID],
    [`' ${ID} '`, ID],
  ])('normalises %j', (raw, expected) => {
    expect(toMachineId(raw)).toBe(expected);
  });

  it.each([ID.slice(1), `${ID}0`, `${ID.slice(1)}g`, `"${ID}'`, ID.replace('0', '\u0660'), ''])(
    'refuses %j',
    (raw) => {
      expect(toMachineId(raw)).toBeUndefined();
    },
  );
});

describe('renderValue', () => {
  it('escapes control, bidi and zero-width characters', () => {
    expect(renderValue('a\u0000b\u009bc\u202ed\u200be')).toBe(
      'a\\u{0}b\\u{9b}c\\u{202e}d\\u{200b}e',
    );
  });

  it('shortens long values', () => {
    expect(renderValue('x'.repeat(500))).toBe(`${'x'.repeat(60)}…`);
  });
});

describe('canRunAntivirusScan', () => {
  it.each([
    'Windows10',
    'Windows11',
    'windows 11',
    'WindowsServer2019',
    'WindowsServer2028',
    'macOS',
    'Linux',
  ])('%s can run a scan', (platform) => {
    expect(canRunAntivirusScan(platform)).toBe(true);
  });

  it.each(['Windows7', 'Windows8.1', 'WindowsServer2008R2', 'WindowsServer2012', 'iOS', 'Android'])(
    '%s cannot run a scan',
    (platform) => {
      expect(canRunAntivirusScan(platform)).toBe(false);
    },
  );
});
