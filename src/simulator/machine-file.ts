import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import type { SimMachine } from './fleet.js';

const traits = z.strictObject({
  offline: z.boolean().optional(),
  offlineOutcome: z.enum(['TimeOut', 'Failed']).optional(),
  busyWithOtherScan: z.boolean().optional(),
});

/** One device as a user may write it: only `id` is required; `simulation` sets hidden traits. */
export const machineInputSchema = z.looseObject({
  id: z.string().regex(/^[0-9a-f]{40}$/, 'must be 40 lowercase hex characters'),
  computerDnsName: z.string().optional(),
  osPlatform: z.string().optional(),
  healthStatus: z.string().optional(),
  onboardingStatus: z.string().optional(),
  machineTags: z.array(z.string()).optional(),
  rbacGroupId: z.number().int().nullable().optional(),
  rbacGroupName: z.string().nullable().optional(),
  lastSeen: z.string().optional(),
  isExcluded: z.boolean().optional(),
  isPotentialDuplication: z.boolean().optional(),
  mergedIntoMachineId: z.string().nullable().optional(),
  simulation: traits.optional(),
});
export type MachineInput = z.input<typeof machineInputSchema>;

const INACTIVE_AFTER_MS = 7 * 86_400_000;

/** `Inactive` health, or not seen for 7 days: Defender's own meaning of inactive. */
function isInactive(input: { healthStatus?: string; lastSeen?: string }, nowMs: number): boolean {
  if (input.healthStatus === 'Inactive') return true;
  const seen = input.lastSeen === undefined ? Number.NaN : Date.parse(input.lastSeen);
  return Number.isFinite(seen) && nowMs - seen > INACTIVE_AFTER_MS;
}

/** Fills the gaps of user-written devices with the values of a healthy Windows device. */
export function completeMachines(inputs: readonly MachineInput[], nowMs: number): SimMachine[] {
  const seen = new Set<string>();
  return inputs.map((raw, index) => {
    const parsed = machineInputSchema.safeParse(raw);
    if (!parsed.success) {
      throw new Error(`machines[${String(index)}]: ${z.prettifyError(parsed.error)}`);
    }
    const input = parsed.data;
    if (seen.has(input.id)) throw new Error(`machines[${String(index)}]: duplicate id ${input.id}`);
    seen.add(input.id);
    return {
      ...input,
      computerDnsName: input.computerDnsName ?? `device-${String(index + 1)}.contoso.local`,
      osPlatform: input.osPlatform ?? 'Windows11',
      healthStatus: input.healthStatus ?? 'Active',
      onboardingStatus: input.onboardingStatus ?? 'Onboarded',
      machineTags: input.machineTags ?? [],
      rbacGroupId: input.rbacGroupId ?? null,
      rbacGroupName: input.rbacGroupName ?? null,
      lastSeen: input.lastSeen ?? new Date(nowMs).toISOString(),
      isExcluded: input.isExcluded ?? false,
      isPotentialDuplication: input.isPotentialDuplication ?? false,
      mergedIntoMachineId: input.mergedIntoMachineId ?? null,
      // An inactive device only lets its scans sit Pending (mde-api.md), unless the file says otherwise.
      simulation: { offline: isInactive(input, nowMs), ...input.simulation },
    };
  });
}

/** Reads a JSON file holding an array of devices (or `{ "value": [...] }`, as the API lists them). */
export async function readMachinesFile(path: string): Promise<MachineInput[]> {
  const parsed: unknown = JSON.parse(await readFile(path, 'utf8'));
  const list: unknown =
    typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed) && 'value' in parsed
      ? parsed.value
      : parsed;
  if (!Array.isArray(list)) throw new Error(`${path}: expected a JSON array of devices`);
  return list as MachineInput[];
}
