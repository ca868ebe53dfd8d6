import { Command } from 'commander';
import { audited, cliActor } from '../../audit/record-audit.js';
import {
  createTokenStore,
  TOKEN_SCOPES,
  type ApiToken,
  type TokenScope,
} from '../../api/tokens/token-store.js';
import { UsageError } from '../errors.js';
import { cliAudit } from './shared/cli-audit.js';
import { printJson } from './shared/output.js';

function parseScope(value: string, previous: TokenScope[]): TokenScope[] {
  const scope = TOKEN_SCOPES.find((s) => s === value.trim().toLowerCase());
  if (!scope) throw new UsageError(`--scope must be read or write, got ${value}`);
  return [...previous, scope];
}

function describe(t: ApiToken): string {
  const tenants = t.tenants === null ? 'all tenants' : `tenants ${t.tenants.join(', ')}`;
  const state = t.revokedAt === null ? 'active' : `revoked ${new Date(t.revokedAt).toISOString()}`;
  return `${t.id}  ${t.name}  [${t.scopes.join(',')}]  ${tenants}  ${state}`;
}

/** `fleetscan token create|list|revoke`: API tokens for the automation API. */
export function registerTokenCommand(program: Command): void {
  const token = new Command('token')
    .description('Create, list and revoke automation API tokens')
    .addHelpText(
      'after',
      '\nExamples:\n  fleetscan token create --name sentinel-playbook --scope write\n' +
        '  fleetscan token list\n  fleetscan token revoke sentinel-playbook',
    );

  token
    .command('create')
    .description('Create an API token; it is printed once and stored only as a hash')
    .requiredOption('--name <name>', 'who uses it (shown in the audit log)')
    .option('--scope <scope>', 'read or write (write includes read; repeatable)', parseScope, [])
    .option(
      '--tenant <name>',
      'limit the token to this tenant (repeatable)',
      (v: string, p: string[]) => [...p, v],
      [],
    )
    .option('--json', 'print one JSON object')
    .addHelpText(
      'after',
      '\nExamples:\n  fleetscan token create --name sentinel-playbook --scope write\n' +
        '  fleetscan token create --name reporting --scope read --tenant contoso --json',
    )
    .action(
      async (
        options: { name: string; scope: TokenScope[]; tenant: string[]; json?: boolean },
        command: Command,
      ) => {
        const name = options.name.trim();
        if (!/^[\w.@-]{1,64}$/.test(name)) {
          throw new UsageError('--name: 1-64 letters, digits, _ . @ or -');
        }
        const { configFor } = await import('../context.js');
        const { withSession } = await import('./shared/session.js');
        const config = configFor(command);
        await withSession(config, async (session) => {
          const store = createTokenStore(session.redis, config.redis.prefix);
          const scopes = options.scope.length > 0 ? options.scope : (['read'] as TokenScope[]);
          const created = await audited(
            cliAudit(session),
            {
              action: 'token.create',
              target: (c) => c.token.id,
              detail: (c) => `${name} [${c.token.scopes.join(',')}]`,
            },
            () =>
              store
                .create({
                  name,
                  scopes,
                  tenants: options.tenant.length > 0 ? [...new Set(options.tenant)] : null,
                  createdBy: cliActor().who,
                  now: Date.now(),
                })
                .catch((error: unknown) => {
                  throw new UsageError((error as Error).message);
                }),
          );
          if (options.json === true) printJson({ ...created.token, token: created.secret });
          else {
            process.stdout.write(
              `${describe(created.token)}\n\n${created.secret}\n\n` +
                "This is the only time the token is shown; store it in your playbook's secret store.\n",
            );
          }
        });
      },
    );

  token
    .command('list')
    .description('List API tokens (never their secrets)')
    .option('--json', 'print one JSON object')
    .addHelpText('after', '\nExample:\n  fleetscan token list --json')
    .action(async (options: { json?: boolean }, command: Command) => {
      const { configFor } = await import('../context.js');
      const { withSession } = await import('./shared/session.js');
      const config = configFor(command);
      await withSession(config, async ({ redis }) => {
        const tokens = await createTokenStore(redis, config.redis.prefix).list();
        if (options.json === true) printJson({ tokens });
        else
          process.stdout.write(
            tokens.length === 0 ? 'No API tokens.\n' : `${tokens.map(describe).join('\n')}\n`,
          );
      });
    });

  token
    .command('revoke')
    .argument('<id-or-name>', 'the token id or name')
    .description('Revoke an API token: it is refused (401) from the next request on')
    .option('--json', 'print one JSON object')
    .addHelpText('after', '\nExample:\n  fleetscan token revoke sentinel-playbook')
    .action(async (idOrName: string, options: { json?: boolean }, command: Command) => {
      const { configFor } = await import('../context.js');
      const { withSession } = await import('./shared/session.js');
      const config = configFor(command);
      await withSession(config, async (session) => {
        const revoked = await audited(
          cliAudit(session),
          { action: 'token.revoke', target: (t) => t.id, detail: (t) => t.name },
          async () => {
            const found = await createTokenStore(session.redis, config.redis.prefix).revoke(
              idOrName,
              Date.now(),
            );
            if (!found)
              throw new UsageError(
                `No token ${JSON.stringify(idOrName)}; see \`fleetscan token list\`.`,
              );
            return found;
          },
        );
        if (options.json === true) printJson(revoked);
        else process.stdout.write(`Revoked ${describe(revoked)}\n`);
      });
    });

  program.addCommand(token);
}
