/**
 * The README's "Integrate from your pipeline" example is docs/examples/integrate.mjs, shown in the
 * README as it is, and it does what the README says: run as a script against a real nats-server and
 * the service, it prints the line the README shows, and the same line again when run twice.
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { IpamService } from '../../apps/ipam/src/service.js';
import { captureIo } from '../cli/support.js';
import { run } from '../../apps/cli/src/main.js';
import { REPO_ROOT, startTestService, waitUntilLive } from '../support/ipam-service.js';
import { startTestNats, type TestNats } from '../support/nats.js';

const EXAMPLE = join(REPO_ROOT, 'docs', 'examples', 'integrate.mjs');
const README = readFileSync(join(REPO_ROOT, 'README.md'), 'utf8');
const section = README.slice(README.indexOf('## Integrate from your pipeline'));

let nats: TestNats;
let service: IpamService;

beforeAll(async () => {
  nats = await startTestNats();
  // the example uses the default stream, IPAM
  service = await startTestService(nats.url, { IPAM_INSTANCE_ID: 'integrate-example' });
  await waitUntilLive(service);
}, 30_000);

afterAll(async () => {
  await service?.close().catch(() => undefined);
  await nats?.stop();
});

/** Runs the example as a person would (asynchronously: the service runs in this process). */
function runExample(arg: string): Promise<{ code: number; out: string; err: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [EXAMPLE, arg],
      {
        cwd: REPO_ROOT,
        env: { PATH: process.env.PATH ?? '/usr/bin:/bin', NATS_URL: nats.url },
        timeout: 20_000,
      },
      (error, stdout, stderr) =>
        resolve({ code: error ? Number(error.code ?? 1) : 0, out: stdout, err: stderr }),
    );
  });
}

describe('README: Integrate from your pipeline', () => {
  it('shows docs/examples/integrate.mjs as it is', () => {
    expect(section).toContain(`\`\`\`js\n${readFileSync(EXAMPLE, 'utf8')}\`\`\``);
  });

  it('prints the allocation the README shows, after the doc pages pools; again the same line', async () => {
    const c = captureIo();
    const applied = await run(
      [
        'apply',
        '-f',
        join(REPO_ROOT, 'docs', 'examples', 'harvester-doc-examples.yaml'),
        '--server',
        nats.url,
      ],
      c.io,
    );
    expect(applied).toBe(0);

    const shown = /```text\n\$ NATS_URL=\S+ node docs\/examples\/integrate\.mjs (\S+)\n([^\n]+)\n```/.exec(
      section,
    );
    expect(shown).not.toBeNull();
    const [, arg, line] = shown!;
    const first = await runExample(arg);
    expect(first.err).toBe('');
    expect(first.code).toBe(0);
    expect(first.out).toBe(`${line}\n`);
    const again = await runExample(arg);
    expect(again).toEqual(first);
  }, 40_000);
});
