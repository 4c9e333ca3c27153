/**
 * Unknown fields of an IPPool object (semantics section 9). Kubernetes drops the fields an object's
 * schema does not know, and clients written against it send some (Harvester's own tests put
 * `type: range|cidr` on ranges), so one rule holds at every level of the object: a field not listed
 * here is dropped, whatever its value, and named in a warning of the pool's `ipam.pool.accepted`.
 * `parsePool` reads only the fields listed here; this module only names the others.
 */

/** One level of the object: the fields it knows, and those that are objects (or lists of them) in turn. */
interface Level {
  readonly known: ReadonlySet<string>;
  readonly objects?: Readonly<Record<string, Level>>;
  /** lists of objects; a single object stands for a list of one (the doc page's `scope` shorthand) */
  readonly lists?: Readonly<Record<string, Level>>;
}

/**
 * Kubernetes' standard ObjectMeta fields: kubectl sends them (a `get -o yaml` output carries most) and
 * never warns about them, so neither do we; only `metadata.name` is read.
 */
const OBJECT_META = [
  'name',
  'generateName',
  'namespace',
  'selfLink',
  'uid',
  'resourceVersion',
  'generation',
  'creationTimestamp',
  'deletionTimestamp',
  'deletionGracePeriodSeconds',
  'labels',
  'annotations',
  'ownerReferences',
  'finalizers',
  'managedFields',
  // who asked (an addition of this service's contract): repeated on the outcome
  'actor',
];

const SCOPE_TUPLE: Level = { known: new Set(['project', 'namespace', 'guestCluster', 'cluster']) };
const RANGE: Level = { known: new Set(['subnet', 'rangeStart', 'rangeEnd', 'gateway', 'exclude']) };
const SELECTOR: Level = { known: new Set(['priority', 'network', 'scope']), lists: { scope: SCOPE_TUPLE } };
const SPEC: Level = {
  known: new Set(['description', 'ranges', 'selector', 'autoAssign']),
  objects: { selector: SELECTOR },
  lists: { ranges: RANGE },
};
/** `status` is the server's answer, not input: `kubectl apply` of a `get -o yaml` output sends it. */
const IPPOOL: Level = {
  known: new Set(['apiVersion', 'kind', 'metadata', 'spec', 'status']),
  objects: { metadata: { known: new Set(OBJECT_META) }, spec: SPEC },
};

/**
 * At most this many fields are named one by one, the rest counted in one last warning: an outcome is
 * one NATS message, and a body of many tiny unknown keys would otherwise make it several times the
 * size of the body.
 */
export const MAX_NAMED_UNKNOWN_FIELDS = 20;

/** The warning for one dropped field; `path` as `fieldPath` writes it. */
export function unknownFieldWarning(path: string): string {
  return `unknown field "${path}" was dropped`;
}

const PLAIN_KEY = /^[A-Za-z_][A-Za-z0-9_-]*$/;

/** `spec.ranges[0].type`; a key that is not a plain word is written as a JSON string in brackets. */
function fieldPath(parent: string, key: string): string {
  if (!PLAIN_KEY.test(key)) return `${parent}[${JSON.stringify(key)}]`;
  return parent === '' ? key : `${parent}.${key}`;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function collect(value: Record<string, unknown>, level: Level, path: string, out: string[]): void {
  for (const key of Object.keys(value)) {
    if (!level.known.has(key)) {
      out.push(fieldPath(path, key));
      continue;
    }
    const child = value[key];
    const object = level.objects?.[key];
    if (object !== undefined && isObject(child)) collect(child, object, fieldPath(path, key), out);
    const item = level.lists?.[key];
    if (item === undefined) continue;
    if (Array.isArray(child)) {
      child.forEach((c, i) => {
        if (isObject(c)) collect(c, item, `${fieldPath(path, key)}[${i}]`, out);
      });
    } else if (isObject(child)) {
      collect(child, item, fieldPath(path, key), out);
    }
  }
}

/**
 * The warnings for the fields of an IPPool object that this service does not know, in the order they
 * appear; empty when there are none. Values that are not objects where one is expected are the parser's
 * to reject, not named here.
 */
export function unknownPoolFields(body: unknown): string[] {
  if (!isObject(body)) return [];
  const paths: string[] = [];
  collect(body, IPPOOL, '', paths);
  if (paths.length <= MAX_NAMED_UNKNOWN_FIELDS) return paths.map(unknownFieldWarning);
  const named = paths.slice(0, MAX_NAMED_UNKNOWN_FIELDS - 1).map(unknownFieldWarning);
  const more = paths.length - named.length;
  return [...named, `${more} more unknown fields were dropped`];
}
