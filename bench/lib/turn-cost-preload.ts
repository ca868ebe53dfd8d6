/**
 * Loaded into a bench worker with `node --import` (never in production): counts the writes of
 * every socket to the bench's Redis (`BENCH_REDIS_PORT`), each one request or pipeline the
 * process then waits for, and on SIGUSR2 prints one line with that count and the process's CPU
 * time, so the bench reads both at the start and at the end of the measured campaign (start-up
 * excluded). A counter per write: it costs the measured process next to nothing.
 *
 * With `BENCH_CPU_PROFILE_DIR`, the first SIGUSR2 also starts the V8 sampling profiler and the
 * second stops it and writes `<pid>.cpuprofile` there before printing, so the profile covers
 * exactly the span the CPU figure does (`node --cpu-prof` would include start-up).
 */
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { join } from 'node:path';
import { Socket } from 'node:net';
import { TURN_COST_MARK } from './turn-cost.js';

const port = Number(process.env['BENCH_REDIS_PORT']);
const profileDir = process.env['BENCH_CPU_PROFILE_DIR'];
let writes = 0;
// eslint-disable-next-line @typescript-eslint/unbound-method -- applied to its socket below
const write = Socket.prototype.write as (this: Socket, ...args: unknown[]) => boolean;
function countingWrite(this: Socket, ...args: unknown[]): boolean {
  if (this.remotePort === port) writes++;
  return write.apply(this, args);
}
Socket.prototype.write = countingWrite;

let session: Session | undefined;

/** Starts the profiler on the first call, stops it and writes the profile on the second. */
async function toggleProfile(): Promise<void> {
  if (!profileDir) return;
  if (!session) {
    session = new Session();
    session.connect();
    await session.post('Profiler.enable');
    await session.post('Profiler.start');
    return;
  }
  const { profile } = await session.post('Profiler.stop');
  writeFileSync(join(profileDir, `${String(process.pid)}.cpuprofile`), JSON.stringify(profile));
  session.disconnect();
}

process.on('SIGUSR2', () => {
  // CPU first: the profile's own start and write are not the campaign's cost.
  const cpu = process.cpuUsage();
  const line = `${JSON.stringify({ [TURN_COST_MARK]: { writes, cpuMs: (cpu.user + cpu.system) / 1_000 } })}\n`;
  toggleProfile().then(
    () => process.stdout.write(line),
    (error: unknown) => {
      process.stderr.write(`cpu profile: ${String(error)}\n`);
      process.stdout.write(line);
    },
  );
});
