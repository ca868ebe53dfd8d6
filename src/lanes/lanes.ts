import type { Redis } from '../shared/redis.js';
import type { RateWindow } from '../config/duration.js';
import type { Clock } from '../shared/clock.js';
import type { TenantRegistry } from '../tenants/tenant-registry.js';
import type { BreakerSettings } from './budget-breaker.js';
import { createBudgetLane, type BudgetLane } from './budget-lane.js';

/** Every budget's lane of one deployment; tenants that share an API identity share a lane. */
export interface Lanes {
  /** The lane of a tenant's budget; throws UnknownTenantError for a name not configured. */
  forTenant(name: string): BudgetLane;
  /** One lane per budget, in tenant configuration order. */
  all(): readonly BudgetLane[];
}

export interface LanesDeps {
  redis: Redis;
  prefix: string;
  tenants: Pick<TenantRegistry, 'get' | 'list'>;
  /** `limits.reserve`. */
  reserve: readonly RateWindow[];
  /** `worker.lockDuration`: a dead process's devices come back after this. */
  deviceLeaseMs: number;
  /** `limits.breaker` as milliseconds. */
  breaker?: BreakerSettings | undefined;
  /** The clock of the device turns' due times; the system clock by default. */
  clock?: Pick<Clock, 'now'> | undefined;
}

export function createLanes(deps: LanesDeps): Lanes {
  const byBudget = new Map<string, BudgetLane>();
  const laneOf = (tenant: ReturnType<LanesDeps['tenants']['get']>): BudgetLane => {
    let lane = byBudget.get(tenant.budgetId);
    if (!lane) {
      lane = createBudgetLane({
        redis: deps.redis,
        prefix: deps.prefix,
        budgetId: tenant.budgetId,
        limiter: tenant.limiter,
        reserve: deps.reserve,
        deviceLeaseMs: deps.deviceLeaseMs,
        breaker: deps.breaker,
        clock: deps.clock,
      });
      byBudget.set(tenant.budgetId, lane);
    }
    return lane;
  };
  return {
    forTenant: (name) => laneOf(deps.tenants.get(name)),
    all: () => [...new Set(deps.tenants.list().map(laneOf))],
  };
}
