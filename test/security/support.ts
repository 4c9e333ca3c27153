/**
 * A real nats-server running the shipped configuration (deploy/nats/nats-server.conf, or
 * nats-server-tls.conf with certificates made here by openssl) on a free 127.0.0.1 port, with fresh
 * random passwords for its four users and a temporary store; and connections as each user.
 *
 *   const nats = await startSecuredNats();
 *   const nc = await nats.connectAs('publisher');        // user, password and inbox prefix
 *   ... startTestService(nats.url, nats.serviceEnv())    // the service as ipam-service
 *   await nats.stop();                                   // closes the connections, removes the store
 *
 * `usersConf` runs the server from a copy of deploy/nats with ipam-users.conf edited (a right taken
 * away, say): startSecuredNats({ usersConf: (text) => text.replace(...) }).
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { copyFileSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, type NatsConnection, type NodeConnectionOptions } from '@nats-io/transport-node';
import { startNatsServer, type NatsServerHandle } from '../../libs/jetstream/src/nats-server.launcher.js';
import { REPO_ROOT } from '../support/ipam-service.js';

export const DEPLOY_NATS = join(REPO_ROOT, 'deploy', 'nats');

/** The users of deploy/nats/ipam-users.conf: name, password variable, inbox prefix. */
export const USERS = {
  service: { user: 'ipam-service', passwordVar: 'IPAM_SERVICE_PASSWORD', inboxPrefix: '_INBOX_ipam_service' },
  publisher: { user: 'publisher', passwordVar: 'IPAM_PUBLISHER_PASSWORD', inboxPrefix: '_INBOX_publisher' },
  auditor: { user: 'auditor', passwordVar: 'IPAM_AUDITOR_PASSWORD', inboxPrefix: '_INBOX_auditor' },
  operator: { user: 'operator', passwordVar: 'IPAM_OPERATOR_PASSWORD', inboxPrefix: '_INBOX_operator' },
} as const;

export type Role = keyof typeof USERS;

/** PEM files made by {@link makeCertificates}. */
export interface TestCertificates {
  dir: string;
  /** the CA of both the server's and the clients' certificates */
  ca: string;
  serverCert: string;
  serverKey: string;
  clientCert: string;
  clientKey: string;
  /** a certificate and key from another CA, which the server must refuse */
  strangerCert: string;
  strangerKey: string;
}

