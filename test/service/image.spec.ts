/**
 * The container image and docker compose, as files (no Docker daemon needed): the image runs no
 * package's install script while it is built, and what runs carries the compiled service (with the
 * console's bundle), its production dependencies and Node.js only (no TypeScript, no npm); the service
 * in docker-compose.yml has a health check on /healthz.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { REPO_ROOT } from '../support/ipam-service.js';

const dockerfile = readFileSync(join(REPO_ROOT, 'Dockerfile'), 'utf8');

/** The Dockerfile's instructions, continuation lines joined, comments left out. */
const instructions = dockerfile
  .replace(/\\\n/g, ' ')
  .split('\n')
  .map((l) => l.trim())
  .filter((l) => l !== '' && !l.startsWith('#'));

/** The instructions of each stage, by its name (the last one: ''). */
function stages(): Map<string, string[]> {
  const out = new Map<string, string[]>();
  let current: string[] = [];
  for (const i of instructions) {
    const from = /^FROM\s+\S+(?:\s+AS\s+(\S+))?/i.exec(i);
    if (from) {
      current = [];
      out.set(from[1] ?? '', current);
    } else current.push(i);
  }
  return out;
}

describe('Dockerfile', () => {
  it('every npm ci runs no install script', () => {
    const installs = instructions.filter((i) => /\bnpm (ci|install|i)\b/.test(i));
    expect(installs.length).toBeGreaterThanOrEqual(2);
    for (const i of installs) expect(i).toMatch(/--ignore-scripts/);
  });

  it('what runs: production dependencies installed apart, dist/ with the console, no TypeScript, no npm', () => {
    const all = stages();
    const final = all.get('');
    expect(final).toBeDefined();
    const copies = final!.filter((i) => /^COPY\b/.test(i));
    expect(copies).toEqual([
      expect.stringMatching(/^COPY --from=(\S+) \/app\/node_modules node_modules$/),
      'COPY --from=build /app/dist dist',
      'COPY package.json ./',
      'COPY bin bin',
    ]);
    const depsStage = /--from=(\S+)/.exec(copies[0])![1];
    const deps = all.get(depsStage)!.join('\n');
    expect(deps).toMatch(/npm ci --omit=dev --ignore-scripts/);
    expect(deps).toMatch(/rm -rf node_modules\/typescript/);
    // the build checks the console's bundle is there
    expect(all.get('build')!.join('\n')).toMatch(/test -f dist\/console\/index\.html/);
    // nothing is installed or built where it runs, and npm is gone
    expect(final!.join('\n')).not.toMatch(/\bnpm (ci|install|run)\b/);
    expect(final!.join('\n')).toMatch(/rm -rf \/usr\/local\/lib\/node_modules\/npm/);
    expect(final).toContainEqual(expect.stringMatching(/^USER node$/));
    expect(final).toContainEqual(expect.stringMatching(/^HEALTHCHECK .*\/healthz/));
    expect(final).toContainEqual('CMD ["node", "dist/apps/ipam/src/main.js"]');
  });
});

describe('docker-compose.yml', () => {
  it('the service has a health check on /healthz, and waits for a healthy NATS', () => {
    const compose = parseYaml(readFileSync(join(REPO_ROOT, 'docker-compose.yml'), 'utf8')) as {
      services: Record<string, { healthcheck?: { test: string[] }; depends_on?: unknown }>;
    };
    const ipam = compose.services.ipam;
    expect(ipam.healthcheck?.test.join(' ')).toMatch(/http:\/\/127\.0\.0\.1:8080\/healthz/);
    expect(ipam.depends_on).toEqual({ nats: { condition: 'service_healthy' } });
    expect(compose.services.nats.healthcheck).toBeDefined();
  });
});
