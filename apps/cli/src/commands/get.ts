/**
 * `ipam get pools | pool NAME | lbs | lb NAME`: the service's queries, as tables (-o wide: more columns),
 * as `kind/name` lines (-o name) or as -o json|yaml, with kubectl's habits: a list in one namespace
 * (`-n`, "default" unless given) or in all (`-A`), singular and plural words alike.
 */
import {
  parseAddress,
  type IPPoolView,
  type LoadBalancerView,
} from '../../../../libs/ipam-domain/src/index.js';
import { CliError, CliIo, EXIT_FAILED, EXIT_OK, printError, println, UsageError } from '../io.js';
import { isQueryError, withClient, type CliClient } from '../nats-client.js';
import {
  bool,
  GLOBAL_HELP,
  noMorePositionals,
  OUTPUT_OPTION,
  outputFormat,
  parseCommand,
  str,
  type OutputFormat,
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

export const DEFAULT_NAMESPACE = 'default';

export const GET_USAGE = `Usage:
  ipam get pools [-o FORMAT]                         every pool
  ipam get pool NAME [-o FORMAT]                     one pool (with -o json|yaml: the IPPool with its status)
  ipam get lbs [-n NAMESPACE | -A] [--pool POOL] [-o FORMAT]
                                                     the load balancers holding an address
  ipam get lb NAME [-n NAMESPACE] [-o FORMAT]        the address a load balancer holds
  ipam get lb NAMESPACE/NAME [-o FORMAT]

Pool table columns: NAME NETWORK PRIORITY SCOPE RANGES USED/TOTAL (then how many addresses are excluded
and "disabled" for a pool with autoAssign false, when so); -o wide adds AVAILABLE
LAST-ALLOCATED AUTO-ASSIGN EXCLUDED VERSION and shows each range's subnet. SCOPE lists the scope tuples
(project=..,namespace=..,cluster=..; fields that are "" left out; * is the global scope). A range with
rangeStart/rangeEnd is shown as start-end, one without as its subnet.
Load balancer columns: NAME (namespace/name) POOL IP (every address of a dual-stack load balancer) MASK
GATEWAY; -o wide adds PREFIX ADDRESSES
SHARING-KEY SHARED-WITH. Lists are in name order; "get lbs" without -n or -A lists the namespace
"${DEFAULT_NAMESPACE}", as kubectl does, and a NAME without a namespace is in it too.
Exits 1 when the pool or load balancer is not found.

Options:
  -o, --output FORMAT    json, yaml, wide (more columns) or name (ippool/NAME, loadbalancer/NS/NAME)
  -n, --namespace NS     the namespace (lbs, lb NAME)
  -A, --all-namespaces   every namespace (lbs)
  --pool POOL            only load balancers holding an address of this pool (lbs)
  --chunk-size N         ask the service for lists N at a time (lbs; default 500)
${GLOBAL_HELP}`;

const OPTIONS = {
  ...OUTPUT_OPTION,
  namespace: { type: 'string', short: 'n' },
  'all-namespaces': { type: 'boolean', short: 'A' },
  pool: { type: 'string' },
  'chunk-size': { type: 'string' },
} as const;

const FORMATS: OutputFormat[] = ['table', 'json', 'yaml', 'wide', 'name'];
const POOL_KINDS = ['pools', 'pool', 'ippool', 'ippools'];
const LB_KINDS = ['lb', 'lbs', 'loadbalancer', 'loadbalancers'];
/** a page of `ipam.query.lbs` (kubectl's --chunk-size default) */
const LIST_CHUNK = 500;

function chunkSize(text: string | undefined): number {
  if (text === undefined) return LIST_CHUNK;
  const n = Number(text);
  if (!/^\d+$/.test(text) || n < 1 || n > 1000) {
    throw new UsageError(`--chunk-size "${text}" is not a whole number from 1 to 1000`, 'get');
  }
  return n;
}

export const POOL_HEADERS = ['NAME', 'NETWORK', 'PRIORITY', 'SCOPE', 'RANGES', 'USED/TOTAL'];
export const POOL_WIDE_HEADERS = [
  ...POOL_HEADERS,
  'AVAILABLE',
  'LAST-ALLOCATED',
  'AUTO-ASSIGN',
  'EXCLUDED',
  'VERSION',
];

/** How many addresses status.excluded ("a" or "a-b" runs) names. */
export function excludedCount(excluded: string[] | undefined): bigint {
  let n = 0n;
  for (const run of excluded ?? []) {
    const [a, b = a] = run.split('-');
    n += parseAddress(b) - parseAddress(a) + 1n;
  }
  return n;
}

/** USED/TOTAL, and after it what else a pool's status says: its excluded count, disabled. */
function usedCell(p: IPPoolView): string {
  const notes: string[] = [];
  const excluded = excludedCount(p.status?.excluded);
  if (excluded > 0n) notes.push(`${excluded} excluded`);
  if (p.spec.autoAssign === false) notes.push('disabled');
  return [usedOfTotal(p.status), ...notes].join(', ');
}

export function poolRow(p: IPPoolView, wide = false): string[] {
  const row = [
    p.metadata.name,
    p.spec.selector.network || NONE,
    String(p.spec.selector.priority ?? 0),
    formatScope(p.spec.selector.scope),
    formatRanges(p.metadata.name, p.spec, wide),
    usedCell(p),
  ];
  if (!wide) return row;
  const excluded = p.status?.excluded ?? [];
  return [
    ...row,
    String(p.status?.available ?? '?'),
    p.status?.lastAllocated || NONE,
    String(p.spec.autoAssign !== false),
    excluded.length > 0 ? excluded.join(',') : NONE,
    p.metadata.resourceVersion ?? '',
  ];
}

export const LB_HEADERS = ['NAME', 'POOL', 'IP', 'MASK', 'GATEWAY'];
export const LB_WIDE_HEADERS = [...LB_HEADERS, 'PREFIX', 'ADDRESSES', 'SHARING-KEY', 'SHARED-WITH'];

export function lbRow(
  v: Pick<LoadBalancerView, 'loadBalancer' | 'ipPool' | 'ip' | 'mask' | 'gateway'> &
    Partial<Pick<LoadBalancerView, 'prefixLength' | 'addresses' | 'sharingKey' | 'sharedWith'>>,
  wide = false,
): string[] {
  const row = [v.loadBalancer, v.ipPool, v.ip, v.mask, orDash(v.gateway)];
  // a dual-stack load balancer's every address (-o wide: in ADDRESSES)
  if (!wide)
    return v.addresses && v.addresses.length > 1
      ? [...row.slice(0, 2), v.addresses.map((a) => a.ip).join(','), ...row.slice(3)]
      : row;
  const addresses = v.addresses && v.addresses.length > 0 ? v.addresses.map((a) => a.ip) : [v.ip];
  return [
    ...row,
    v.prefixLength === undefined ? '-' : String(v.prefixLength),
    addresses.join(','),
    v.sharingKey ?? NONE,
    v.sharedWith && v.sharedWith.length > 0 ? v.sharedWith.join(',') : NONE,
  ];
}

/** Prints pools or load balancers in `format`; a table of none prints `none` on `empty`'s stream. */
function printList<T>(
  io: CliIo,
  format: OutputFormat,
  items: T[],
  how: {
    name: (t: T) => string;
    headers: [string[], string[]];
    row: (t: T, wide: boolean) => string[];
    none: string;
    noneOnStderr: boolean;
  },
): void {
  if (format === 'json' || format === 'yaml') return printStructured(io, format, { items });
  if (format === 'name') {
    for (const t of items) println(io.stdout, how.name(t));
    if (items.length === 0 && how.noneOnStderr) println(io.stderr, how.none);
    return;
  }
  if (items.length === 0) return println(how.noneOnStderr ? io.stderr : io.stdout, how.none);
  const wide = format === 'wide';
  printTable(
    io.stdout,
    how.headers[wide ? 1 : 0],
    items.map((t) => how.row(t, wide)),
  );
}

const poolName = (p: IPPoolView) => `ippool/${p.metadata.name}`;
const lbName = (v: Pick<LoadBalancerView, 'loadBalancer'>) => `loadbalancer/${v.loadBalancer}`;

/** The namespace and name of `get lb TARGET`: NAMESPACE/NAME, or NAME in -n's namespace (or "default"). */
function lbTarget(target: string, namespace: string | undefined): { namespace: string; name: string } {
  const parts = target.split('/');
  if (parts.length === 1 && parts[0] !== '')
    return { namespace: namespace ?? DEFAULT_NAMESPACE, name: parts[0] };
  if (parts.length !== 2 || parts[0] === '' || parts[1] === '') {
    throw new UsageError(`"${target}" is not NAME or NAMESPACE/NAME (for example default/my-lb)`, 'get');
  }
  if (namespace !== undefined && namespace !== parts[0]) {
    throw new UsageError(`"${target}" is not in namespace "${namespace}" (-n); give one of them`, 'get');
  }
  return { namespace: parts[0], name: parts[1] };
}

/** Every load balancer the filters select, a page of LIST_CHUNK at a time. */
async function listLoadBalancers(
  client: CliClient,
  filter: { namespace?: string; pool?: string },
  chunk: number,
): Promise<LoadBalancerView[]> {
  const items: LoadBalancerView[] = [];
  let token: string | undefined;
  const seen = new Set<string>();
  for (;;) {
    const reply = await client.query('lbs', {
      ...filter,
      limit: chunk,
      ...(token !== undefined ? { continue: token } : {}),
    });
    if (isQueryError(reply)) throw new CliError(`ipam.query.lbs: ${reply.error.code}: ${reply.error.reason}`);
    items.push(...reply.items);
    token = reply.continue;
    if (token === undefined) return items;
    if (seen.has(token)) throw new CliError('ipam.query.lbs answered the same continue token twice');
    seen.add(token);
  }
}

export async function getCommand(args: string[], io: CliIo): Promise<number> {
  const p = parseCommand(args, OPTIONS, io, GET_USAGE, 'get');
  if (!p) return EXIT_OK;
  const format = outputFormat(p.values, FORMATS, 'get');
  const [kind, target] = p.positionals;
  if (kind === undefined) throw new UsageError('say what to get: pools, pool NAME, lbs or lb NAME', 'get');
  noMorePositionals(p.positionals, 2, 'get');
  const namespace = str(p.values, 'namespace');
  const all = bool(p.values, 'all-namespaces');
  const pool = str(p.values, 'pool');
  if (namespace === '') throw new UsageError('-n needs a namespace', 'get');
  const chunk = chunkSize(str(p.values, 'chunk-size'));
  if (POOL_KINDS.includes(kind)) {
    for (const [given, option] of [
      [namespace !== undefined, '-n'],
      [all, '-A'],
      [pool !== undefined, '--pool'],
    ] as const) {
      if (given) throw new UsageError(`${option} is for load balancers (get lbs), not pools`, 'get');
    }
    return withClient(p.global, io, async (client) => {
      if (target === undefined) {
        const reply = await client.query('pools', {});
        if (isQueryError(reply))
          throw new CliError(`ipam.query.pools: ${reply.error.code}: ${reply.error.reason}`);
        printList(io, format, reply.items ?? [], {
          name: poolName,
          headers: [POOL_HEADERS, POOL_WIDE_HEADERS],
          row: poolRow,
          none: 'No pools.',
          noneOnStderr: false,
        });
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
      if (format === 'json' || format === 'yaml') printStructured(io, format, reply);
      else if (format === 'name') println(io.stdout, poolName(reply));
      else
        printTable(io.stdout, format === 'wide' ? POOL_WIDE_HEADERS : POOL_HEADERS, [
          poolRow(reply, format === 'wide'),
        ]);
      return EXIT_OK;
    });
  }
  if (LB_KINDS.includes(kind)) {
    if (all && namespace !== undefined) throw new UsageError('give -n NAMESPACE or -A, not both', 'get');
    if (target === undefined) {
      const ns = all ? undefined : (namespace ?? DEFAULT_NAMESPACE);
      return withClient(p.global, io, async (client) => {
        const items = await listLoadBalancers(
          client,
          { ...(ns !== undefined ? { namespace: ns } : {}), ...(pool !== undefined ? { pool } : {}) },
          chunk,
        );
        const where = `${ns === undefined ? '' : ` in namespace ${ns}`}${pool === undefined ? '' : ` holding an address of pool ${pool}`}`;
        printList(io, format, items, {
          name: lbName,
          headers: [LB_HEADERS, LB_WIDE_HEADERS],
          row: lbRow,
          none: `No load balancers${where}.`,
          noneOnStderr: true,
        });
        return EXIT_OK;
      });
    }
    if (all) throw new UsageError('-A is for lists (get lbs), not one load balancer', 'get');
    if (pool !== undefined)
      throw new UsageError('--pool is for lists (get lbs), not one load balancer', 'get');
    const lb = lbTarget(target, namespace);
    const key = `${lb.namespace}/${lb.name}`;
    return withClient(p.global, io, async (client) => {
      const reply = await client.query('lb', lb);
      if (isQueryError(reply)) {
        if (reply.error.code === 'UnknownLoadBalancer') {
          printError(io, `loadbalancer/${key} holds no address`);
          return EXIT_FAILED;
        }
        throw new CliError(`ipam.query.lb: ${reply.error.code}: ${reply.error.reason}`);
      }
      if (format === 'json' || format === 'yaml') printStructured(io, format, reply);
      else if (format === 'name') println(io.stdout, lbName(reply));
      else
        printTable(io.stdout, format === 'wide' ? LB_WIDE_HEADERS : LB_HEADERS, [
          lbRow(reply, format === 'wide'),
        ]);
      return EXIT_OK;
    });
  }
  throw new UsageError(`unknown resource "${kind}"; use pools, pool NAME, lbs or lb NAME`, 'get');
}
