import { fileURLToPath } from 'node:url';
import type { Child } from './processes.js';

/** Marks the preload's line on a worker's stdout (`turn-cost-preload.ts`). */
export const TURN_COST_MARK = 'bench-turn-cost';

/** One worker's Redis writes and CPU time (ms) so far, as its preload printed them. */
interface TurnCostSample {
  writes: number;
  cpuMs: number;
}

/** What the workers spent per counted call between two samples. */
export interface TurnCost {
  /** Worker CPU (user + system) per call, ms, summed over the workers. */
  cpuMsPerCall: number | null;
  /** Writes of the workers' Redis connections per call: requests or pipelines waited for. */
  redisWritesPerCall: number | null;
}

/**
 * The environment that loads the counting preload into a worker talking to `redisUrl`; with
 * `profileDir`, the preload also profiles the span between the two samples into that folder.
 */
export function turnCostEnv(
  env: NodeJS.ProcessEnv,
  redisUrl: string,
  profileDir?: string,
): NodeJS.ProcessEnv {
  const preload = fileURLToPath(new URL('./turn-cost-preload.js', import.meta.url));
  const options = [env['NODE_OPTIONS'], `--import=${preload}`].filter(Boolean).join(' ');
  return {
    ...env,
    NODE_OPTIONS: options,
    BENCH_REDIS_PORT: new URL(redisUrl).port || '6379',
    ...(profileDir ? { BENCH_CPU_PROFILE_DIR: profileDir } : {}),
  };
}

/** Asks every worker for its sample (SIGUSR2) and waits for the lines. */
export async function sampleTurnCost(workers: readonly Child[]): Promise<TurnCostSample[]> {
  return Promise.all(
    workers.map(async (worker) => {
      const seen = worker.lines.length;
      const line = worker.waitForLine(
        (l) => l.includes(TURN_COST_MARK) && worker.lines.indexOf(l) >= seen,
        30_000,
      );
      worker.process.kill('SIGUSR2');
      const parsed = JSON.parse(await line) as Record<string, TurnCostSample>;
      const sample = parsed[TURN_COST_MARK];
      if (!sample) throw new Error(`no ${TURN_COST_MARK} in ${await line}`);
      return sample;
    }),
  );
}

/** The difference of two samples of the same workers, per counted call. */
export function turnCostBetween(
  before: readonly TurnCostSample[],
  after: readonly TurnCostSample[],
  calls: number,
): TurnCost {
  if (calls <= 0 || before.length !== after.length) {
    return { cpuMsPerCall: null, redisWritesPerCall: null };
  }
  const sum = (pick: (s: TurnCostSample) => number) =>
    after.reduce((total, s, i) => total + pick(s) - pick(before[i] ?? s), 0);
  return {
    cpuMsPerCall: sum((s) => s.cpuMs) / calls,
    redisWritesPerCall: sum((s) => s.writes) / calls,
  };
}
