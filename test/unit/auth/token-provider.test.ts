import { describe, expect, it } from 'vitest';
import { createTokenProvider } from '../../../src/auth/token-provider.js';
import { TokenError } from '../../../src/auth/token-error.js';
import { ConfigError, loadConfig } from '../../../src/config/load.js';
import { createLogger } from '../../../src/shared/logger.js';
import { closedPort } from '../defender/api-server.js';

const log = createLogger({ level: 'silent' });

describe('createTokenProvider', () => {
  it('hands out MDE_ACCESS_TOKEN as is and refuses to refresh it', async () => {
    const tokens = createTokenProvider(loadConfig({ env: { MDE_ACCESS_TOKEN: 'ready-token' } }), {
      log,
    });
    expect(tokens.kind).toBe('static');
    await expect(tokens.getToken()).resolves.toBe('ready-token');
    const error: unknown = await tokens.getToken({ forceRefresh: true }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TokenError);
    expect(error).toMatchObject({ code: 'static_token', transient: false });
    expect((error as Error).message).not.toContain('ready-token');
  });

  it('fails at start with a ConfigError naming what is missing', () => {
    expect(() => createTokenProvider(loadConfig({ env: { MDE_TENANT_ID: 't' } }), { log })).toThrow(
      ConfigError,
    );
    expect(() => createTokenProvider(loadConfig({ env: { MDE_TENANT_ID: 't' } }), { log })).toThrow(
      /MDE_CLIENT_ID/,
    );
  });

  it('fails at start when the certificate file cannot be read', () => {
    const config = loadConfig({
      env: { MDE_TENANT_ID: 't', MDE_CLIENT_ID: 'c', MDE_CERTIFICATE_PATH: '/nonexistent/app.pem' },
    });
    expect(() => createTokenProvider(config, { log })).toThrow(TokenError);
  });

  it('retries a token endpoint that cannot be reached, then fails as transient', async () => {
    const port = await closedPort();
    const lines: string[] = [];
    const config = loadConfig({
      env: {
        MDE_AUTHORITY_HOST: `https://127.0.0.1:${String(port)}`,
        MDE_TENANT_ID: 't',
        MDE_CLIENT_ID: 'c',
        MDE_CLIENT_SECRET: 'secret-canary-42',
      },
    });
    const tokens = createTokenProvider(config, {
      log: createLogger({ level: 'warn' }, { write: (line: string) => lines.push(line) }),
      retries: 2,
      retryMinTimeoutMs: 1,
    });
    const error: unknown = await tokens.getToken().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TokenError);
    expect(error).toMatchObject({ transient: true });
    expect(lines.filter((line) => line.includes('token request failed'))).toHaveLength(3);
    expect(lines.join('')).not.toContain('secret-canary-42');
  });

  it('builds a secret provider without any network call', () => {
    const config = loadConfig({
      env: { MDE_TENANT_ID: 't', MDE_CLIENT_ID: 'c', MDE_CLIENT_SECRET: 's' },
    });
    expect(createTokenProvider(config, { log }).kind).toBe('secret');
  });
});
