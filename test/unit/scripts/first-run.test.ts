import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { planPrerequisites } from '../../../scripts/prerequisites.js';
import { readmeCommands } from '../../../scripts/readme-commands.js';
import { packageRoot } from '../../../src/shared/package-root.js';

const root = packageRoot();
const semver = createRequire(import.meta.url)('semver') as {
  satisfies(version: string, range: string): boolean;
  minVersion(range: string): { version: string } | null;
};

interface Manifest {
  name?: string;
  version?: string;
  engines?: { node?: string };
  scripts?: Record<string, string>;
}

function readManifest(path: string): Manifest {
  return JSON.parse(readFileSync(path, 'utf8')) as Manifest;
}

/** Every installed package's package.json, nested node_modules and scopes included. */
function installedManifests(dir: string, found: string[] = []): string[] {
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return found;
  }
  for (const entry of entries) {
    if (!entry.isDirectory() || entry.name.startsWith('.')) continue;
    const path = join(dir, entry.name);
    if (entry.name.startsWith('@')) installedManifests(path, found);
    else {
      found.push(join(path, 'package.json'));
      installedManifests(join(path, 'node_modules'), found);
    }
  }
  return found;
}

describe('first run', () => {
  it('installs every missing tool as root with apt-get, in one go', () => {
    expect(planPrerequisites({ chromium: false, redis: false, root: true, aptGet: true })).toEqual({
      install: ['chromium', 'redis-server'],
      problem: null,
    });
    expect(planPrerequisites({ chromium: true, redis: false, root: true, aptGet: true })).toEqual({
      install: ['redis-server'],
      problem: null,
    });
    expect(planPrerequisites({ chromium: true, redis: true, root: false, aptGet: false })).toEqual({
      install: [],
      problem: null,
    });
    expect(
      planPrerequisites({
        chromium: true,
        redis: true,
        ip: false,
        faketime: false,
        root: true,
        aptGet: true,
      }),
    ).toEqual({ install: ['iproute2', 'faketime'], problem: null });
    expect(
      planPrerequisites({ chromium: true, redis: true, promtool: false, root: true, aptGet: true }),
    ).toEqual({ install: ['prometheus'], problem: null });
    expect(
      planPrerequisites({
        chromium: true,
        headlessShell: false,
        redis: true,
        root: true,
        aptGet: true,
      }),
    ).toEqual({ install: ['chromium-headless-shell'], problem: null });
  });

  it('names the missing tool and the command installing it when it cannot install', () => {
    const plan = planPrerequisites({ chromium: false, redis: true, root: false, aptGet: true });
    expect(plan.install).toEqual([]);
    expect(plan.problem).toContain('Chromium at /usr/bin/chromium');
    expect(plan.problem).toContain('sudo apt-get install -y chromium');
    expect(
      planPrerequisites({ chromium: true, redis: false, root: true, aptGet: false }, 'npm run demo')
        .problem,
    ).toMatch(/^npm run demo needs a Redis .*apt-get install -y redis-server/);
    expect(
      planPrerequisites({ chromium: true, redis: true, faketime: false, root: false, aptGet: true })
        .problem,
    ).toMatch(/^npm test needs `ip` and faketime .*apt-get install -y faketime/);
    expect(
      planPrerequisites({ chromium: true, redis: true, promtool: false, root: false, aptGet: true })
        .problem,
    ).toMatch(/^npm test needs promtool .*apt-get install -y prometheus/);
    expect(
      planPrerequisites({
        chromium: true,
        headlessShell: false,
        redis: true,
        root: false,
        aptGet: true,
      }).problem,
    ).toMatch(
      /^npm test needs Chromium's headless shell at \/usr\/bin\/chromium-headless-shell .*apt-get install -y chromium-headless-shell/,
    );
  });

  it('runs the prerequisites before npm test and npm run demo', () => {
    const scripts = readManifest(join(root, 'package.json')).scripts ?? {};
    expect(scripts['pretest']).toBe('node scripts/prerequisites.js chromium redis netns promtool');
    expect(scripts['predemo']).toBe('node scripts/prerequisites.js redis');
  });

  it('tells what npm test installs and how long it takes', () => {
    const readme = readFileSync(join(root, 'README.md'), 'utf8').replace(/\s+/g, ' ');
    // Every package the pretest step may install, named where the README opens.
    const all = planPrerequisites({
      chromium: false,
      headlessShell: false,
      redis: false,
      ip: false,
      faketime: false,
      root: true,
      aptGet: true,
    }).install;
    expect(all.length).toBeGreaterThan(2);
    const opening = readme.slice(0, readme.indexOf('## What you will see'));
    for (const name of all)
      expect(opening, name).toContain(name === 'iproute2' ? 'iproute2' : name.split('-')[0]);
    expect(opening).toMatch(/npm test` takes about 15 minutes/);
  });

  it('keeps tests from writing into tracked files (docs/ screenshots come from their own command)', () => {
    const offenders: string[] = [];
    const walk = (dir: string): void => {
      for (const entry of readdirSync(dir, { withFileTypes: true })) {
        const path = join(dir, entry.name);
        if (entry.isDirectory()) walk(path);
        else if (
          /\.test\.ts$/.test(entry.name) &&
          /packageRoot\(\), 'docs'/.test(readFileSync(path, 'utf8'))
        )
          offenders.push(path);
      }
    };
    walk(join(root, 'test'));
    expect(offenders).toEqual([]);
    expect(readFileSync(join(root, '.ci/run'), 'utf8')).toContain('git diff --exit-code --stat');
  });

  it('gives CI the README first-run commands as written', () => {
    const readme = readFileSync(join(root, 'README.md'), 'utf8');
    expect(readmeCommands(readme)).toEqual(['npm ci && npm run demo', 'npm test']);
    const ci = readFileSync(join(root, '.ci/run'), 'utf8');
    expect(ci).toContain('node scripts/readme-commands.js README.md');
    expect(ci).not.toMatch(/^npm (ci|test)/m);
  });

  it('tells how to put fleetscan on the PATH, with a bin that npm link can use', () => {
    const readme = readFileSync(join(root, 'README.md'), 'utf8');
    expect(readme).toContain('run `npm link` in the clone after `npm ci`');
    expect(readme).toContain('outside the clone `npx fleetscan` finds nothing');
    const bin = (
      JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
        bin: Record<string, string>;
      }
    ).bin;
    expect(bin['fleetscan']).toBe('dist/src/cli/main.js');
    expect(
      readFileSync(join(root, 'src/cli/main.ts'), 'utf8').startsWith('#!/usr/bin/env node\n'),
    ).toBe(true);
  });

  it('points only at files inside the repository and agrees with the CLI on defaults', () => {
    const readme = readFileSync(join(root, 'README.md'), 'utf8');
    expect(readme).not.toContain('../shared/');
    for (const [, path] of readme.matchAll(/`((?:docs|config|scripts)\/[\w./-]+\.\w+)`/g))
      expect(existsSync(join(root, path ?? '')), path).toBe(true);
    // simulate's default fleet and the Redis a demo finds (Docker included), as the CLI says.
    expect(readFileSync(join(root, 'src/cli/commands/simulate.ts'), 'utf8')).toContain(
      "flags.fleet ?? '1000'",
    );
    expect(readme).toContain('--fleet 1000');
    expect(readme).not.toContain('--fleet 5000');
    expect(readFileSync(join(root, 'src/cli/commands/demo.ts'), 'utf8')).toContain('Docker');
    expect(readme).toContain('a\nRedis container where Docker answers');
  });

  it('installs runtime packages whose engines accept the oldest Node package.json promises', () => {
    const promise = readManifest(join(root, 'package.json')).engines?.node ?? '';
    const oldest = semver.minVersion(promise)?.version ?? '';
    expect(oldest).toBe('20.11.0');
    const lock = JSON.parse(readFileSync(join(root, 'package-lock.json'), 'utf8')) as {
      packages: Record<string, { dev?: boolean; optional?: boolean }>;
    };
    const runtime = Object.entries(lock.packages)
      .filter(([path, entry]) => path !== '' && entry.dev !== true)
      .map(([path]) => join(root, path, 'package.json'));
    expect(runtime.length).toBeGreaterThan(50);
    expect(refusing(runtime, oldest)).toEqual([]);
  });

  it('installs nothing whose engines refuse the Node running it (npm ci EBADENGINE)', () => {
    const manifests = installedManifests(join(root, 'node_modules'));
    expect(manifests.length).toBeGreaterThan(200);
    expect(refusing(manifests, process.versions.node)).toEqual([]);
  });
});

/** `name@version needs node RANGE` for each installed manifest whose engines refuse `node`. */
function refusing(paths: readonly string[], node: string): string[] {
  return paths
    .flatMap((path) => {
      try {
        return [readManifest(path)];
      } catch {
        return []; // an optional package for another platform, not installed here
      }
    })
    .filter((m) => m.engines?.node !== undefined && !semver.satisfies(node, m.engines.node))
    .map((m) => `${m.name ?? '?'}@${m.version ?? '?'} needs node ${m.engines?.node ?? ''}`);
}
