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
NAME POOL IP MASK GATEWAY FROM-HISTORY. A load balancer that already holds an address gets the same
one again. Exits 1 when the request is rejected (for example NoMatchingPool or PoolExhausted).

Options:
  --pool POOL              take the address from this pool (skips pool selection)
  --ip ADDRESS             ask for exactly this address
  --annotation KEY=VALUE   an annotation of the load balancer (repeatable); a key without a prefix gets
                           ${ANNOTATION_PREFIX}, e.g. --annotation network=default/vlan1
                           (network, project, namespace and cluster choose the pool)
  --workload-type vm|cluster   the load balancer's workload type (default vm)
  -o, --output FORMAT      json or yaml: the outcome event's body
${GLOBAL_HELP}`;

const OPTIONS = {
  pool: { type: 'string' },
  ip: { type: 'string' },
  annotation: { type: 'string', multiple: true },
  'workload-type': { type: 'string' },
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
  const spec: Record<string, string> = {};
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
        printTable(
          io.stdout,
          ['NAME', 'POOL', 'IP', 'MASK', 'GATEWAY', 'FROM-HISTORY'],
          [[a.loadBalancer, a.ipPool, a.ip, a.mask, orDash(a.gateway), String(a.fromHistory)]],
        );
      }
      return EXIT_OK;
    }
    if (format !== 'table') printStructured(io, format, outcome.body);
    println(io.stderr, `loadbalancer/${lb.key} rejected: ${outcome.body.code}: ${outcome.body.reason}`);
    return EXIT_FAILED;
  });
}
