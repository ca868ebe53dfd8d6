import type { Redis } from 'ioredis';

/** What Redis has done so far, from one round of INFO: the counters a sizing guide divides. */
export interface RedisUsage {
  /** INFO stats `total_commands_processed` (every command, EVALSHA counted once). */
  commands: number;
  /** INFO commandstats calls per command name (lower case, `evalsha`, `hgetall`, ...). */
  perCommand: Record<string, number>;
  /** INFO cpu `used_cpu_user + used_cpu_sys`, ms: the whole redis-server process. */
  cpuMs: number;
  /** INFO memory `used_memory`, bytes. */
  usedMemory: number;
}

const field = (info: string, name: string) =>
  Number(new RegExp(`^${name}:([\\d.]+)`, 'm').exec(info)?.[1] ?? 0);

/** CPU (user + system, ms) the redis-server process has used since it started. */
export async function redisCpuMs(admin: Redis): Promise<number> {
  const info = await admin.info('cpu');
  return (field(info, 'used_cpu_user') + field(info, 'used_cpu_sys')) * 1_000;
}

/** CPU (user + system, ms) this process has used: the bench and the simulators it hosts. */
export function processCpuMs(): number {
  const usage = process.cpuUsage();
  return (usage.user + usage.system) / 1_000;
}

/** One snapshot; INFO with several sections is one command, so it adds one to `commands`. */
export async function redisUsage(admin: Redis): Promise<RedisUsage> {
  const info = await admin.info('everything');
  const perCommand: Record<string, number> = {};
  for (const match of info.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) {
    perCommand[match[1]!] = Number(match[2]);
  }
  return {
    commands: field(info, 'total_commands_processed'),
    perCommand,
    cpuMs: (field(info, 'used_cpu_user') + field(info, 'used_cpu_sys')) * 1_000,
    usedMemory: field(info, 'used_memory'),
  };
}

/** `after − before`, per command too (commands first seen after `before` count from 0). */
export function usageDelta(before: RedisUsage, after: RedisUsage): RedisUsage {
  const perCommand: Record<string, number> = {};
  for (const [name, calls] of Object.entries(after.perCommand)) {
    perCommand[name] = calls - (before.perCommand[name] ?? 0);
  }
  return {
    commands: after.commands - before.commands,
    perCommand,
    cpuMs: after.cpuMs - before.cpuMs,
    usedMemory: after.usedMemory - before.usedMemory,
  };
}
