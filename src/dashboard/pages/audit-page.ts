import { Readable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { csvCell } from '../../campaigns/export-devices.js';
import { html } from '../../web/html.js';
import { layout } from './layout.js';
import { AUDIT_COLUMNS, type AuditEntry, type AuditLog } from '../../audit/audit-log.js';

const PAGE = 200;

function row(e: AuditEntry) {
  const outcome = e.status === null ? e.outcome : `${e.outcome} (${String(e.status)})`;
  return html`<tr class="audit-${e.outcome}">
    <td>${new Date(e.at).toISOString()}</td>
    <td>${e.who}${e.oid ? html`<br /><small class="oid">oid ${e.oid}</small>` : ''}</td>
    <td>${e.source}</td>
    <td>${e.action}</td>
    <td><code>${e.target}</code></td>
    <td>${e.from}</td>
    <td>${outcome}</td>
    <td>${e.detail}</td>
  </tr>`;
}

async function* exportAudit(log: AuditLog, format: 'csv' | 'ndjson'): AsyncIterable<string> {
  if (format === 'csv') yield `${AUDIT_COLUMNS.join(',')}\r\n`;
  for await (const entry of log.iterate()) {
    const out = {
      ...entry,
      at: new Date(entry.at).toISOString(),
      status: entry.status ?? '',
      oid: entry.oid ?? '',
    };
    yield format === 'csv'
      ? `${AUDIT_COLUMNS.map((c) => csvCell(out[c])).join(',')}\r\n`
      : `${JSON.stringify(out)}\n`;
  }
}

/**
 * `/audit`: the newest writes (CLI, dashboard, API, schedules, workers) for whoever may see the dashboard, and
 * `/audit/export.csv|ndjson` with all of them, oldest first. Behind the dashboard's own auth.
 */
export function registerAuditPage(
  app: FastifyInstance,
  log: AuditLog,
  allowActions: boolean,
): void {
  app.get('/audit', async (request, reply) => {
    const entries = await log.list({ limit: PAGE });
    const body = html`<section class="card">
      <h1>Audit log</h1>
      <p>
        Every write, newest first: CLI commands, dashboard actions, API requests, schedules firing
        and workers' own actions (breaker, retention, reconcile), with who, from where and how it
        ended (${entries.length} shown). Export all:
        <a href="/audit/export.csv">CSV</a> · <a href="/audit/export.ndjson">NDJSON</a>
      </p>
      <table class="devices">
        <thead>
          <tr>
            <th>When (UTC)</th>
            <th>Who</th>
            <th>Source</th>
            <th>What</th>
            <th>Target</th>
            <th>From</th>
            <th>Outcome</th>
            <th>Detail</th>
          </tr>
        </thead>
        <tbody>
          ${entries.map(row)}
        </tbody>
      </table>
    </section>`;
    return reply
      .type('text/html; charset=utf-8')
      .header('cache-control', 'no-store')
      .send(layout({ title: 'Audit log', body, allowActions, person: request.person }));
  });
  app.get<{ Params: { format: string } }>('/audit/export.:format', async (request, reply) => {
    const format = request.params.format;
    if (format !== 'csv' && format !== 'ndjson') {
      return reply.code(404).send({ error: 'unknown export format' });
    }
    return reply
      .type(format === 'csv' ? 'text/csv; charset=utf-8' : 'application/x-ndjson; charset=utf-8')
      .header('content-disposition', `attachment; filename="audit.${format}"`)
      .header('cache-control', 'no-store')
      .send(Readable.from(exportAudit(log, format)));
  });
}
