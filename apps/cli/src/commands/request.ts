/**
 * `ipam request lb NAMESPACE/NAME`: publishes LBRequested (a LoadBalancer object built from the options)
 * and prints the allocation or the rejection.
 */
import { ANNOTATION_PREFIX } from '../../../../libs/ipam-domain/src/index.js';
import { CliIo, EXIT_FAILED, EXIT_OK, println, UsageError } from '../io.js';
import { withClient } from '../nats-client.js';
import {
  GLOBAL_HELP,
  noMorePositionals,
  OUTPUT_OPTION,
  outputFormat,
  parseCommand,
  parseLbKey,
  str,
  strs,
} from '../options.js';
import { orDash, printStructured, printTable } from '../output.js';

export const REQUEST_USAGE = `Usage: ipam request lb NAMESPACE/NAME [options]

Asks for an address for a load balancer (publishes LBRequested) and prints the allocation:
NAME POOL IP MASK GATEWAY FROM-HISTORY, a row per address (two for a dual-stack load balancer), then
"shared with: NS/NAME, ..." when other load balancers hold its address under its sharing key. A load
balancer that already holds an address gets the same one again. Exits 1 when the request is rejected (for example NoMatchingPool or PoolExhausted).

Options:
  --pool POOL              take the address from this pool (skips pool selection)
  --ip ADDRESS             ask for exactly this address
  --annotation KEY=VALUE   an annotation of the load balancer (repeatable); a key without a prefix gets
                           ${ANNOTATION_PREFIX}, e.g. --annotation network=default/vlan1
                           (network, project, namespace and cluster choose the pool)
  --workload-type vm|cluster   the load balancer's workload type (default vm)
  --sharing-key KEY        share an address with the load balancers of its namespace under KEY
                           (spec.sharingKey): a later one gets the address the key holds
  --ip-family IPv4|IPv6    an address of this family (repeatable, in order of preference: both give
                           a dual-stack load balancer one address of each; spec.ipFamilies)
  -o, --output FORMAT      json or yaml: the outcome event's body
${GLOBAL_HELP}`;

const OPTIONS = {
  pool: { type: 'string' },
  ip: { type: 'string' },
  annotation: { type: 'string', multiple: true },
  'workload-type': { type: 'string' },
  'sharing-key': { type: 'string' },
  'ip-family': { type: 'string', multiple: true },
  ...OUTPUT_OPTION,
} as const;

export function parseAnnotations(items: string[], command = 'request'): Record<string, string> {
  const out: Record<string, string> = {};
  for (const item of items) {
    const eq = item.indexOf('=');
    if (eq <= 0) throw new UsageError(`--annotation "${item}" is not KEY=VALUE`, command);
    const key = item.slice(0, eq).trim();
    out[key.includes('/') ? key : `${ANNOTATION_PREFIX}${key}`] = item.slice(eq + 1);
  }
  return out;
}

export async function requestCommand(args: string[], io: CliIo): Promise<number> {
  const p = parseCommand(args, OPTIONS, io, REQUEST_USAGE, 'request');
  if (!p) return EXIT_OK;
  const format = outputFormat(p.values, ['table', 'json', 'yaml'], 'request');
  const [kind, target] = p.positionals;
  if (kind === undefined) throw new UsageError('say what to request: lb NAMESPACE/NAME', 'request');
  if (!['lb', 'loadbalancer'].includes(kind))
    throw new UsageError(`cannot request "${kind}"; use lb NAMESPACE/NAME`, 'request');
  noMorePositionals(p.positionals, 2, 'request');
  const lb = parseLbKey(target, 'request');
  const workloadType = str(p.values, 'workload-type');
  if (workloadType !== undefined && workloadType !== 'vm' && workloadType !== 'cluster') {
    throw new UsageError(`--workload-type must be vm or cluster, not "${workloadType}"`, 'request');
  }
  const annotations = parseAnnotations(strs(p.values, 'annotation'));
  const spec: Record<string, string | string[]> = {};
  const sharingKey = str(p.values, 'sharing-key');
  if (sharingKey !== undefined) {
    if (sharingKey === '') throw new UsageError('--sharing-key must not be empty', 'request');
    spec.sharingKey = sharingKey;
  }
  const families = strs(p.values, 'ip-family');
  for (const f of families) {
    if (f !== 'IPv4' && f !== 'IPv6')
      throw new UsageError(`--ip-family must be IPv4 or IPv6, not "${f}"`, 'request');
  }
  if (new Set(families).size !== families.length)
    throw new UsageError('--ip-family: give each family once', 'request');
  if (families.length > 0) spec.ipFamilies = families;
  if (workloadType !== undefined) spec.workloadType = workloadType;
  const pool = str(p.values, 'pool');
  if (pool !== undefined) spec.ipPool = pool;
  const ip = str(p.values, 'ip');
  if (ip !== undefined) spec.ip = ip;
  const body = {
    metadata: {
      namespace: lb.namespace,
      name: lb.name,
      ...(Object.keys(annotations).length > 0 ? { annotations } : {}),
    },
    ...(Object.keys(spec).length > 0 ? { spec } : {}),
  };
  return withClient(p.global, io, async (client) => {
    const { outcome } = await client.publishAndWait('ipam.lb.requested', body);
    if (outcome.subject === 'ipam.ip.allocated') {
      const a = outcome.body;
      if (format !== 'table') printStructured(io, format, a);
      else {
        // a dual-stack load balancer: a row per address; the other holders of a shared address after
        const rows = (a.addresses ?? [a]).map((x) => [
          a.loadBalancer,
          x.ipPool,
          x.ip,
          x.mask,
          orDash(x.gateway),
          String(x.fromHistory),
        ]);
        printTable(io.stdout, ['NAME', 'POOL', 'IP', 'MASK', 'GATEWAY', 'FROM-HISTORY'], rows);
        if (a.sharedWith && a.sharedWith.length > 0)
          println(io.stdout, `shared with: ${a.sharedWith.join(', ')}`);
      }
      return EXIT_OK;
    }
    if (format !== 'table') printStructured(io, format, outcome.body);
    println(io.stderr, `loadbalancer/${lb.key} rejected: ${outcome.body.code}: ${outcome.body.reason}`);
    return EXIT_FAILED;
  });
}
