/**
 * The Create / Edit IP pool form as Harvester's UI lays it out (Name, Description; tab Range with rows
 * of Subnet, Start IP, End IP, Gateway; tab Selector with Priority, Network and scope rows of Project,
 * Namespace, Guest Cluster), to and from the IPPool object, and where a rejection belongs on it.
 */
import type { IPPoolView } from '../../../libs/ipam-contract/src/index.js';

export interface RangeRow {
  subnet: string;
  rangeStart: string;
  rangeEnd: string;
  gateway: string;
  /** spec.ranges[].exclude as typed: addresses, a-b runs and CIDRs, separated by commas or spaces */
  exclude: string;
}

export interface ScopeRow {
  project: string;
  namespace: string;
  guestCluster: string;
}

export interface PoolForm {
  name: string;
  description: string;
  ranges: RangeRow[];
  priority: string;
  network: string;
  /** the global pool: scope project, namespace and guest cluster all "*" */
  global: boolean;
  scope: ScopeRow[];
  /** spec.autoAssign: false, a disabled pool (selection never picks it) */
  autoAssign: boolean;
}

export const API_VERSION = 'loadbalancer.harvesterhci.io/v1beta1';

export const emptyRange = (): RangeRow => ({ subnet: '', rangeStart: '', rangeEnd: '', gateway: '', exclude: '' });
export const emptyScope = (): ScopeRow => ({ project: '', namespace: '', guestCluster: '' });

export function emptyForm(): PoolForm {
  return {
    name: '',
    description: '',
    ranges: [emptyRange()],
    priority: '0',
    network: '',
    global: false,
    scope: [emptyScope()],
    autoAssign: true,
  };
}

const text = (v: unknown): string => (v === undefined || v === null ? '' : String(v));
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The form of an IPPool object: as the service returns it, or as the doc writes it (scope as one object, `cluster`). */
export function formOf(pool: unknown): PoolForm {
  const p = isObject(pool) ? pool : {};
  const metadata = isObject(p.metadata) ? p.metadata : {};
  const spec = isObject(p.spec) ? p.spec : {};
  const selector = isObject(spec.selector) ? spec.selector : {};
  const ranges = (Array.isArray(spec.ranges) ? spec.ranges : []).filter(isObject).map((r) => ({
    subnet: text(r.subnet),
    rangeStart: text(r.rangeStart),
    rangeEnd: text(r.rangeEnd),
    gateway: text(r.gateway),
    exclude: Array.isArray(r.exclude) ? r.exclude.map(text).join(', ') : text(r.exclude),
  }));
  const rawScope = selector.scope === undefined || selector.scope === null ? [] : Array.isArray(selector.scope) ? selector.scope : [selector.scope];
  const scope = rawScope.filter(isObject).map((t) => ({
    project: text(t.project),
    namespace: text(t.namespace),
    guestCluster: text(t.guestCluster ?? t.cluster),
  }));
  const global = scope.length === 1 && scope[0].project === '*' && scope[0].namespace === '*' && scope[0].guestCluster === '*';
  return {
    name: text(metadata.name),
    description: text(spec.description),
    ranges: ranges.length > 0 ? ranges : [emptyRange()],
    priority: selector.priority === undefined || selector.priority === null ? '0' : text(selector.priority),
    network: text(selector.network),
    global,
    scope: global ? [emptyScope()] : scope.length > 0 ? scope : [emptyScope()],
    autoAssign: spec.autoAssign !== false,
  };
}

