/**
 * NATS over TLS with the shipped deploy/nats/nats-server-tls.conf: a CA, a server certificate for
 * 127.0.0.1 and client certificates made by openssl in a temporary directory; the server requires
 * TLS and verifies client certificates. The service (in-process, NATS_TLS_CA / NATS_TLS_CERT /
 * NATS_TLS_KEY) and the ipam CLI (the same variables) work over it; clients without TLS, without a
 * certificate, or with one from another CA are refused.
 */
import { createConnection } from 'node:net';
import { connect, type NodeConnectionOptions } from '@nats-io/transport-node';
import { run } from '../../apps/cli/src/main.js';
import type { IpamService } from '../../apps/ipam/src/service.js';
import { captureIo, type CliResult } from '../cli/support.js';
import { startTestService, waitUntilLive } from '../support/ipam-service.js';
import { waitFor } from '../support/stream-audit.js';
import { startSecuredNats, USERS, type Role, type SecuredNats, type TestCertificates } from './support.js';

let nats: SecuredNats;
let certs: TestCertificates;
let service: IpamService | undefined;

async function ipam(role: Role, argv: string[], env: Record<string, string> = {}): Promise<CliResult> {
  const c = captureIo({ env: { ...nats.envOf(role), ...env } });
  const code = await run(['--timeout', '5', ...argv], c.io);
  return { code, out: c.out(), err: c.err() };
}

/** Connects as the publisher with these TLS settings; resolves with the error, or null when it connected. */
async function connectError(tls: NodeConnectionOptions['tls']): Promise<string | null> {
  try {
    const nc = await connect({
      servers: nats.url,
      user: USERS.publisher.user,
      pass: nats.password('publisher'),
      inboxPrefix: USERS.publisher.inboxPrefix,
      tls,
      timeout: 2000,
      maxReconnectAttempts: 0,
    });
    await nc.close();
    return null;
  } catch (e) {
    return String(e);
  }
}

beforeAll(async () => {
  nats = await startSecuredNats({ tls: true });
  certs = nats.certs as TestCertificates;
  service = await startTestService(nats.url, { ...nats.envOf('service'), IPAM_INSTANCE_ID: 'tls-1' });
  await waitUntilLive(service);
}, 60_000);

afterAll(async () => {
  await service?.close().catch(() => undefined);
  await nats?.stop();
});

it('the server requires TLS', () => {
  expect(service!.connection.info).toMatchObject({ tls_required: true, tls_verify: true });
});

it('the service and the CLI work over TLS with their users', async () => {
  const applied = await ipam('operator', ['apply', '-f', 'docs/examples/harvester-doc-examples.yaml']);
  expect(applied).toMatchObject({ code: 0, err: '' });
  expect(applied.out.split('\n').filter((l) => l.endsWith(' created'))).toHaveLength(4);
  const requested = await ipam('operator', ['request', 'lb', 'default/web']);
  expect(requested).toMatchObject({ code: 0, err: '' });
  expect(requested.out).toMatch(/^default\/web\s+default-ip-pool-2\s+192\.168\.200\.2\s/m);
  const verified = await ipam('auditor', ['replay', '--verify']);
  expect(verified).toMatchObject({ code: 0, err: '' });
  expect(verified.out).toMatch(/^verified: all 5 inputs decided the same way \(0 unanswered\)$/m);
});

/**
 * A client speaking plain NATS: reads the server's INFO, sends CONNECT and PING without TLS, and
 * resolves with the INFO and whatever else came before the server closed the connection.
 */
function plainClient(port: number): Promise<{ info: Record<string, unknown>; after: string }> {
  return new Promise((resolve, reject) => {
    const socket = createConnection({ host: '127.0.0.1', port });
    let text = '';
    let infoEnd = -1;
    socket.setTimeout(5000, () => socket.destroy(new Error('the server kept a plain connection open')));
    socket.on('data', (chunk: Buffer) => {
      text += chunk.toString('latin1');
      if (infoEnd < 0 && text.includes('\r\n')) {
        infoEnd = text.indexOf('\r\n') + 2;
        const pass = nats.password('publisher');
        socket.write(`CONNECT {"user":"publisher","pass":"${pass}","verbose":false}\r\nPING\r\n`);
      }
    });
    socket.on('error', reject);
    socket.on('close', () => {
      if (infoEnd < 0) return reject(new Error(`no INFO from the server: ${text}`));
      const info = JSON.parse(text.slice('INFO '.length, infoEnd).trim()) as Record<string, unknown>;
      resolve({ info, after: text.slice(infoEnd) });
    });
  });
}

it('refuses a client without TLS: it gets no answer and the connection is closed', async () => {
  const plain = await plainClient(nats.server.port);
  expect(plain.info).toMatchObject({ tls_required: true });
  expect(plain.after).toBe('');
});

it('refuses a client without a certificate, or with a certificate of another CA', async () => {
  expect(
    await connectError({ caFile: certs.ca, certFile: certs.clientCert, keyFile: certs.clientKey }),
  ).toBeNull();
  const logged = (): string => nats.server.output();
  expect(await connectError({ caFile: certs.ca })).not.toBeNull();
  await waitFor('the server to log the refusal', () => /client didn't provide a certificate/.test(logged()));
  expect(
    await connectError({ caFile: certs.ca, certFile: certs.strangerCert, keyFile: certs.strangerKey }),
  ).not.toBeNull();
  await waitFor('the server to log the refusal', () =>
    /certificate signed by unknown authority/.test(logged()),
  );
});

it("refuses a server whose certificate the client's CA did not sign", async () => {
  // the stranger's CA as the trusted one: the server's certificate does not verify
  const strangerCa = certs.strangerCert.replace(/stranger\.pem$/, 'stranger-ca.pem');
  expect(
    await connectError({ caFile: strangerCa, certFile: certs.clientCert, keyFile: certs.clientKey }),
  ).toMatch(/certificate/i);
});

it('the CLI says so when its TLS files are missing or cannot be read, without a secret', async () => {
  const withoutCert = await ipam('operator', ['get', 'pools'], { NATS_TLS_CERT: '', NATS_TLS_KEY: '' });
  expect(withoutCert.code).not.toBe(0);
  expect(withoutCert.err).toMatch(/cannot connect to NATS at nats:\/\/127\.0\.0\.1:\d+/);

  const missing = await ipam('operator', ['get', 'pools'], { NATS_TLS_CA: '/nonexistent/ca.pem' });
  expect(missing.code).not.toBe(0);
  expect(missing.err).toMatch(/cannot read the TLS CA file \/nonexistent\/ca\.pem: ENOENT/);

  const keyless = await ipam('operator', ['get', 'pools'], { NATS_TLS_KEY: '' });
  expect(keyless.code).not.toBe(0);
  expect(keyless.err).toMatch(/certificate needs its key/);

  for (const r of [withoutCert, missing, keyless]) expect(r.err).not.toContain(nats.password('operator'));
});
