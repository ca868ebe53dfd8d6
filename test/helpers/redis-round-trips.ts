import { connect } from 'node:net';
import { Redis as SingleRedis } from 'ioredis';
import { LUA_SCRIPTS, luaScript } from '../../src/lua/lua-scripts.js';

/**
 * The commands of one RESP write (`*<n>` arrays of bulk strings, several for a pipeline), each
 * as its lower-case name and its first argument (a script's SHA for EVALSHA).
 */
export function commandsOfWrite(data: Buffer): string[][] {
  const commands: string[][] = [];
  let at = 0;
  const line = () => {
    const end = data.indexOf('\r\n', at);
    const text = data.toString('latin1', at, end);
    at = end + 2;
    return text;
  };
  while (at < data.length) {
    const header = line();
    if (!header.startsWith('*')) throw new Error(`not a RESP array: ${header}`);
    const parts: string[] = [];
    for (let n = Number(header.slice(1)); n > 0; n--) {
      const length = Number(line().slice(1));
      parts.push(data.toString('utf8', at, at + length));
      at += length + 2;
    }
    commands.push([(parts[0] ?? '').toLowerCase(), parts[1] ?? '']);
  }
  return commands;
}

/**
 * Counts the writes of one ioredis connection to its socket: each is one round trip (one
 * request, or one pipeline of them, that the connection then waits for). `stop` gives each
 * write's commands.
 */
export function countWrites(redis: SingleRedis): { stop(): string[][][] } {
  const stream = redis.stream;
  const write = stream.write.bind(stream);
  const batches: string[][][] = [];
  stream.write = (chunk: unknown, ...rest: unknown[]) => {
    const data = typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : (chunk as Buffer);
    batches.push(commandsOfWrite(data));
    return (write as (...args: unknown[]) => boolean)(chunk, ...rest);
  };
  return {
    stop() {
      stream.write = write;
      return batches;
    },
  };
}

export interface MonitoredCommand {
  name: string;
  args: string[];
  /** Run by a Lua script that the watched connection called. */
  inScript: boolean;
}

/**
 * MONITOR on a plain socket of its own (ioredis's `monitor()` trips over a busy shared Redis),
 * keeping the commands of `target` only, with the commands its scripts ran inside Redis:
 * MONITOR shows an EVALSHA, then the script's own commands (source `lua`), and nothing comes
 * between (Redis runs one command at a time).
 */
export async function watchMonitor(
  url: string,
  target: SingleRedis,
): Promise<{ stop(): Promise<MonitoredCommand[]> }> {
  const source = `${String(target.stream.localAddress)}:${String(target.stream.localPort)}`;
  const { hostname, port } = new URL(url);
  const socket = connect({ host: hostname, port: Number(port || 6379) });
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  const seen: MonitoredCommand[] = [];
  let ours = false;
  let rest = '';
  socket.setEncoding('utf8');
  socket.on('data', (chunk: string) => {
    const lines = (rest + chunk).split('\r\n');
    rest = lines.pop() ?? '';
    for (const line of lines) {
      // +1796667468.508271 [0 127.0.0.1:59294] "evalsha" "…" "3" …
      const head = /^\+\d+\.\d+ \[\d+ ([^\]]+)\] (.*)$/.exec(line);
      if (!head) continue;
      const from = head[1] ?? '';
      const args = [...(head[2] ?? '').matchAll(/"((?:[^"\\]|\\.)*)"/g)].map((m) => m[1] ?? '');
      const [name = '', ...more] = args;
      if (from !== 'lua') ours = from === source;
      if (ours) seen.push({ name: name.toLowerCase(), args: more, inScript: from === 'lua' });
    }
  });
  socket.write('MONITOR\r\n');
  return {
    async stop() {
      // MONITOR lines trail the commands a little: an ECHO on the target marks the end.
      const mark = `round-trips-end-${String(Date.now())}`;
      await target.echo(mark);
      for (let i = 0; i < 100 && !seen.some((c) => c.name === 'echo' && c.args[0] === mark); i++)
        await new Promise((resolve) => setTimeout(resolve, 20));
      socket.destroy();
      return seen;
    },
  };
}

/** SHA-1 → script name, for every script of the registry (to read a round trip's EVALSHAs). */
export function luaScriptNames(): Map<string, string> {
  return new Map(LUA_SCRIPTS.map((name) => [luaScript(name).source().sha, name]));
}
