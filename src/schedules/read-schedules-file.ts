import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { parse } from 'yaml';
import type { ScheduleSpec } from './schedule.js';
import { buildScheduleSpec, ScheduleSpecError } from './schedule-spec.js';

/**
 * Reads a `schedules.yaml` (`schedules:` list of entries as `schedule add` takes them) and
 * validates all of it before anything is changed: one error lists every bad entry.
 */
export async function readSchedulesFile(file: string): Promise<ScheduleSpec[]> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new ScheduleSpecError(`Cannot read ${file}: ${(error as Error).message}`);
  }
  let doc: unknown;
  try {
    doc = parse(text);
  } catch (error) {
    throw new ScheduleSpecError(`${file} is not valid YAML: ${(error as Error).message}`);
  }
  const list =
    doc !== null && typeof doc === 'object' && 'schedules' in doc ? doc.schedules : undefined;
  if (!Array.isArray(list))
    throw new ScheduleSpecError(`${file}: expected a top-level "schedules:" list`);
  const baseDir = dirname(resolve(file));
  const errors: string[] = [];
  const specs: ScheduleSpec[] = [];
  list.forEach((entry: unknown, index) => {
    try {
      specs.push(buildScheduleSpec(entry, `${file}: schedules[${String(index)}]`, baseDir));
    } catch (error) {
      if (!(error instanceof ScheduleSpecError)) throw error;
      errors.push(error.message);
    }
  });
  const seen = new Set<string>();
  for (const spec of specs) {
    if (seen.has(spec.name)) errors.push(`${file}: schedule "${spec.name}" is defined twice`);
    seen.add(spec.name);
  }
  if (errors.length > 0) throw new ScheduleSpecError(errors.join('\n'));
  return specs;
}
