import { describe, expect, it } from 'vitest';
import { parseStartForm, StartFormError } from '../../../src/dashboard/start/start-form.js';

const base = { source: 'list', comment: ' Incident 4711 ' };

describe('parseStartForm', () => {
  it('takes the only tenant, normal class and a Quick scan when none is chosen', () => {
    expect(parseStartForm(base, ['default'])).toMatchObject({
      source: 'list',
      file: 'pasted',
      tenant: 'default',
      priority: 'normal',
      scanType: 'Quick',
      window: null,
      comment: 'Incident 4711',
      name: undefined,
    });
  });

  it('reads tags one a line or comma-separated, a window with its zone, and include-inactive', () => {
    const form = parseStartForm(
      {
        ...base,
        source: 'tag',
        tags: 'Servers, Finance\nRedis\n\n',
        window: '22:00-05:00 Europe/Berlin',
        includeInactive: '1',
        tenant: 'contoso',
      },
      ['default', 'contoso'],
    );
    expect(form.tags).toEqual(['Servers', 'Finance', 'Redis']);
    expect(form.window).toEqual({ start: '22:00', end: '05:00', tz: 'Europe/Berlin' });
    expect(form.includeInactive).toBe(true);
    expect(form.tenant).toBe('contoso');
  });

  const named = { ...base, tenant: 'default' };
  it.each([
    [{ ...named, source: 'hunting-file' }, 'source: "hunting-file" is not one; choose list,'],
    [{ source: 'list', tenant: 'default' }, 'comment: required'],
    [{ ...named, tenant: undefined }, 'tenant: required; tenants: default, contoso'],
    [{ ...named, scanType: 'Deep' }, 'scanType: "Deep" is not one; choose Quick, Full'],
    [{ ...named, source: 'tag', tags: ' , ' }, 'tags: required'],
    [{ ...named, source: 'group' }, 'group: required'],
    [{ ...named, name: ['a', 'b'] }, 'name: given more than once'],
    [{ ...named, comment: 'x'.repeat(1_001) }, 'comment: longer than 1000 characters'],
  ])('refuses %j naming the field', (fields, message) => {
    const run = () => parseStartForm(fields, ['default', 'contoso']);
    expect(run).toThrow(StartFormError);
    expect(run).toThrow(message);
  });
});
