import type { BenchContext } from '../lib/context.js';
import type { ScenarioResult } from '../lib/report.js';
import { adaptiveScenario } from './adaptive.js';
import { alternativesScenario } from './alternatives.js';
import { cliScenario } from './cli.js';
import { controlScenario } from './control.js';
import { efficiencyScenario } from './efficiency.js';
import { enqueueScenario } from './enqueue.js';
import { hostsScenario } from './hosts.js';
import { incidentScenario } from './incident.js';
import { retentionScenario } from './retention.js';
import { scaleScenario } from './scale.js';
import { tenantsScenario } from './tenants.js';
import { turnCpuScenario } from './turn-cpu.js';
import { workerCostScenario } from './worker-cost.js';

/** Every scenario by the name `npm run bench -- <name>` takes, in the order of a full run. */
export const SCENARIOS = {
  efficiency: efficiencyScenario,
  alternatives: alternativesScenario,
  enqueue: enqueueScenario,
  incident: incidentScenario,
  'worker-cost': workerCostScenario,
  retention: retentionScenario,
  adaptive: adaptiveScenario,
  tenants: tenantsScenario,
  scale: scaleScenario,
  control: controlScenario,
  hosts: hostsScenario,
  cli: cliScenario,
  'turn-cpu': turnCpuScenario,
} satisfies Record<string, (ctx: BenchContext) => Promise<ScenarioResult>>;

export type ScenarioName = keyof typeof SCENARIOS;