function openssl(args: string[], cwd: string): void {
  execFileSync('openssl', args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
}

/**
 * A CA, a server certificate for 127.0.0.1 and localhost, a client certificate signed by that CA,
 * and one from a CA of its own, in a new temporary directory (removed by the caller).
 */
export function makeCertificates(): TestCertificates {
  const dir = mkdtempSync(join(tmpdir(), 'ipam-tls-'));
  const ca = (name: string): void => {
    openssl(
      ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', `/CN=${name}`]
        .concat(['-keyout', `${name}.key`, '-out', `${name}.pem`])
        .concat(['-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign']),
      dir,
    );
  };
  const leaf = (name: string, caName: string, ext: string): void => {
    openssl(
      [
        'req',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-subj',
        `/CN=${name}`,
        '-keyout',
        `${name}.key`,
        '-out',
        `${name}.csr`,
      ],
      dir,
    );
    writeFileSync(join(dir, `${name}.ext`), ext);
    openssl(
      [
        'x509',
        '-req',
        '-in',
        `${name}.csr`,
        '-CA',
        `${caName}.pem`,
        '-CAkey',
        `${caName}.key`,
        '-CAcreateserial',
      ].concat(['-days', '2', '-out', `${name}.pem`, '-extfile', `${name}.ext`]),
      dir,
    );
  };
  ca('ca');
  ca('stranger-ca');
  leaf('server', 'ca', 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n');
  leaf('client', 'ca', 'extendedKeyUsage=clientAuth\n');
  leaf('stranger', 'stranger-ca', 'extendedKeyUsage=clientAuth\n');
  const at = (f: string): string => join(dir, f);
  return {
    dir,
    ca: at('ca.pem'),
    serverCert: at('server.pem'),
    serverKey: at('server.key'),
    clientCert: at('client.pem'),
    clientKey: at('client.key'),
    strangerCert: at('stranger.pem'),
    strangerKey: at('stranger.key'),
  };
}

export interface SecuredNats {
  readonly url: string;
  readonly server: NatsServerHandle;
  /** the certificates when started with TLS */
  readonly certs: TestCertificates | null;
  password(role: Role): string;
  /** Connects as `role` (user, password, inbox prefix; client certificate under TLS); closed by stop(). */
  connectAs(role: Role, opts?: Partial<NodeConnectionOptions>): Promise<NatsConnection>;
  /** The NATS_* variables of a process (the service, the CLI) running as `role`. */
  envOf(role: Role): Record<string, string>;
  stop(): Promise<void>;
}

export interface SecuredNatsOptions {
  tls?: boolean;
  /**
   * Edits the users and their permissions: the server runs from a copy of deploy/nats's
   * configuration files, in a temporary directory (removed by stop()), whose ipam-users.conf is
   * `usersConf` of the shipped text.
   */
  usersConf?: (text: string) => string;
}

/**
 * A copy of deploy/nats's configuration files (*.conf) in a new temporary directory, ipam-users.conf
 * edited by `edit`.
 */
function editedConfigDir(edit: (text: string) => string): string {
  const dir = mkdtempSync(join(tmpdir(), 'ipam-nats-conf-'));
  for (const f of readdirSync(DEPLOY_NATS)) {
    if (f.endsWith('.conf')) copyFileSync(join(DEPLOY_NATS, f), join(dir, f));
  }
  const users = join(dir, 'ipam-users.conf');
  writeFileSync(users, edit(readFileSync(users, 'utf8')));
  return dir;
}

/**
 * Starts nats-server with deploy/nats/nats-server.conf (with `tls`: nats-server-tls.conf and
 * certificates made here; with `usersConf`: a copy whose ipam-users.conf is edited). Passwords are
 * fresh random hex strings, given through the environment as the configuration expects.
 */
export async function startSecuredNats(opts: SecuredNatsOptions = {}): Promise<SecuredNats> {
  const storeDir = mkdtempSync(join(tmpdir(), 'ipam-secure-nats-'));
  const certs = opts.tls ? makeCertificates() : null;
  const confDir = opts.usersConf ? editedConfigDir(opts.usersConf) : null;
  const passwords = new Map<Role, string>();
  const env: Record<string, string> = { NATS_STORE_DIR: storeDir };
  for (const role of Object.keys(USERS) as Role[]) {
    // nats-server reads an unquoted value that starts with a digit as a number: start with a letter
    const pw = `p${randomBytes(18).toString('hex')}`;
    passwords.set(role, pw);
    env[USERS[role].passwordVar] = pw;
  }
  if (certs) {
    env.NATS_SERVER_TLS_CERT = JSON.stringify(certs.serverCert);
    env.NATS_SERVER_TLS_KEY = JSON.stringify(certs.serverKey);
    env.NATS_SERVER_TLS_CA = JSON.stringify(certs.ca);
  }
  let server: NatsServerHandle;
  try {
    server = await startNatsServer({
      port: 0,
      storeDir,
      storeDirArg: false,
      configFile: join(confDir ?? DEPLOY_NATS, certs ? 'nats-server-tls.conf' : 'nats-server.conf'),
      env,
    });
  } catch (err) {
    rmSync(storeDir, { recursive: true, force: true });
    if (certs) rmSync(certs.dir, { recursive: true, force: true });
    if (confDir) rmSync(confDir, { recursive: true, force: true });
    throw err;
  }
  const clients = new Set<NatsConnection>();
  let stopped = false;
  const password = (role: Role): string => passwords.get(role) as string;
  const tlsOptions = (): NodeConnectionOptions['tls'] =>
    certs ? { caFile: certs.ca, certFile: certs.clientCert, keyFile: certs.clientKey } : undefined;
  return {
    url: server.url,
    server,
    certs,
    password,
    async connectAs(role, copts = {}) {
      if (stopped) throw new Error('the secured nats-server is stopped');
      const nc = await connect({
        servers: server.url,
        name: `jest-${role}`,
        user: USERS[role].user,
        pass: password(role),
        inboxPrefix: USERS[role].inboxPrefix,
        tls: tlsOptions(),
        timeout: 5000,
        maxReconnectAttempts: 5,
        reconnectTimeWait: 100,
        ...copts,
      });
      clients.add(nc);
      void nc.closed().then(() => clients.delete(nc));
      return nc;
    },
    envOf(role) {
      const e: Record<string, string> = {
        NATS_URL: server.url,
        NATS_USER: USERS[role].user,
        NATS_PASSWORD: password(role),
        NATS_INBOX_PREFIX: USERS[role].inboxPrefix,
      };
      if (certs) {
        e.NATS_TLS_CA = certs.ca;
        e.NATS_TLS_CERT = certs.clientCert;
        e.NATS_TLS_KEY = certs.clientKey;
      }
      return e;
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      await Promise.allSettled([...clients].map((nc) => (nc.isClosed() ? Promise.resolve() : nc.close())));
      await server.stop();
      rmSync(storeDir, { recursive: true, force: true });
      if (certs) rmSync(certs.dir, { recursive: true, force: true });
      if (confDir) rmSync(confDir, { recursive: true, force: true });
    },
  };
}
