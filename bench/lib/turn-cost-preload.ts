/**
 * Loaded into a bench worker with `node --import` (never in production): counts the writes of
 * every socket to the bench's Redis (`BENCH_REDIS_PORT`), each one request or pipeline the
 * process then waits for, and on SIGUSR2 prints one line with that count and the process's CPU
 * time, so the bench reads both at the start and at the end of the measured campaign (start-up
 * excluded). A counter per write: it costs the measured process next to nothing.
 */
import { Socket } from 'node:net';
import { TURN_COST_MARK } from './turn-cost.js';

const port = Number(process.env['BENCH_REDIS_PORT']);
let writes = 0;
// eslint-disable-next-line @typescript-eslint/unbound-method -- applied to its socket below
const write = Socket.prototype.write as (this: Socket, ...args: unknown[]) => boolean;
function countingWrite(this: Socket, ...args: unknown[]): boolean {
  if (this.remotePort === port) writes++;
  return write.apply(this, args);
}
Socket.prototype.write = countingWrite;

process.on('SIGUSR2', () => {
  const cpu = process.cpuUsage();
  process.stdout.write(
    `${JSON.stringify({ [TURN_COST_MARK]: { writes, cpuMs: (cpu.user + cpu.system) / 1_000 } })}\n`,
  );
});
