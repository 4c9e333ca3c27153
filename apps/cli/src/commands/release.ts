/**
 * `ipam release lb NAMESPACE/NAME` (LBDeleted: the address goes to the pool's history) and
 * `ipam release ip IP [--pool P]` (an operator's force-release: ipam.ip.releaserequested).
 */
import { AddressSyntaxError, formatAddress, parseAddress } from '../../../../libs/ipam-domain/src/index.js';
import { CliIo, EXIT_FAILED, EXIT_OK, println, UsageError } from '../io.js';
import { withClient } from '../nats-client.js';
import { GLOBAL_HELP, noMorePositionals, parseCommand, parseLbKey, str } from '../options.js';

export const RELEASE_USAGE = `Usage:
  ipam release lb NAMESPACE/NAME   the load balancer is deleted: its address is released to the
                                   pool's history (publishes LBDeleted)
  ipam release ip IP [--pool P]    force-release an address whoever holds it (an operator's
                                   manuallyReleaseIP; publishes ipam.ip.releaserequested)

Prints what was released, or the rejection (exit 1).

Options:
  --pool POOL   (release ip) only release the address in this pool
${GLOBAL_HELP}`;

export async function releaseCommand(args: string[], io: CliIo): Promise<number> {
  const p = parseCommand(args, { pool: { type: 'string' } }, io, RELEASE_USAGE, 'release');
  if (!p) return EXIT_OK;
  const [kind, target] = p.positionals;
  if (kind === undefined) throw new UsageError('say what to release: lb NAMESPACE/NAME or ip IP', 'release');
  noMorePositionals(p.positionals, 2, 'release');
  const pool = str(p.values, 'pool');
  if (kind === 'lb' || kind === 'loadbalancer') {
    if (pool !== undefined)
      throw new UsageError('--pool is for release ip; a load balancer releases its own address', 'release');
    const lb = parseLbKey(target, 'release');
    return withClient(p.global, io, async (client) => {
      const { outcome } = await client.publishAndWait('ipam.lb.deleted', {
        metadata: { namespace: lb.namespace, name: lb.name },
      });
      if (outcome.subject === 'ipam.ip.released') {
        const b = outcome.body;
        println(io.stdout, `loadbalancer/${lb.key} released ${b.ip} (pool ${b.ipPool}; kept in its history)`);
        return EXIT_OK;
      }
      println(io.stderr, `loadbalancer/${lb.key} rejected: ${outcome.body.code}: ${outcome.body.reason}`);
      return EXIT_FAILED;
    });
  }
  if (kind === 'ip' || kind === 'address') {
    if (target === undefined) throw new UsageError('give the address to release', 'release');
    let ip: string;
    try {
      ip = formatAddress(parseAddress(target));
    } catch (e) {
      if (e instanceof AddressSyntaxError)
        throw new UsageError(`"${target}" is not an IP address: ${e.message}`, 'release');
      throw e;
    }
    return withClient(p.global, io, async (client) => {
      const { outcome } = await client.publishAndWait('ipam.ip.releaserequested', {
        ip,
        ...(pool !== undefined ? { ipPool: pool } : {}),
      });
      if (outcome.subject === 'ipam.ip.released') {
        const b = outcome.body;
        println(
          io.stdout,
          `ip/${b.ip} released from ${b.loadBalancer} (pool ${b.ipPool}; kept in its history)`,
        );
        return EXIT_OK;
      }
      println(io.stderr, `ip/${ip} rejected: ${outcome.body.code}: ${outcome.body.reason}`);
      return EXIT_FAILED;
    });
  }
  throw new UsageError(`cannot release "${kind}"; use lb NAMESPACE/NAME or ip IP`, 'release');
}
