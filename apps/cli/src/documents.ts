/**
 * Reading objects from files: a path or `-` for stdin; multi-document YAML (`---` separated) or JSON,
 * where a document may also be a list of objects or a `{"items": [...]}` list (as `ipam get -o` prints).
 */
import { readFile } from 'node:fs/promises';
import { parseAllDocuments } from 'yaml';
import { CliError, CliIo } from './io.js';

export interface SourceObject {
  /** where it came from, for messages: `file.yaml` document 2 (item 1) */
  where: string;
  value: unknown;
}

export async function readSource(path: string, io: CliIo): Promise<string> {
  if (path === '-') {
    const chunks: Buffer[] = [];
    for await (const chunk of io.stdin)
      chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer));
    return Buffer.concat(chunks).toString('utf8');
  }
  try {
    return await readFile(path, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new CliError(`${path}: no such file`);
    if (code === 'EISDIR') throw new CliError(`${path} is a directory; give a file`);
    throw new CliError(`cannot read ${path}: ${(e as Error).message}`);
  }
}

function firstLine(text: string): string {
  return text.split('\n')[0].trim();
}

/** The documents of a YAML or JSON text, in order (empty documents skipped). */
export function parseDocuments(text: string, source: string): SourceObject[] {
  const docs = parseAllDocuments(text, { prettyErrors: false });
  const list = Array.isArray(docs) ? docs : [docs];
  const out: SourceObject[] = [];
  list.forEach((doc, i) => {
    const where = list.length > 1 ? `${source} document ${i + 1}` : source;
    if (doc.errors.length > 0)
      throw new CliError(`${where} is not valid YAML or JSON: ${firstLine(doc.errors[0].message)}`);
    const value: unknown = doc.toJS();
    if (value === null || value === undefined) return;
    const items = listItems(value);
    if (items === null) out.push({ where, value });
    else items.forEach((item, j) => out.push({ where: `${where} item ${j + 1}`, value: item }));
  });
  return out;
}

/** The elements of a list document (an array, or an object with `items` and no `spec`), else null. */
function listItems(value: unknown): unknown[] | null {
  if (Array.isArray(value)) return value;
  if (typeof value === 'object' && value !== null) {
    const v = value as { items?: unknown; spec?: unknown };
    if (Array.isArray(v.items) && v.spec === undefined) return v.items;
  }
  return null;
}

/** Parses one file as a single YAML/JSON value (for setting files). */
export async function readValue(path: string, io: CliIo): Promise<unknown> {
  const text = await readSource(path, io);
  const docs = parseAllDocuments(text, { prettyErrors: false });
  const list = Array.isArray(docs) ? docs : [docs];
  const nonEmpty = list.filter((d) => d.contents !== null || d.errors.length > 0);
  if (nonEmpty.length === 0) throw new CliError(`${path} is empty`);
  if (nonEmpty.length > 1) throw new CliError(`${path} holds ${nonEmpty.length} documents; give one`);
  const doc = nonEmpty[0];
  if (doc.errors.length > 0)
    throw new CliError(`${path} is not valid YAML or JSON: ${firstLine(doc.errors[0].message)}`);
  return doc.toJS();
}
