import { describe, expect, it } from 'vitest';
import {
  AdminFormError,
  MAX_EXPIRY_DAYS,
  parseScheduleForm,
  parseTokenForm,
  parseWebhookForm,
} from '../../src/dashboard/admin/admin-forms.js';

const NOW = Date.UTC(2026, 11, 7);

function refusal(run: () => unknown): { field: string; message: string } {
  try {
    run();
  } catch (error) {
    if (error instanceof AdminFormError) return { field: error.field, message: error.message };
    throw error;
  }
  throw new Error('expected a refusal');
}

describe('token form', () => {
  it('reads name, ticked scopes, tenants and an expiry in days', () => {
    expect(
      parseTokenForm(
        {
          name: ' sentinel ',
          'scope.write': 'on',
          tenants: 'contoso, fabrikam contoso',
          expiresInDays: '30',
        },
        NOW,
      ),
    ).toEqual({
      name: 'sentinel',
      scopes: ['write'],
      tenants: ['contoso', 'fabrikam'],
      expiresAt: NOW + 30 * 86_400_000,
    });
  });

  it('defaults to read, every tenant and no expiry, as the CLI', () => {
    expect(parseTokenForm({ name: 'reporting' }, NOW)).toEqual({
      name: 'reporting',
      scopes: ['read'],
      tenants: null,
      expiresAt: null,
    });
  });

  it.each([
    [{ name: '' }, 'name'],
    [{ name: 'has space' }, 'name'],
    [{ name: 'x'.repeat(65) }, 'name'],
    [{ name: 'ok', expiresInDays: '0' }, 'expiresInDays'],
    [{ name: 'ok', expiresInDays: '1.5' }, 'expiresInDays'],
    [{ name: 'ok', expiresInDays: String(MAX_EXPIRY_DAYS + 1) }, 'expiresInDays'],
    [{ name: 'ok', tenants: 'bad/tenant' }, 'tenants'],
  ])('refuses %j naming %s', (body, field) => {
    const r = refusal(() => parseTokenForm(body, NOW));
    expect(r.field).toBe(field);
    expect(r.message.startsWith(`${field}: `)).toBe(true);
  });
});

describe('webhook form', () => {
  it('reads the URL, the ticked events, the format and a tenant', () => {
    expect(
      parseWebhookForm({
        url: 'https://contoso.webhook.office.com/workflows/abc?sig=s3cret',
        'event.campaign.finished': 'on',
        'event.tenant.blocked': 'on',
        format: 'teams',
        tenant: 'contoso',
      }),
    ).toEqual({
      url: 'https://contoso.webhook.office.com/workflows/abc?sig=s3cret',
      events: ['campaign.finished', 'tenant.blocked'],
      format: 'teams',
      tenant: 'contoso',
    });
  });

  it.each([
    [{ url: '', 'event.campaign.finished': 'on' }, 'url'],
    [{ url: 'not a url', 'event.campaign.finished': 'on' }, 'url'],
    [{ url: 'ftp://example.org/x', 'event.campaign.finished': 'on' }, 'url'],
    [{ url: 'https://example.org/x' }, 'events'],
    [{ url: 'https://example.org/x', 'event.nope': 'on' }, 'events'],
    [{ url: 'https://example.org/x', 'event.campaign.finished': 'on', format: 'xml' }, 'format'],
    [{ url: 'https://example.org/x', 'event.campaign.finished': 'on', tenant: 'a,b' }, 'tenant'],
  ])('refuses %j naming %s', (body, field) => {
    expect(refusal(() => parseWebhookForm(body)).field).toBe(field);
  });
});

describe('schedule form', () => {
  it("takes one schedules.yaml entry through the CLI's parser", () => {
    const spec = parseScheduleForm(
      {
        yaml: 'name: nightly\ncron: "0 2 * * *"\ntz: Europe/Berlin\ntags: [Servers]\ncomment: Nightly quick scan',
      },
      '/srv',
    );
    expect(spec).toMatchObject({
      name: 'nightly',
      cron: '0 2 * * *',
      tz: 'Europe/Berlin',
      targets: { tags: ['Servers'], all: false },
      scanType: 'Quick',
      overlap: 'skip',
    });
  });

  it.each([
    ['', 'empty'],
    ['name: [unclosed', 'not valid YAML'],
    ['- a\n- b', 'expected one schedule'],
    ['name: n\ncron: "0 2 * * *"\ncomment: c', 'exactly one of'],
    ['name: n\ncron: "99 2 * * *"\nall: true\ncomment: c', 'cron'],
    ['name: n\ncron: "0 2 * * *"\ntz: Mars/Olympus\nall: true\ncomment: c', 'tz'],
  ])('refuses %j saying %s', (yaml, words) => {
    const r = refusal(() => parseScheduleForm({ yaml }, '/srv'));
    expect(r.field).toBe('yaml');
    expect(r.message).toContain(words);
  });
});
