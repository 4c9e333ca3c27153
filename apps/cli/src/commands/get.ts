/**
 * `ipam get pools | pool NAME | lb NAMESPACE/NAME`: the service's queries, as tables or -o json|yaml.
 */
import type { IPPoolView, LoadBalancerView } from '../../../../libs/ipam-domain/src/index.js';
import { CliError, CliIo, EXIT_FAILED, EXIT_OK, printError, UsageError } from '../io.js';
import { isQueryError, withClient } from '../nats-client.js';
import {
  GLOBAL_HELP,
  noMorePositionals,
  OUTPUT_OPTION,
  outputFormat,
  parseCommand,
  parseLbKey,
} from '../options.js';
import {
  formatRanges,
  formatScope,
  NONE,
  orDash,
  printStructured,
  printTable,
  usedOfTotal,
} from '../output.js';

export const GET_USAGE = `Usage:
  ipam get pools [-o json|yaml]              every pool
  ipam get pool NAME [-o json|yaml]          one pool (with -o: the IPPool object with its status)
  ipam get lb NAMESPACE/NAME [-o json|yaml]  the address a load balancer holds

Pool table columns: NAME NETWORK PRIORITY SCOPE RANGES USED/TOTAL. SCOPE lists the scope tuples
(project=..,namespace=..,cluster=..; fields that are "" left out; * is the global scope). A range with
rangeStart/rangeEnd is shown as start-end, one without as its subnet.
Exits 1 when the pool or load balancer is not found.

Options:
  -o, --output FORMAT  json or yaml instead of a table
${GLOBAL_HELP}`;

const POOL_KINDS = ['pools', 'pool', 'ippool', 'ippools'];
const LB_KINDS = ['lb', 'lbs', 'loadbalancer', 'loadbalancers'];

export const POOL_HEADERS = ['NAME', 'NETWORK', 'PRIORITY', 'SCOPE', 'RANGES', 'USED/TOTAL'];

export function poolRow(p: IPPoolView): string[] {
  return [
    p.metadata.name,
    p.spec.selector.network || NONE,
    String(p.spec.selector.priority ?? 0),
    formatScope(p.spec.selector.scope),
    formatRanges(p.metadata.name, p.spec),
    usedOfTotal(p.status),
  ];
}

export const LB_HEADERS = ['NAME', 'POOL', 'IP', 'MASK', 'GATEWAY'];

export function lbRow(
  v: Pick<LoadBalancerView, 'loadBalancer' | 'ipPool' | 'ip' | 'mask' | 'gateway'>,
): string[] {
  return [v.loadBalancer, v.ipPool, v.ip, v.mask, orDash(v.gateway)];
}

export async function getCommand(args: string[], io: CliIo): Promise<number> {
  const p = parseCommand(args, OUTPUT_OPTION, io, GET_USAGE, 'get');
  if (!p) return EXIT_OK;
  const format = outputFormat(p.values, ['table', 'json', 'yaml'], 'get');
  const [kind, target] = p.positionals;
  if (kind === undefined)
    throw new UsageError('say what to get: pools, pool NAME or lb NAMESPACE/NAME', 'get');
  noMorePositionals(p.positionals, 2, 'get');
  if (POOL_KINDS.includes(kind)) {
    return withClient(p.global, io, async (client) => {
      if (target === undefined) {
        const reply = await client.query('pools', {});
        if (isQueryError(reply))
          throw new CliError(`ipam.query.pools: ${reply.error.code}: ${reply.error.reason}`);
        const items = reply.items ?? [];
        if (format !== 'table') printStructured(io, format, { items });
        else if (items.length === 0) io.stdout.write('No pools.\n');
        else printTable(io.stdout, POOL_HEADERS, items.map(poolRow));
        return EXIT_OK;
      }
      const reply = await client.query('pool', { name: target });
      if (isQueryError(reply)) {
        if (reply.error.code === 'UnknownPool') {
          printError(io, `ippool/${target} not found`);
          return EXIT_FAILED;
        }
        throw new CliError(`ipam.query.pool: ${reply.error.code}: ${reply.error.reason}`);
      }
      if (format !== 'table') printStructured(io, format, reply);
      else printTable(io.stdout, POOL_HEADERS, [poolRow(reply)]);
      return EXIT_OK;
    });
  }
  if (LB_KINDS.includes(kind)) {
    if (target === undefined) {
      throw new UsageError(
        'give the load balancer as NAMESPACE/NAME (there is no list of load balancers)',
        'get',
      );
    }
    const lb = parseLbKey(target, 'get');
    return withClient(p.global, io, async (client) => {
      const reply = await client.query('lb', { namespace: lb.namespace, name: lb.name });
      if (isQueryError(reply)) {
        if (reply.error.code === 'UnknownLoadBalancer') {
          printError(io, `loadbalancer/${lb.key} holds no address`);
          return EXIT_FAILED;
        }
        throw new CliError(`ipam.query.lb: ${reply.error.code}: ${reply.error.reason}`);
      }
      if (format !== 'table') printStructured(io, format, reply);
      else printTable(io.stdout, LB_HEADERS, [lbRow(reply)]);
      return EXIT_OK;
    });
  }
  throw new UsageError(`unknown resource "${kind}"; use pools, pool NAME or lb NAMESPACE/NAME`, 'get');
}
