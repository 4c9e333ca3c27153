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
  return { ok: true, value: value as Record<string, unknown> };
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

export function readBody<T extends object>(data: Uint8Array, maxBytes: number, dto: new () => T): BodyResult {
  const parsed = parseJsonBody(data, maxBytes);
  if (!parsed.ok) return parsed;
  const problem = validateShape(dto, parsed.value);
  return problem === null ? parsed : { ok: false, reason: problem };
}
