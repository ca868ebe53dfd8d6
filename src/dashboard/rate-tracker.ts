interface Sample {
  at: number;
  settled: number;
}

/**
 * Devices settled per minute per campaign, from snapshots the dashboard takes anyway (every page
 * poll). No process records per-campaign call times, so the rate is measured from the change in
 * settled devices over the last `spanMs`. Memory stays small: a few samples per campaign.
 */
export function createRateTracker(spanMs = 60_000) {
  const samples = new Map<string, Sample[]>();
  // The last rate measured: a poll too close to the previous one repeats it instead of showing
  // nothing, so the figure does not flip between a number and a dash.
  const lastRate = new Map<string, number>();
  return {
    /** Records `settled` (requested + failed + cancelled) and returns devices per minute, or null. */
    observe(campaignId: string, settled: number, at: number): number | null {
      const list = samples.get(campaignId) ?? [];
      const last = list.at(-1);
      if (!last || at - last.at >= 1_000 || settled !== last.settled) list.push({ at, settled });
      while (list.length > 2 && (list[0]?.at ?? at) < at - spanMs) list.shift();
      if (list.length > 120) list.splice(0, list.length - 120);
      samples.set(campaignId, list);
      const first = list[0];
      if (!first || at - first.at < 1_000) return lastRate.get(campaignId) ?? null;
      const rate = Math.max(0, ((settled - first.settled) / (at - first.at)) * 60_000);
      lastRate.set(campaignId, rate);
      return rate;
    },
    /** Forgets campaigns no longer shown, so a long-lived process does not grow. */
    retain(campaignIds: ReadonlySet<string>): void {
      for (const id of samples.keys()) if (!campaignIds.has(id)) samples.delete(id);
      for (const id of lastRate.keys()) if (!campaignIds.has(id)) lastRate.delete(id);
    },
  };
}

export type RateTracker = ReturnType<typeof createRateTracker>;
