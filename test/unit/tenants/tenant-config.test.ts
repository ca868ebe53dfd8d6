import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config/load.js';
import { configError } from '../../helpers/config-error.js';

const CANARY = 'canary-tenant-secret-41d7';

function writeYaml(text: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'fleetscan-tenants-'));
  const file = join(dir, 'fleetscan.yaml');
  writeFileSync(file, text);
  return file;
}

const TWO_TENANTS = `
tenants:
  - name: contoso
    tenantId: 11111111-2222-3333-4444-555555555555
    clientId: 66666666-7777-8888-9999-000000000000
    clientSecretEnv: CONTOSO_SECRET
  - name: fabrikam-gov
    cloud: gcc-high
    tenantId: fabrikam.onmicrosoft.us
    clientId: app-2
    clientSecretFile: SECRET_FILE
    apiUrl: https://api-gov.securitycenter.microsoft.us
`;

describe('tenants in the configuration file', () => {
  it('reads secrets from the variables and files the tenants name', () => {
    const dir = mkdtempSync(join(tmpdir(), 'fleetscan-secret-'));
    const secretFile = join(dir, 'fabrikam.secret');
    writeFileSync(secretFile, `${CANARY}-file\n`);
    const file = writeYaml(TWO_TENANTS.replace('SECRET_FILE', secretFile));
    const config = loadConfig({ file, env: { CONTOSO_SECRET: `${CANARY}-env` } });
    expect(config.tenants.map((t) => [t.name, t.cloud])).toEqual([
      ['contoso', 'commercial'],
      ['fabrikam-gov', 'gcc-high'],
    ]);
    expect(config.tenants[0]?.secrets.clientSecret).toBe(`${CANARY}-env`);
    expect(config.tenants[1]?.secrets.clientSecret).toBe(`${CANARY}-file`);
    expect(Object.isFrozen(config.tenants[0]?.secrets)).toBe(true);
  });

  it('refuses an inline secret and says what to write instead, without echoing it', () => {
    const file = writeYaml(`
tenants:
  - name: contoso
    tenantId: t
    clientId: c
    clientSecret: ${CANARY}
`);
    const error = configError(() => loadConfig({ file, env: {} }));
    expect(error.issues).toContainEqual(
      expect.objectContaining({
        path: 'tenants.0.clientSecret',
        message: expect.stringContaining('clientSecretEnv') as unknown,
      }),
    );
    expect(error.message).not.toContain(CANARY);
  });

  it('names every tenant whose secret variable or file is missing, all at once', () => {
    const file = writeYaml(TWO_TENANTS.replace('SECRET_FILE', '/nonexistent/fleetscan.secret'));
    const error = configError(() => loadConfig({ file, env: {} }));
    expect(error.issues.map((issue) => [issue.path, issue.source])).toEqual([
      ['tenants.0.clientSecretEnv', 'CONTOSO_SECRET'],
      ['tenants.1.clientSecretFile', '/nonexistent/fleetscan.secret'],
    ]);
    expect(error.message).toContain('CONTOSO_SECRET is not set');
    expect(error.message).toContain('Cannot read the file (ENOENT)');
  });

  it.each([
    ['no credential', 'name: a\n    tenantId: t\n    clientId: c', 'tenants.0.clientSecretEnv'],
    [
      'two credentials',
      'name: a\n    tenantId: t\n    clientId: c\n    clientSecretEnv: A\n    accessTokenEnv: B',
      'tenants.0.clientSecretEnv',
    ],
    [
      'a bad name',
      'name: Bad Name\n    tenantId: t\n    clientId: c\n    clientSecretEnv: A',
      'tenants.0.name',
    ],
    [
      'an unknown cloud',
      'name: a\n    cloud: mars\n    tenantId: t\n    clientId: c\n    clientSecretEnv: A',
      'tenants.0.cloud',
    ],
    [
      'a missing tenant id',
      'name: a\n    clientId: c\n    clientSecretEnv: A',
      'tenants.0.tenantId',
    ],
  ])('refuses a tenant with %s, naming the key', (_label, body, path) => {
    const file = writeYaml(`tenants:\n  - ${body}\n`);
    const error = configError(() => loadConfig({ file, env: { A: 'x', B: 'y' } }));
    expect(error.issues.map((issue) => issue.path)).toContain(path);
  });

  it('refuses two tenants with one name and the reserved name default', () => {
    const entry = (name: string) =>
      `  - name: ${name}\n    tenantId: t\n    clientId: c\n    accessTokenEnv: TOKEN\n`;
    const file = writeYaml(`tenants:\n${entry('a')}${entry('a')}${entry('default')}`);
    const error = configError(() => loadConfig({ file, env: { TOKEN: 'x' } }));
    expect(error.issues.map((issue) => issue.path)).toEqual(['tenants.1.name', 'tenants.2.name']);
  });

  it('keeps budgets under their own prefix, not the deployment prefix', () => {
    expect(loadConfig({ env: { FLEETSCAN_PREFIX: 'staging' } }).redis.budgetPrefix).toBe(
      'fleetscan',
    );
    expect(loadConfig({ env: { FLEETSCAN_BUDGET_PREFIX: 'lab' } }).redis.budgetPrefix).toBe('lab');
  });
});
