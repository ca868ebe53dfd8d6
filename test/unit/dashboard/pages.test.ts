import { describe, expect, it } from 'vitest';
import { reasonLabel } from '../../../src/dashboard/metrics.js';
import { formatCount, formatSpan, formatWindow } from '../../../src/dashboard/pages/format.js';
import { escapeHtml, html } from '../../../src/web/html.js';

describe('html', () => {
  it('escapes every interpolated value but keeps nested templates', () => {
    const name = `<img src=x onerror="alert('x')">&`;
    const inner = html`<b>${name}</b>`;
    expect(html`<p title="${name}">${inner}${[1, null, false, 'a']}</p>`.value).toBe(
      '<p title="&lt;img src=x onerror=&quot;alert(&#39;x&#39;)&quot;&gt;&amp;"><b>&lt;img src=x onerror=&quot;alert(&#39;x&#39;)&quot;&gt;&amp;</b>1a</p>',
    );
    expect(escapeHtml('"\'<>&')).toBe('&quot;&#39;&lt;&gt;&amp;');
  });
});

describe('formatting for a wall screen', () => {
  it.each([
    [0, '0s'],
    [600, '<1s'],
    [12_000, '12s'],
    [250_000, '4m 10s'],
    [7_500_000, '2h 05m'],
  ])('formatSpan(%i) is %s', (ms, text) => {
    expect(formatSpan(ms)).toBe(text);
  });

  it.each([
    [600, '600 ms'],
    [36_000, '36 s'],
    [60_000, '1 min'],
    [3_600_000, '1 h'],
  ])('formatWindow(%i) is %s', (ms, text) => {
    expect(formatWindow(ms)).toBe(text);
  });

  it('groups thousands', () => {
    expect(formatCount(100_000)).toBe('100,000');
  });
});

describe('reasonLabel', () => {
  it.each([
    ['ResourceNotFound: Machine 0a1b not found', 'ResourceNotFound'],
    ['pending-timeout', 'pending-timeout'],
    ['weird reason with spaces: x', 'other'],
    ['', 'other'],
  ])('labels %j as %s', (reason, label) => {
    expect(reasonLabel(reason)).toBe(label);
  });
});
