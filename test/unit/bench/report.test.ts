import { describe, expect, it } from 'vitest';
import {
  formatApiTime,
  formatBytes,
  formatCount,
  formatMs,
  formatRatio,
  formatTable,
  markdownTable,
  renderMarkdown,
  type BenchEnvironment,
  type Table,
} from '../../../bench/lib/report.js';

const table: Table = {
  title: 'Budget efficiency',
  columns: ['run', 'devices', 'efficiency'],
  rows: [
    ['fleetscan', 1500, '0.97'],
    ['bullmq 100/min', 1500, null],
  ],
};

describe('report formatting', () => {
  it('formats the floor in the units the issue states', () => {
    expect(formatApiTime(3 * 60_000)).toBe('3 min');
    expect(formatApiTime((3 * 60 + 4) * 60_000)).toBe('3 h 04 min');
    expect(formatApiTime((33 * 60 + 4) * 60_000)).toBe('33 h 04 min');
    expect(formatApiTime(4_500)).toBe('4.5 s');
    expect(formatApiTime(94_000)).toBe('1 min 34 s');
    expect(formatApiTime(null)).toBe('–');
  });

  it('formats real durations, ratios, counts and bytes', () => {
    expect(formatMs(850)).toBe('850 ms');
    expect(formatMs(12_340)).toBe('12.3 s');
    expect(formatMs(245_000)).toBe('4 min 05 s');
    expect(formatRatio(0.9731)).toBe('0.97');
    expect(formatRatio(Number.NaN)).toBe('–');
    expect(formatCount(1_000_000)).toBe('1,000,000');
    expect(formatBytes(412)).toBe('412 B');
    expect(formatBytes(204_800)).toBe('200 KiB');
    expect(formatBytes(52_428_800)).toBe('50 MiB');
  });

  it('pads console columns and right-aligns figures', () => {
    const lines = formatTable(table).split('\n');
    expect(lines[0]).toBe('Budget efficiency');
    expect(lines[1]).toBe('run             devices  efficiency');
    expect(lines[3]).toBe('fleetscan         1,500        0.97');
    expect(lines[4]).toBe('bullmq 100/min    1,500           –');
  });

  it('writes a Markdown table with escaped pipes', () => {
    const md = markdownTable({ title: 't', columns: ['a|b'], rows: [['x|y']] });
    expect(md).toBe('**t**\n\n| a\\|b |\n|---|\n| x\\|y |');
  });

  it('opens latest.md with the machine, versions and command', () => {
    const env: BenchEnvironment = {
      date: '2026-11-23T12:00:00.000Z',
      cores: 2,
      cpuModel: 'Test CPU',
      node: 'v20.20.2',
      redis: '7.0.15',
      bullmq: '6.7.0',
      platform: 'linux x64',
      loadAverage: 0.5,
      args: ['efficiency'],
    };
    const md = renderMarkdown([
      {
        env,
        result: {
          scenario: 'efficiency',
          notes: ['time factor ×100'],
          tables: [table],
          data: {},
          elapsedMs: 61_000,
        },
      },
    ]);
    expect(md).toContain('2 cores (Test CPU)');
    expect(md).toContain('Node v20.20.2, Redis 7.0.15, BullMQ 6.7.0');
    expect(md).toContain('## efficiency');
    expect(md).toContain('`npm run bench -- efficiency` (took 1 min 01 s;');
    expect(md).toContain('| fleetscan | 1,500 | 0.97 |');
    expect(md).toContain('- time factor ×100');
    expect(md.endsWith('\n')).toBe(true);
  });
});
