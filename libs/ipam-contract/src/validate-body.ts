/**
 * Reading a message body at the boundary: size limit, JSON, then the DTO's shape. Returns the plain
 * object or a reason a person can act on; never throws.
 */
import { plainToInstance } from 'class-transformer';
import { getMetadataStorage, validateSync, ValidationError } from 'class-validator';

export type BodyResult = { ok: true; value: Record<string, unknown> } | { ok: false; reason: string };

const decoder = new TextDecoder('utf-8', { fatal: true });

function flatten(errors: ValidationError[], prefix = ''): string[] {
  const out: string[] = [];
  for (const e of errors) {
    const path =
      prefix === ''
        ? e.property
        : /^\d+$/.test(e.property)
          ? `${prefix}[${e.property}]`
          : `${prefix}.${e.property}`;
    for (const message of Object.values(e.constraints ?? {})) {
      out.push(
        message.startsWith(e.property) ? `${path}${message.slice(e.property.length)}` : `${path}: ${message}`,
      );
    }
    if (e.children && e.children.length > 0) out.push(...flatten(e.children, path));
  }
  return out;
}

/**
 * Bodies nested deeper than this are refused before any validation: class-validator recurses once per
 * level, and a 3 KB body of nested arrays would overflow the stack.
 */
export const MAX_BODY_DEPTH = 64;

/**
 * Whether `value` nests objects and arrays deeper than `limit` levels (the body itself is level 1).
 * Iterative, so any depth can be measured; it stops at the first container past the limit.
 */
export function nestedDeeperThan(value: unknown, limit: number = MAX_BODY_DEPTH): boolean {
  if (typeof value !== 'object' || value === null) return false;
  const nodes: object[] = [value];
  const depths: number[] = [1];
  while (nodes.length > 0) {
    const node = nodes.pop() as object;
    const depth = depths.pop() as number;
    if (depth > limit) return true;
    const children = Array.isArray(node) ? node : Object.values(node);
    for (let i = 0; i < children.length; i++) {
      const c: unknown = children[i];
      if (typeof c === 'object' && c !== null) {
        nodes.push(c);
        depths.push(depth + 1);
      }
    }
  }
  return false;
}

/** The reason given for a body nested deeper than MAX_BODY_DEPTH. */
export const TOO_DEEP_REASON = `the body nests objects or arrays deeper than ${MAX_BODY_DEPTH} levels`;

export function parseJsonBody(data: Uint8Array, maxBytes: number): BodyResult {
  const parsed = parseJsonText(data, maxBytes);
  return parsed.ok ? { ok: true, value: parsed.value } : parsed;
}

/** parseJsonBody, with the text the value was parsed from. */
function parseJsonText(
  data: Uint8Array,
  maxBytes: number,
): { ok: true; value: Record<string, unknown>; text: string } | { ok: false; reason: string } {
  if (data.length > maxBytes) {
    return {
      ok: false,
      reason: `the body is ${data.length} bytes, more than the limit of ${maxBytes} bytes`,
    };
  }
  let text: string;
  try {
    text = decoder.decode(data);
  } catch {
    return { ok: false, reason: 'the body is not UTF-8 text' };
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    return { ok: false, reason: `the body is not valid JSON (${(e as Error).message})` };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return { ok: false, reason: 'the body must be a JSON object' };
  }
  if (nestedDeeperThan(value)) {
    return { ok: false, reason: TOO_DEEP_REASON };
  }
  return { ok: true, value: value as Record<string, unknown>, text };
}

let judgedCount = 0;

/** How many bodies class-validator has judged in this process (the rest came from the memo of readBody). */
export function judged(): number {
  return judgedCount;
}

export function validateShape<T extends object>(
  dto: new () => T,
  value: Record<string, unknown>,
): string | null {
  if (nestedDeeperThan(value)) return TOO_DEEP_REASON;
  judgedCount++;
  const errors = validateSync(plainToInstance(dto, value) as object, {
    forbidUnknownValues: false,
    validationError: { target: false, value: false },
  });
  if (errors.length === 0) return null;
  return `the body does not have the expected shape: ${flatten(errors).join('; ')}`;
}

/**
 * Paths, from the top of a body, of text fields that no rule reads beyond their type and emptiness:
 * their only validators are IsString, IsNotEmpty and IsOptional, and class-transformer hands them to
 * class-validator as they are (a load balancer's namespace and name, say). The verdict of a body is then
 * the same whatever non-empty text such a field holds.
 */
export type FreeTextPaths = ReadonlyArray<readonly string[]>;

const freeText = new Map<new () => object, FreeTextPaths>();

/** Validators that read a text only for its type or emptiness (their messages name the property, not the value). */
const TEXT_BLIND: Record<string, string> = {
  isString: 'customValidation',
  isNotEmpty: 'customValidation',
  isOptional: 'conditionalValidation',
};

/**
 * Declares the free-text paths of a DTO (see FreeTextPaths), checked against the DTO's own metadata:
 * each path must lead through nested DTOs (as class-transformer builds them) to a property whose every
 * validator is in TEXT_BLIND, with no custom message, and whose text class-transformer keeps as it is.
 * Throws otherwise: a rule added later that reads the text must take its path out of the list. What
 * it cannot see: a validator of another property that reads this one through `args.object` (a
 * ValidateIf, a custom constraint), and a transform that changes some texts but not its probe. The
 * input DTOs have neither; a DTO that gains one must not declare the fields it reads.
 */