/** The IPPool object of the form (blank fields left out, as the doc writes them). */
export function poolOf(form: PoolForm): Record<string, unknown> {
  const ranges = form.ranges
    .filter((r) => r.subnet.trim() || r.rangeStart.trim() || r.rangeEnd.trim() || r.gateway.trim() || r.exclude.trim())
    .map((r) => {
      const out: Record<string, string | string[]> = { subnet: r.subnet.trim() };
      if (r.rangeStart.trim()) out.rangeStart = r.rangeStart.trim();
      if (r.rangeEnd.trim()) out.rangeEnd = r.rangeEnd.trim();
      if (r.gateway.trim()) out.gateway = r.gateway.trim();
      const exclude = r.exclude.split(/[\s,]+/).filter((x) => x !== '');
      if (exclude.length > 0) out.exclude = exclude;
      return out;
    });
  const scope = form.global
    ? [{ project: '*', namespace: '*', guestCluster: '*' }]
    : form.scope
        .filter((t) => t.project.trim() || t.namespace.trim() || t.guestCluster.trim())
        .map((t) => {
          const out: Record<string, string> = {};
          if (t.project.trim()) out.project = t.project.trim();
          if (t.namespace.trim()) out.namespace = t.namespace.trim();
          if (t.guestCluster.trim()) out.guestCluster = t.guestCluster.trim();
          return out;
        });
  const priorityText = String(form.priority ?? '').trim(); // an <input type=number> model may hold a number
  const priority = priorityText === '' ? 0 : /^-?\d+$/.test(priorityText) ? Number(priorityText) : priorityText;
  const selector: Record<string, unknown> = { priority };
  if (form.network.trim()) selector.network = form.network.trim();
  selector.scope = scope;
  const spec: Record<string, unknown> = {};
  if (form.description.trim()) spec.description = form.description.trim();
  spec.ranges = ranges;
  spec.selector = selector;
  if (!form.autoAssign) spec.autoAssign = false;
  return { apiVersion: API_VERSION, kind: 'IPPool', metadata: { name: form.name.trim() }, spec };
}

/** Where on the form a message belongs. */
export type FieldKey =
  | 'name'
  | 'description'
  | 'ranges'
  | `range-${number}`
  | 'priority'
  | 'network'
  | 'scope'
  | `scope-${number}`
  | 'yaml'
  | 'form';

export function tabOf(field: FieldKey): 'range' | 'selector' | null {
  if (field === 'ranges' || field.startsWith('range-')) return 'range';
  if (field === 'priority' || field === 'network' || field === 'scope' || field.startsWith('scope-')) return 'selector';
  return null;
}

/** The field a rejection (or a 400) concerns, from its code and the path its text names. */
export function fieldOf(code: string, detail: string): FieldKey {
  const range = /spec\.ranges\[(\d+)\]/.exec(detail);
  if (range) return `range-${Number(range[1])}`;
  const scope = /spec\.selector\.scope\[(\d+)\]/.exec(detail);
  if (scope) return `scope-${Number(scope[1])}`;
  if (
    code === 'RangeOverlap' ||
    code === 'InvalidRange' ||
    code === 'AllocatedOutOfRange' ||
    code === 'ExcludesAllocated' ||
    /spec\.ranges/.test(detail)
  )
    return 'ranges';
  if (code === 'ScopeOverlap' || code === 'GlobalPoolExists' || /spec\.selector\.scope/.test(detail)) return 'scope';
  if (code === 'DuplicatePriority' || /priority/.test(detail)) return 'priority';
  if (code === 'InvalidNetwork' || /spec\.selector\.network/.test(detail)) return 'network';
  if (code === 'PoolExists' || /metadata\.name/.test(detail)) return 'name';
  if (/spec\.description/.test(detail)) return 'description';
  return 'form';
}

/** What the form must have before it is sent: a name, and a subnet in every range row. */
export function missing(form: PoolForm): Partial<Record<FieldKey, string>> {
  const out: Partial<Record<FieldKey, string>> = {};
  if (!form.name.trim()) out.name = 'Name is required: for example default-ip-pool.';
  form.ranges.forEach((r, i) => {
    if (!r.subnet.trim() && (form.ranges.length === 1 || r.rangeStart || r.rangeEnd || r.gateway))
      out[`range-${i}`] = 'Subnet is required: a CIDR such as 192.168.100.0/24.';
  });
  return out;
}

export type PoolView = IPPoolView;
