import { z } from 'zod';

export const CLOUDS = ['commercial', 'gcc', 'gcc-high', 'dod'] as const;
export type Cloud = (typeof CLOUDS)[number];

/** Tenant names appear in metrics labels, keys and URLs: short and plain. */
export const TENANT_NAME = /^[a-z0-9][a-z0-9_-]{0,39}$/;

/** Keys that would put a secret's value in a configuration file: refused, with the fix. */
export const INLINE_SECRET_KEYS: Readonly<Record<string, string>> = {
  clientSecret: 'clientSecretEnv (a variable name) or clientSecretFile (a path)',
  certificatePassword: 'certificatePasswordEnv (a variable name)',
  accessToken: 'accessTokenEnv (a variable name)',
  password: 'a *Env or *File reference',
  secret: 'clientSecretEnv or clientSecretFile',
};

const envName = z
  .string()
  .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'Expected the name of an environment variable');
const httpsUrl = z.url({ protocol: /^https?$/, error: 'Expected an http(s) URL' }).optional();

/**
 * One tenant of a multi-tenant deployment (an MSSP's customer, or a second cloud). Secrets are
 * named by reference only (a variable or a file), never written inline in the file.
 */
export const tenantShape = z
  .strictObject({
    name: z
      .string()
      .regex(TENANT_NAME, 'Expected 1-40 lowercase letters, digits, - or _ (starting with one)'),
    cloud: z.enum(CLOUDS).default('commercial'),
    tenantId: z.string().trim().min(1, 'Expected the tenant id (a GUID or domain)'),
    clientId: z.string().trim().min(1, 'Expected the app registration client id'),
    clientSecretEnv: envName.optional(),
    clientSecretFile: z.string().min(1).optional(),
    certificatePath: z.string().min(1).optional(),
    certificatePasswordEnv: envName.optional(),
    /** A ready bearer token from a variable: tests and short-lived automation only. */
    accessTokenEnv: envName.optional(),
    /** Regional or sovereign API host; default: the cloud's. */
    apiUrl: httpsUrl,
    authorityHost: httpsUrl,
    tokenScope: z.string().min(1).optional(),
  })
  .superRefine((tenant, ctx) => {
    const credentials = [
      tenant.clientSecretEnv,
      tenant.clientSecretFile,
      tenant.certificatePath,
      tenant.accessTokenEnv,
    ].filter((value) => value !== undefined);
    if (credentials.length !== 1) {
      ctx.addIssue({
        code: 'custom',
        path: ['clientSecretEnv'],
        message:
          credentials.length === 0
            ? 'Expected one credential: clientSecretEnv, clientSecretFile, certificatePath or accessTokenEnv'
            : 'Expected exactly one of clientSecretEnv, clientSecretFile, certificatePath, accessTokenEnv',
      });
    }
    if (tenant.certificatePasswordEnv !== undefined && tenant.certificatePath === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['certificatePasswordEnv'],
        message: 'Only with certificatePath',
      });
    }
  });

export type TenantEntryInput = z.output<typeof tenantShape>;

/** Secret values read from the references at load time; never printed. */
export interface TenantSecrets {
  clientSecret?: string | undefined;
  certificatePassword?: string | undefined;
  accessToken?: string | undefined;
}

/** A configured tenant as the rest of the code sees it: its settings and its resolved secrets. */
export type TenantEntry = TenantEntryInput & { secrets: TenantSecrets };