export function declareFreeText(dto: new () => object, paths: FreeTextPaths): void {
  const probeText = ' Probe/Text ';
  for (const path of paths) {
    const where = `${dto.name}: free-text path ${path.join('.')}`;
    if (path.length === 0) throw new Error(`${where} is empty`);
    const probe: Record<string, unknown> = {};
    let at = probe;
    for (const key of path.slice(0, -1)) at = at[key] = {};
    at[path[path.length - 1]] = probeText;
    let owner: unknown = plainToInstance(dto, probe);
    for (const key of path.slice(0, -1)) owner = (owner as Record<string, unknown> | undefined)?.[key];
    const field = path[path.length - 1];
    if (
      typeof owner !== 'object' ||
      owner === null ||
      (owner as Record<string, unknown>)[field] !== probeText
    ) {
      throw new Error(`${where}: class-transformer does not hand the text over as it is`);
    }
    if (owner.constructor === Object) {
      throw new Error(`${where}: ${path.slice(0, -1).join('.')} is not a nested DTO`);
    }
    const rules = getMetadataStorage()
      .getTargetValidationMetadatas(owner.constructor, '', true, false)
      .filter((m) => m.propertyName === field);
    if (rules.length === 0) throw new Error(`${where}: no validator names this property`);
    for (const m of rules) {
      // (IsOptional's one constraint is its condition: the value is neither null nor undefined)
      const blind =
        m.name !== undefined &&
        TEXT_BLIND[m.name] === m.type &&
        (m.type === 'conditionalValidation' || (m.constraints ?? []).length === 0);
      if (!blind || m.each || m.message !== undefined) {
        throw new Error(`${where}: its validator ${m.name ?? m.type} may read the text`);
      }
    }
  }
  freeText.set(dto, paths);
}

/**
 * Could the text hold a number JSON.parse makes infinite (1e999, or 309 digits and more)? JSON.stringify
 * writes Infinity as null, so such a body is keyed by its text (a string with "1e" in it, too).
 */
function mayOverflow(text: string): boolean {
  return /\d[eE]|\d{300}/.test(text);
}

/**
 * The memo key of a body: its value as JSON, with every text at a free-text path replaced by "" or "-"
 * (empty or not). Objects on the way are copied, the value is left as it is.
 */
function memoKey(value: Record<string, unknown>, paths: FreeTextPaths): string {
  const root: Record<string, unknown> = { ...value };
  for (const path of paths) {
    // walk the value and its copy side by side, copying each object on the way once
    let src: Record<string, unknown> = value;
    let dst: Record<string, unknown> | null = root;
    for (let i = 0; i < path.length - 1 && dst !== null; i++) {
      const key = path[i];
      const child: unknown = src[key];
      if (typeof child !== 'object' || child === null || Array.isArray(child)) {
        dst = null;
      } else {
        src = child as Record<string, unknown>;
        if (dst[key] === child) dst[key] = { ...src };
        dst = dst[key] as Record<string, unknown>;
      }
    }
    if (dst === null) continue;
    const field = path[path.length - 1];
    const text = dst[field];
    if (typeof text === 'string') dst[field] = text === '' ? '' : '-';
  }
  return JSON.stringify(root);
}

/**
 * The verdicts of validateShape (null: valid, or the reason) on bodies read before, per DTO: the same
 * value gets the same verdict from class-validator, so a repeated body (a re-request, a release of the
 * same load balancer) is not validated again, and with free-text paths declared, neither is a body that
 * differs only in those texts (every other load balancer). Keyed by the body text, or by memoKey for a
 * DTO with free-text paths. Bounded: bodies of up to VERDICT_TEXT_MAX characters, in two generations of
 * up to VERDICTS_PER_GENERATION per DTO (a few MB at most): when the recent one is full it becomes the
 * old one, and a verdict found in the old one is carried over to the recent one.
 */
interface Verdicts {
  recent: Map<string, string | null>;
  old: Map<string, string | null>;
}
const verdicts = new Map<new () => object, Verdicts>();
const VERDICTS_PER_GENERATION = 1024;
const VERDICT_TEXT_MAX = 1024;

function remember(v: Verdicts, text: string, problem: string | null): void {
  if (v.recent.size >= VERDICTS_PER_GENERATION) {
    v.old = v.recent;
    v.recent = new Map();
  }
  v.recent.set(text, problem);
}

export function readBody<T extends object>(data: Uint8Array, maxBytes: number, dto: new () => T): BodyResult {
  const parsed = parseJsonText(data, maxBytes);
  if (!parsed.ok) return parsed;
  const { value, text } = parsed;
  const problem =
    text.length > VERDICT_TEXT_MAX ? validateShape(dto, value) : rememberedShape(dto, value, text);
  return problem === null ? { ok: true, value } : { ok: false, reason: problem };
}

/**
 * validateShape with the memo of readBody, for a value parsed elsewhere (an HTTP body): null when it has
 * the DTO's shape, else the reason.
 */
export function checkShape<T extends object>(
  dto: new () => T,
  value: Record<string, unknown>,
): string | null {
  const text = JSON.stringify(value);
  // JSON.stringify writes Infinity and NaN as null: a value with a null in it is judged afresh
  if (text.length > VERDICT_TEXT_MAX || text.includes('null')) return validateShape(dto, value);
  return rememberedShape(dto, value, text);
}

function rememberedShape<T extends object>(
  dto: new () => T,
  value: Record<string, unknown>,
  text: string,
): string | null {
  let v = verdicts.get(dto);
  if (v === undefined) verdicts.set(dto, (v = { recent: new Map(), old: new Map() }));
  const paths = freeText.get(dto);
  const key = paths === undefined || mayOverflow(text) ? text : memoKey(value, paths);
  let problem = v.recent.get(key);
  if (problem === undefined) {
    problem = v.old.get(key);
    if (problem === undefined) problem = validateShape(dto, value);
    remember(v, key, problem);
  }
  return problem;
}
