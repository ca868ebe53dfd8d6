import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

/** The parts of a V8 `.cpuprofile` (Profiler.Profile) this summary reads. */
interface CpuProfile {
  nodes: {
    id: number;
    callFrame: { functionName: string; url: string; lineNumber: number };
  }[];
  samples?: number[];
  timeDeltas?: number[];
}

/** Self time of one function, or of one place (a package, fleetscan's src, Node's internals). */
export interface SelfTime {
  name: string;
  /** Self time summed over the profiles, ms. */
  ms: number;
  /** Share of every sample of the profiles. */
  share: number;
}

export interface ProfileSummary {
  /** Sampled time of all profiles, ms (wall-clock intervals between samples, idle left out). */
  totalMs: number;
  /** Samples counted (idle left out). */
  samples: number;
  functions: SelfTime[];
  places: SelfTime[];
}

/** `…/node_modules/@scope/pkg/…` → `@scope/pkg`; `…/dist/src/scan/x.js` → `src/scan`; `node:…` → `node`. */
export function placeOf(url: string, functionName: string): string {
  if (url === '') {
    // V8's own entries: (garbage collector), (program), (idle), (root).
    return functionName.startsWith('(') ? functionName : 'native';
  }
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (pkg?.[1]) return pkg[1];
  // Node's own modules by folder: node:internal/streams/… → node:internal/streams.
  if (url.startsWith('node:')) return url.split('/').slice(0, 2).join('/');
  const own = /\/dist\/((?:src|bench)\/[^/]+)/.exec(url);
  return own?.[1] ?? 'other';
}

/** Self time per function and per place over every `.cpuprofile` in `dir`, largest first. */
export function summariseProfiles(dir: string, top = 15): ProfileSummary {
  const byFunction = new Map<string, number>();
  const byPlace = new Map<string, number>();
  let totalUs = 0;
  let counted = 0;
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.cpuprofile'))) {
    const profile = JSON.parse(readFileSync(join(dir, file), 'utf8')) as CpuProfile;
    const frames = new Map(profile.nodes.map((n) => [n.id, n.callFrame]));
    const samples = profile.samples ?? [];
    const deltas = profile.timeDeltas ?? [];
    // A sample's time is the delta to the next one (the last has none: it is dropped).
    for (let i = 0; i + 1 < samples.length; i++) {
      const frame = frames.get(samples[i] ?? -1);
      const us = deltas[i + 1] ?? 0;
      if (!frame || frame.functionName === '(idle)') continue;
      totalUs += us;
      counted++;
      const file = frame.url.replace(/^.*\/(node_modules|dist)\//, '');
      const fn = `${frame.functionName || '(anonymous)'} ${file}:${String(frame.lineNumber + 1)}`;
      byFunction.set(fn, (byFunction.get(fn) ?? 0) + us);
      const place = placeOf(frame.url, frame.functionName);
      byPlace.set(place, (byPlace.get(place) ?? 0) + us);
    }
  }
  const ranked = (map: Map<string, number>, n: number): SelfTime[] =>
    [...map.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, n)
      .map(([name, us]) => ({ name, ms: us / 1_000, share: totalUs > 0 ? us / totalUs : 0 }));
  return {
    totalMs: totalUs / 1_000,
    samples: counted,
    functions: ranked(byFunction, top),
    places: ranked(byPlace, top),
  };
}
