import { describe, expect, it } from 'vitest';
import { escapeMarkdownInline } from '../../../src/reports/escape-markdown.js';
import type { ReportData } from '../../../src/reports/report-data.js';
import { renderMarkdown } from '../../../src/reports/render-markdown.js';

// Issue 27: `report --format md` wrote API-supplied failure reasons, names and comments as they
// came. Every one of these must reach the reader as text, never as markup.
describe('escapeMarkdownInline', () => {
  it.each([
    ['<img src=x onerror=alert(1)>', '&lt;img src=x onerror=alert(1)&gt;'],
    ['<script>alert("x")</script>', '&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;'],
    ['a | b', 'a \\| b'],
    ['line\nbreak\r\nand\u2028more', 'line break  and more'],
    ['**bold** _it_ `code` ~~gone~~', '\\*\\*bold\\*\\* \\_it\\_ \\`code\\` \\~\\~gone\\~\\~'],
    ['[click](https://evil.example)', '\\[click\\](https:\\/\\/evil.example)'],
    ['![x](http://evil/x.png)', '!\\[x\\](http:\\/\\/evil/x.png)'],
    ['see www.evil.example', 'see www\\.evil.example'],
    ['mail me@evil.example', 'mail me\\@evil.example'],
    ['Tom &amp; Jerry', 'Tom &amp;amp; Jerry'],
    ['back\\slash', 'back\\\\slash'],
    ['name ##', 'name \\#\\#'],
    ['{: .class}', '\\{: .class\\}'],
    ['bell\u0007nul\u0000', 'bell nul '],
    ['BadRequest: "x", =1', 'BadRequest: &quot;x&quot;, =1'],
  ])('%j is shown as %j', (raw, shown) => {
    expect(escapeMarkdownInline(raw)).toBe(shown);
  });
});

const HOSTILE_NAME = 'weekly | <b>x</b>\n# injected heading';
const HOSTILE_REASON =
  'InvalidRequest: <img src=x onerror=alert(1)> | [pwn](javascript:alert(1))\n\n## Fake';

function report(): ReportData {
  return {
    generatedAt: '2026-12-01T10:00:00.000Z',
    campaign: {
      id: 'c-abcdefabcdef',
      name: HOSTILE_NAME,
      comment: '*urgent* <script>steal()</script>',
      createdBy: 'token:ci|bot',
      createdAt: '2026-12-01T09:00:00.000Z',
      source: 'file:`devices`.txt',
      scanType: 'Quick',
      state: 'finished',
      tenant: 'contoso | <i>evil</i>',
      priority: 'normal',
      finishedAt: null,
      schedule: null,
    },
    targets: { devices: 3, skipped: { 'not-a-machine-id <x>': 1 } },
    outcomes: { requested: 2, failed: 1 },
    joinedExisting: 0,
    actionStatuses: { 'Succeeded\n| x | y |': 2 },
    noAction: {},
    proof: {
      verifiedAt: null,
      completed: 0,
      cancelled: 0,
      failed: 0,
      ambiguous: 0,
      noEvidence: 0,
      unverified: 2,
      withAction: 2,
    },
    findings: {
      checked: 2,
      withDetections: 1,
      unremediated: 1,
      alerted: 0,
      detections: 1,
      devices: [
        {
          machineId: 'a'.repeat(40),
          hostname: 'ws-01 | <b>',
          threats: {
            count: 1,
            // Threat names and paths come from the devices: text, never markup.
            names: ['Trojan:Win32/<img src=x>'],
            unremediated: 1,
            files: ['C:\\Temp\\[x](javascript:1).exe'],
            alerts: 0,
            alertTitles: [],
            firstAt: '2026-12-01T09:10:00.000Z',
          },
        },
      ],
    },
    cancels: { cancelled: 0, alreadyFinal: 0, refused: 0 },
    failures: { [HOSTILE_REASON]: 1 },
    tracking: { settledAt: null, endedAt: null, openAtEnd: null },
    calls: { total: 0, byFamily: {}, budgetScope: 'family', charts: [] },
    duration: {
      firstRequestAt: null,
      lastRequestAt: null,
      ms: null,
      requests: 0,
      floorMs: 0,
      caps: [],
    },
  };
}

describe('renderMarkdown with hostile names, comments and reasons', () => {
  const markdown = renderMarkdown(report());
  const lines = markdown.split('\n');

  it('leaves no raw HTML and no link syntax', () => {
    expect(markdown).not.toMatch(/<(img|script|b|i)\b/i);
    expect(markdown).not.toMatch(/[^\\]\[pwn\]/);
    expect(markdown).toContain('&lt;img src=x onerror=alert(1)&gt;');
    expect(markdown).toContain('&lt;script&gt;steal()&lt;/script&gt;');
  });

  it('keeps every table row one line with exactly three unescaped pipes', () => {
    for (const line of lines.filter((l) => l.startsWith('| ') && !l.startsWith('| |'))) {
      expect(line.replace(/\\\|/g, '').match(/\|/g), line).toHaveLength(3);
    }
  });

  it('adds no heading of its own: only the report headings start a line with #', () => {
    const headings = lines.filter((l) => l.startsWith('#'));
    expect(headings[0]).toBe(
      '# Scan campaign report: weekly \\| &lt;b&gt;x&lt;/b&gt; \\# injected heading (c-abcdefabcdef)',
    );
    expect(headings.some((h) => /Fake|injected/.test(h) && h !== headings[0])).toBe(false);
  });

  it('shows the failure reason as one escaped cell', () => {
    expect(markdown).toContain(
      '| InvalidRequest: &lt;img src=x onerror=alert(1)&gt; \\| \\[pwn\\](javascript:alert(1))  \\#\\# Fake | 1 |',
    );
  });

  it('leads with what the scans found: the device with a detection, escaped, then the counts', () => {
    const sections = lines.filter((l) => l.startsWith('## '));
    expect(sections[0]).toBe('## What the scans found');
    expect(markdown).toContain('| Devices with detections | 1 of 2 checked |');
    expect(markdown).toContain(
      '| ws-01 \\| &lt;b&gt; (aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa) | 1 detection: Trojan:Win32/&lt;img src=x&gt;; 1 not remediated; C:\\\\Temp\\\\\\[x\\](javascript:1).exe |',
    );
  });

  it('says so when no verify has looked yet', () => {
    const text = renderMarkdown({
      ...report(),
      findings: { ...report().findings, checked: 0, withDetections: 0, devices: [] },
    });
    expect(text).toMatch(/## What the scans found\n\n_Not checked yet: fleetscan verify/);
  });
});
