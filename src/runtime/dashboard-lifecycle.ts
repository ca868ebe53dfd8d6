import { killSwitchFor } from './kill-switch.js';
import type { Runtime } from './build-runtime.js';
import { createLifecycleStore } from '../tracking/lifecycle-store.js';

/**
 * The dashboard's lifecycle parts: "proved complete: X of N" and what the kill switch did, per
 * campaign, and the kill switch itself (used only with `--allow-actions`, behind the page's
 * confirmation). The Defender client is built on first use, so a dashboard without API
 * credentials still starts.
 */
export function dashboardLifecycle(runtime: Runtime) {
  const lifecycle = createLifecycleStore(runtime.redis, runtime.config.redis.prefix);
  return {
    lifecycle: (campaignId: string) => lifecycle.get(campaignId),
    proof: async (campaignId: string) => {
      const proof = (await lifecycle.get(campaignId)).proof;
      if (!proof) return null;
      const of = Object.values(proof).reduce((a, b) => a + b, 0);
      return { completed: proof.completed, of };
    },
    killSwitch: async (campaignId: string) => {
      const { cancels } = await lifecycle.get(campaignId);
      const result = {
        cancelled: cancels.cancelled,
        alreadyFinal: cancels['already-final'],
        refused: cancels.refused,
      };
      return result.cancelled + result.alreadyFinal + result.refused === 0 ? null : result;
    },
    cancelActions: killSwitchFor(runtime, 'the fleetscan dashboard'),
  };
}
