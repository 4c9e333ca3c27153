/**
 * Reading a message body at the boundary: size limit, JSON, then the DTO's shape. Returns the plain
 * object or a reason a person can act on; never throws.
 */
import { plainToInstance } from 'class-transformer';
import { validateSync, ValidationError } from 'class-validator';

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
  return { ok: true, value: value as Record<string, unknown>, text };
}

export function validateShape<T extends object>(
  dto: new () => T,
  value: Record<string, unknown>,
): string | null {
  const errors = validateSync(plainToInstance(dto, value) as object, {
    forbidUnknownValues: false,
    validationError: { target: false, value: false },
  });
  if (errors.length === 0) return null;
  return `the body does not have the expected shape: ${flatten(errors).join('; ')}`;
}

/**
 * The verdicts of validateShape (null: valid, or the reason) on body texts read before, per DTO: the same
 * text parses to the same value, and class-validator's verdict on a value depends on nothing else, so a
 * repeated body (a re-request, a release of the same load balancer) is not validated again. Bounded:
 * bodies of up to VERDICT_TEXT_MAX characters, in two generations of up to VERDICTS_PER_GENERATION per
 * DTO (a few MB at most): when the recent one is full it becomes the old one, and a verdict found in
 * the old one is carried over to the recent one.
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
  let problem: string | null | undefined;
  if (text.length > VERDICT_TEXT_MAX) problem = validateShape(dto, value);
  else {
    let v = verdicts.get(dto);
    if (v === undefined) verdicts.set(dto, (v = { recent: new Map(), old: new Map() }));
    problem = v.recent.get(text);
    if (problem === undefined) {
      problem = v.old.get(text);
      if (problem === undefined) problem = validateShape(dto, value);
      remember(v, text, problem);
    }
  }
  return problem === null ? { ok: true, value } : { ok: false, reason: problem };
}
