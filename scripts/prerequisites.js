// Runs before `npm test` and `npm run demo` (npm's `pretest`, `predemo`) with the tools each needs:
// `chromium` (Debian's Chromium and its headless shell, for the dashboard's browser tests), `redis` (REDIS_URL, 127.0.0.1:6379,
// or redis-server to start), `netns` (`ip` and libfaketime, for the several-hosts tests) and
// `promtool` (Debian's prometheus package, for the alert rules' tests). On a fresh machine, as root with apt-get, it installs what is
// missing; otherwise it says exactly what to install and exits 1 before anything starts, instead
// of failing a test half-way.
import { spawnSync } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { connect } from 'node:net';
import { delimiter, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const CHROMIUM_PATH = '/usr/bin/chromium';
/**
 * Chromium's headless shell (the same Blink without the desktop browser's compositor): an open
 * page costs about a tenth of the CPU, which the fifty-session dashboard test needs on 2 cores.
 */
export const HEADLESS_SHELL_PATH = '/usr/bin/chromium-headless-shell';

/**
 * What to do about the tools a command needs (`found` is true, or absent, for a tool not needed).
 * @param {{ chromium: boolean, headlessShell?: boolean, redis: boolean, ip?: boolean, faketime?: boolean, promtool?: boolean, root: boolean, aptGet: boolean }} found
 * @param {string} [command] what needs them, for the message
 * @returns {{ install: string[], problem: string | null }}
 */
export function planPrerequisites(found, command = 'npm test') {
  const missing = [
    ...(found.chromium ? [] : ['chromium']),
    ...(found.headlessShell === false ? ['chromium-headless-shell'] : []),
    ...(found.redis ? [] : ['redis-server']),
    ...(found.ip === false ? ['iproute2'] : []),
    ...(found.faketime === false ? ['faketime'] : []),
    ...(found.promtool === false ? ['prometheus'] : []),
  ];
  if (missing.length === 0) return { install: [], problem: null };
  if (found.root && found.aptGet) return { install: missing, problem: null };
  const why = [
    ...(found.chromium ? [] : [`Chromium at ${CHROMIUM_PATH} (the dashboard's browser test)`]),
    ...(found.headlessShell === false
      ? [`Chromium's headless shell at ${HEADLESS_SHELL_PATH} (the fifty-session browser test)`]
      : []),
    ...(found.redis
      ? []
      : ['a Redis (REDIS_URL, one answering on 127.0.0.1:6379, or redis-server on PATH)']),
    ...(found.ip === false || found.faketime === false
      ? ['`ip` and faketime (the several-hosts tests: network namespaces, shifted clocks)']
      : []),
    ...(found.promtool === false ? ["promtool (the alert rules' tests)"] : []),
  ];
  return {
    install: [],
    problem:
      `${command} needs ${why.join(' and ')}. Install it with: sudo apt-get install -y ` +
      `${missing.join(' ')} (or run ${command} as root on Debian/Ubuntu, which installs it).`,
  };
}

/** @param {string} name */
function onPath(name) {
  return (process.env.PATH ?? '').split(delimiter).some((dir) => {
    try {
      accessSync(join(dir, name), constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

/** @param {string} path */
function executable(path) {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** True when something answers a Redis PING on 127.0.0.1:6379 within a second. */
function localRedisAnswers() {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port: 6379 });
    const done = (/** @type {boolean} */ ok) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1_000, () => done(false));
    socket.once('error', () => done(false));
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.once('data', (data) => done(data.toString().startsWith('+PONG')));
  });
}

const TOOLS = ['chromium', 'redis', 'netns', 'promtool'];

/** @param {string[]} tools what the command needs: `chromium`, `redis`, `netns`, `promtool` */
async function main(tools) {
  const unknown = tools.filter((tool) => !TOOLS.includes(tool));
  if (unknown.length > 0 || tools.length === 0) {
    console.error(
      `usage: node scripts/prerequisites.js ${TOOLS.join('|')}...; got ${tools.join(' ')}`,
    );
    process.exit(2);
  }
  const found = {
    chromium: !tools.includes('chromium') || executable(CHROMIUM_PATH),
    headlessShell: !tools.includes('chromium') || executable(HEADLESS_SHELL_PATH),
    redis:
      !tools.includes('redis') ||
      Boolean(process.env.REDIS_URL) ||
      onPath('redis-server') ||
      (await localRedisAnswers()),
    ip: !tools.includes('netns') || onPath('ip'),
    faketime: !tools.includes('netns') || onPath('faketime'),
    promtool: !tools.includes('promtool') || onPath('promtool'),
    root: process.getuid?.() === 0,
    aptGet: onPath('apt-get'),
  };
  const plan = planPrerequisites(found, tools.includes('chromium') ? 'npm test' : 'npm run demo');
  if (plan.problem !== null) {
    console.error(`prerequisites: ${plan.problem}`);
    process.exit(1);
  }
  if (plan.install.length === 0) return;
  console.error(`prerequisites: installing ${plan.install.join(', ')} with apt-get`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  for (const args of [
    ['update', '-qq'],
    ['install', '-y', '-qq', ...plan.install],
  ]) {
    const result = spawnSync('apt-get', args, { stdio: ['ignore', 'ignore', 'inherit'], env });
    if (result.status !== 0) {
      console.error(`prerequisites: apt-get ${args.join(' ')} failed (exit ${result.status})`);
      process.exit(1);
    }
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await main(process.argv.slice(2));
