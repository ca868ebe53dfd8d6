import { ConfigError, type ConfigIssue } from '../config/load.js';
import type { Config } from '../config/schema.js';

export type AuthSettings = Pick<
  Config['defender'],
  | 'tenantId'
  | 'clientId'
  | 'clientSecret'
  | 'certificatePath'
  | 'certificatePassword'
  | 'accessToken'
>;

/** How this process gets its bearer tokens. */
export type AuthMode =
  | { kind: 'static'; accessToken: string }
  | { kind: 'secret'; tenantId: string; clientId: string; clientSecret: string }
  | {
      kind: 'certificate';
      tenantId: string;
      clientId: string;
      certificatePath: string;
      certificatePassword: string | undefined;
    };

/**
 * Picks the auth mode from the configuration, or throws a ConfigError naming the environment
 * variables that are missing. Values are never echoed: several of them are secrets.
 */
export function assertAuthConfigured(settings: AuthSettings): AuthMode {
  if (settings.accessToken) return { kind: 'static', accessToken: settings.accessToken };
  const { tenantId, clientId, clientSecret, certificatePath } = settings;
  const issues: ConfigIssue[] = [];
  const missing = (path: string, source: string) => {
    issues.push({
      path,
      source,
      message: 'Required for app-only auth (or set MDE_ACCESS_TOKEN to a ready bearer token)',
    });
  };
  if (!tenantId) missing('defender.tenantId', 'MDE_TENANT_ID');
  if (!clientId) missing('defender.clientId', 'MDE_CLIENT_ID');
  if (!clientSecret && !certificatePath) {
    missing('defender.clientSecret', 'MDE_CLIENT_SECRET or MDE_CERTIFICATE_PATH');
  }
  if (clientSecret && certificatePath) {
    // Two credentials would leave it to chance which one Entra sees; make the operator choose.
    issues.push({
      path: 'defender.certificatePath',
      source: 'MDE_CERTIFICATE_PATH',
      message: 'Set either MDE_CLIENT_SECRET or MDE_CERTIFICATE_PATH, not both',
    });
  }
  if (issues.length > 0 || !tenantId || !clientId) throw new ConfigError(issues);
  if (certificatePath) {
    return {
      kind: 'certificate',
      tenantId,
      clientId,
      certificatePath,
      certificatePassword: settings.certificatePassword,
    };
  }
  return { kind: 'secret', tenantId, clientId, clientSecret: clientSecret ?? '' };
}
