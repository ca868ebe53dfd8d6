import { describe, expect, it } from 'vitest';
import {
  assessMemory,
  parseMemoryInfo,
  type MemorySettings,
} from '../../../src/retention/memory-headroom.js';
import { admitDevices, RedisMemoryFullError } from '../../../src/retention/admit-devices.js';

const MB = 1024 * 1024;
const SETTINGS: MemorySettings = { bytesPerDevice: 1_000, warnAt: 0.7, refuseAt: 0.9 };

describe('memory headroom', () => {
  it('reads maxmemory, else the machine memory, from INFO memory', () => {
    expect(
      parseMemoryInfo('used_memory:500\r\nmaxmemory:2000\r\ntotal_system_memory:9000\r\n'),
    ).toEqual({
      usedBytes: 500,
      limitBytes: 2000,
      limitSource: 'maxmemory',
    });
    expect(
      parseMemoryInfo('used_memory:500\r\nmaxmemory:0\r\ntotal_system_memory:9000\r\n'),
    ).toMatchObject({
      limitBytes: 9000,
      limitSource: 'system',
    });
    expect(parseMemoryInfo('used_memory:500\r\nmaxmemory:0\r\n').limitSource).toBe('unknown');
  });

  it.each([
    // used MB, max MB, level, room in devices (up to 90 % at 1,000 B each)
    [100, 1_000, 'ok', Math.floor((900 * MB - 100 * MB) / 1_000)],
    [700, 1_000, 'ok', Math.floor((900 * MB - 700 * MB) / 1_000)],
    [701, 1_000, 'warn', Math.floor((900 * MB - 701 * MB) / 1_000)],
    [900, 1_000, 'full', 0],
    [990, 1_000, 'full', 0],
  ] as const)('%i MB of %i MB is %s with room for %i devices', (used, max, level, room) => {
    const headroom = assessMemory(
      { usedBytes: used * MB, limitBytes: max * MB, limitSource: 'maxmemory' },
      SETTINGS,
    );
    expect(headroom.level).toBe(level);
    expect(headroom.roomDevices).toBe(room);
    expect(headroom.message).toContain(`${(used / 10).toFixed(0)} % used`);
    expect(headroom.message).toContain(
      `room for about ${room.toLocaleString('en-US')} more devices`,
    );
  });

  it('says so when the limit is unknown, and then admits anything', async () => {
    const headroom = assessMemory(
      { usedBytes: 5, limitBytes: 0, limitSource: 'unknown' },
      SETTINGS,
    );
    expect(headroom.roomDevices).toBeNull();
    const chunks = (async function* () {
      yield await Promise.resolve(['a']);
    })();
    expect(await admitDevices(chunks, headroom, SETTINGS)).toBe(chunks);
  });

  it('admits a campaign that fits and refuses one that does not, before handing out any chunk', async () => {
    const headroom = assessMemory(
      { usedBytes: 0, limitBytes: 10_000, limitSource: 'maxmemory' },
      SETTINGS,
    ); // room for 9 devices
    const source = (n: number) =>
      (async function* () {
        for (let i = 0; i < n; i += 3) yield await Promise.resolve(['x', 'y', 'z'].slice(0, n - i));
      })();
    const admitted: string[] = [];
    for await (const chunk of await admitDevices(source(9), headroom, SETTINGS))
      admitted.push(...chunk);
    expect(admitted).toHaveLength(9);
    const refusal = admitDevices(source(12), headroom, SETTINGS);
    await expect(refusal).rejects.toBeInstanceOf(RedisMemoryFullError);
    await expect(refusal).rejects.toThrow(/more than 9 devices.*Nothing was created or queued/);
  });
});
