import Fastify from 'fastify';
import { describe, expect, it } from 'vitest';
import {
  hasRole,
  requireRole,
  roleRefusalMessage,
  rolesUpTo,
  sharedCredentialPerson,
  type Person,
} from '../../../src/dashboard/roles.js';

const viewer: Person = {
  upn: 'vera@contoso.test',
  oid: '11111111-1111-1111-1111-111111111111',
  name: 'Vera',
  roles: ['viewer'],
  via: 'entra',
};

describe('roles', () => {
  it.each([
    ['viewer', 'viewer', true],
    ['viewer', 'operator', false],
    ['operator', 'viewer', true],
    ['operator', 'operator', true],
    ['operator', 'admin', false],
    ['admin', 'operator', true],
  ] as const)('%s holds %s: %s', (held, needed, expected) => {
    expect(hasRole({ ...viewer, roles: rolesUpTo(held) }, needed)).toBe(expected);
  });

  it('lets nobody through who holds no role, or is not known at all', () => {
    expect(hasRole({ ...viewer, roles: [] }, 'viewer')).toBe(false);
    expect(hasRole(null, 'viewer')).toBe(false);
  });

  it('gives the shared credentials admin with --allow-actions and viewer without', () => {
    expect(sharedCredentialPerson('token', 'token', true).roles).toEqual([
      'viewer',
      'operator',
      'admin',
    ]);
    expect(sharedCredentialPerson('basic', 'ops', false)).toMatchObject({
      upn: 'ops',
      oid: '',
      roles: ['viewer'],
    });
  });

  it('names the role needed and the role held', () => {
    expect(roleRefusalMessage(viewer, 'operator')).toBe(
      'This needs the FleetScan.Operator role (vera@contoso.test holds FleetScan.Viewer).',
    );
  });

  it('refuses with a page for browsers and JSON for clients, telling the refusal first', async () => {
    const app = Fastify();
    app.decorateRequest('person', null);
    app.addHook('onRequest', (request, _reply, done) => {
      request.person = viewer;
      done();
    });
    const heard: string[] = [];
    const gate = requireRole('operator', (request, message) => {
      heard.push(`${request.url}: ${message}`);
      return Promise.resolve();
    });
    app.post('/act', { preHandler: gate }, () => 'done');
    app.post('/look', { preHandler: requireRole('viewer') }, () => 'seen');

    const page = await app.inject({
      method: 'POST',
      url: '/act',
      headers: { accept: 'text/html' },
    });
    expect(page.statusCode).toBe(403);
    expect(page.headers['content-type']).toMatch(/^text\/html/);
    expect(page.body).toContain('This needs the FleetScan.Operator role');
    const json = await app.inject({
      method: 'POST',
      url: '/act',
      headers: { accept: 'application/json' },
    });
    expect(json.json()).toMatchObject({ neededRole: 'FleetScan.Operator' });
    expect(heard).toHaveLength(2);
    expect(heard[0]).toContain('/act: This needs the FleetScan.Operator role');
    expect((await app.inject({ method: 'POST', url: '/look' })).body).toBe('seen');
  });
});
