import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = join(dirname(fileURLToPath(import.meta.url)), '../../..');
const lines = readFileSync(join(root, 'Dockerfile'), 'utf8')
  .split('\n')
  .map((line) => line.trim())
  .filter((line) => line && !line.startsWith('#'));

/** Instructions grouped by build stage, named by `FROM ... AS name`. */
const stages = new Map<string, string[]>();
let current = '';
for (const line of lines) {
  const from = /^FROM\s+\S+(?:\s+AS\s+(\S+))?/i.exec(line);
  if (from) {
    current = from[1] ?? `stage${stages.size}`;
    stages.set(current, []);
  } else stages.get(current)?.push(line);
}
const final = [...stages.values()].at(-1) ?? [];

describe('Dockerfile', () => {
  it('builds the release tarball in one stage and installs it, production dependencies only', () => {
    expect(stages.size).toBeGreaterThanOrEqual(2);
    const build = stages.get('build') ?? [];
    expect(build.some((l) => /npm run build && .*npm pack --ignore-scripts/.test(l))).toBe(true);
    const modules = final.find((l) => /^COPY --from=(\S+).*node_modules\/fleetscan/.test(l));
    const depsStage = /--from=(\S+)/.exec(modules ?? '')?.[1] ?? '';
    expect(
      stages.get(depsStage)?.some((l) => /npm install -g --omit=dev .*fleetscan-\*\.tgz/.test(l)),
      depsStage,
    ).toBe(true);
    expect(final.some((l) => /npm (ci|install)/.test(l))).toBe(false);
  });

  it('runs as a non-root user with the CLI as entrypoint and a health check', () => {
    const user = final.filter((l) => l.startsWith('USER ')).at(-1);
    expect(user).toBeDefined();
    expect(user).not.toMatch(/^USER\s+(root|0)(:|$)/);
    expect(final).toContain('ENTRYPOINT ["fleetscan"]');
    expect(final.find((l) => l.startsWith('HEALTHCHECK '))).toMatch(
      /CMD \["fleetscan", "healthcheck"\]$/,
    );
  });

  it('copies only files that exist and that .dockerignore lets through', () => {
    const ignored = readFileSync(join(root, '.dockerignore'), 'utf8')
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l && !l.startsWith('#'));
    for (const entry of ['node_modules', 'dist', '.git', 'test']) expect(ignored).toContain(entry);
    const sources = lines
      .filter((l) => l.startsWith('COPY ') && !l.includes('--from='))
      .flatMap((l) => l.replace(/--\S+/g, '').trim().split(/\s+/).slice(1, -1));
    expect(sources.length).toBeGreaterThan(3);
    for (const source of sources) {
      expect(existsSync(join(root, source)), source).toBe(true);
      expect(ignored.includes(source), `${source} is excluded from the build context`).toBe(false);
    }
  });
});
