import type { BlockedReport } from '../../lanes/blocked-tenants.js';
import type { BudgetSnapshot, BudgetUsage } from '../../lanes/budget-usage.js';
import { formatCloud, formatCount, formatSpan, formatTime, formatWindow } from './format.js';
import { html, type SafeHtml } from '../../web/html.js';

/** A window at its cap is the limiter doing its job (amber); red is kept for a 429 pause. */
function level(share: number): string {
  return share >= 0.9 ? 'full' : 'ok';
}

function familyCard(usage: BudgetUsage, now: number): SafeHtml {
  const pausedMs = usage.pausedUntil === null ? 0 : usage.pausedUntil - now;
  const paused = pausedMs > 0;
  return html`<div class="family${paused ? ' is-paused' : ''}" data-family="${usage.family}">
    <div class="family-head">
      <span class="family-name">${usage.family}</span>
      ${
        paused
          ? html`<span class="pill pill-paused"
              >paused after 429 until ${formatTime(usage.pausedUntil)}
              (${formatSpan(pausedMs)})</span
            >`
          : html`<span class="pill pill-open">open</span>`
      }
    </div>
    ${usage.windows.map((window) => {
      const share = window.cap > 0 ? Math.min(1, window.used / window.cap) : 0;
      return html`<div class="window" data-window-ms="${window.windowMs}">
        <div class="window-row">
          <span class="window-label">per ${formatWindow(window.windowMs)}</span>
          <span class="window-value"
            ><strong class="used">${formatCount(window.used)}</strong> /
            ${formatCount(window.cap)}</span
          >
        </div>
        ${
          window.reserve
            ? html`<div class="window-reserve" data-reserve="${window.reserve}">
                last ${formatCount(window.reserve)} kept for urgent campaigns: normal ones stop at
                ${formatCount(window.cap - window.reserve)}
              </div>`
            : ''
        }
        ${
          window.configuredCap !== undefined && window.configuredCap !== window.cap
            ? html`<div class="window-adaptive" data-configured-cap="${window.configuredCap}">
                effective cap ${formatCount(window.cap)}, configured
                ${formatCount(window.configuredCap)}
              </div>`
            : ''
        }
        <span class="meter"
          ><span
            class="meter-fill ${level(share)}"
            style="width:${(share * 100).toFixed(1)}%"
          ></span
        ></span>
      </div>`;
    })}
    ${
      usage.lastDecrease
        ? html`<div class="last-decrease" title="${formatTime(usage.lastDecrease.at)}">
            last lowered ${formatTime(usage.lastDecrease.at)}: ${usage.lastDecrease.reason}
          </div>`
        : ''
    }
  </div>`;
}

/** A blocked budget: why, since when, the next probe and the fix (the breaker of issue 9). */
function blockedBanner(blocked: BlockedReport): SafeHtml {
  return html`<div class="budget-blocked" role="alert" data-reason="${blocked.reason}">
    <span class="pill pill-failed">blocked: ${blocked.reason}</span>
    since ${formatTime(Date.parse(blocked.since))}, next probe
    ${formatTime(Date.parse(blocked.nextProbeAt))} (${formatCount(blocked.failedProbes)} failed)
    <div class="budget-blocked-message">${blocked.message}</div>
  </div>`;
}

/** A GUID shortened to its ends: enough to tell tenants apart, short enough to read. */
function shortId(id: string): string {
  return /^[0-9a-f-]{36}$/i.test(id) ? `${id.slice(0, 8)}…${id.slice(-4)}` : id;
}

/**
 * `contoso · Commercial cloud` for a budget whose tenants are known by name (the ids are in the
 * title); without names `Commercial cloud · tenant 72f988bf…db47 · app 0a1b2c3d…9e8f` for
 * `commercial:<tenant>:<app>`; a static token's budget says so.
 */
export function describeBudgetId(id: string, names: readonly string[] = []): string {
  const [cloud = id, tenant = '', app = ''] = id.split(':');
  const cloudName = `${formatCloud(cloud)} cloud`;
  if (names.length > 0) {
    return `${names.length === 1 ? 'tenant' : 'tenants'} ${names.join(', ')} · ${cloudName}`;
  }
  if (tenant === 'static-token') return `${cloudName} · ready access token (MDE_ACCESS_TOKEN)`;
  return `${cloudName} · tenant ${shortId(tenant)} · app ${shortId(app)}`;
}

/** Calls used in every window of every budget against its cap, and any pause after a 429. */
export function budgetPanel(budgets: readonly BudgetSnapshot[], now: number): SafeHtml {
  return html`<section class="panel budgets" aria-label="API budget">
    <h2>API budget <small>calls in each sliding window, shared by every worker</small></h2>
    ${budgets.length === 0 ? html`<p class="empty">No budget configured.</p>` : ''}
    ${budgets.map(
      (budget) =>
        html`<div class="budget">
          <div class="budget-id" title="${budget.id} (cloud:tenant:app)">
            ${describeBudgetId(budget.id, budget.tenants)}
          </div>
          ${budget.blocked ? blockedBanner(budget.blocked) : ''}
          <div class="families">
            ${
              budget.families.length === 0
                ? html`<p class="empty">No calls yet.</p>`
                : budget.families.map((usage) => familyCard(usage, now))
            }
          </div>
        </div>`,
    )}
  </section>`;
}
