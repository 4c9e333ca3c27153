/**
 * Holds HTTP answers to the service's OpenAPI document: `check` finds the operation of a request (its
 * method and path template), the response documented for the status, the media type of the answer
 * among the documented ones, and validates the body against that schema (ajv, JSON Schema 2020-12, the
 * dialect of OpenAPI 3.1). A status, media type or body the document does not describe is an error. A
 * path no operation has must be answered 404 with a Problem.
 */
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';

const addFormats = addFormatsModule as unknown as (ajv: Ajv2020) => Ajv2020;

type Json = Record<string, unknown>;

interface MediaType {
  schema?: Json;
}

interface Operation {
  responses: Record<string, { content?: Record<string, MediaType> }>;
}

export interface OpenApiDocument {
  openapi: string;
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, Json> };
}

export interface CheckedAnswer {
  method: string;
  /** the path and query as requested */
  url: string;
  status: number;
  contentType: string;
  /** the parsed body (JSON), or the text */
  body: unknown;
}

export class ResponseChecker {
  private readonly ajv = new Ajv2020({ strict: false, allErrors: true });
  private readonly validators = new Map<string, ValidateFunction>();
  private readonly routes: Array<{ template: string; pattern: RegExp }>;
  /** every (operation, status) answered so far, "get /v1/pools 200" */
  readonly seen = new Set<string>();

  constructor(private readonly doc: OpenApiDocument) {
    addFormats(this.ajv);
    this.ajv.addSchema({ $id: 'openapi', components: doc.components });
    this.routes = Object.keys(doc.paths).map((template) => ({
      template,
      pattern: new RegExp(`^${template.replace(/\{[^}]+\}/g, '[^/]+').replace(/\./g, '\\.')}$`),
    }));
  }

  /** The path template of a request path, or null when no operation has it. */
  templateOf(path: string): string | null {
    return this.routes.find((r) => r.pattern.test(path))?.template ?? null;
  }

  /** Throws an Error saying what does not match the document. */
  check(a: CheckedAnswer): void {
    const path = a.url.split('?')[0];
    const method = a.method.toLowerCase();
    const template = this.templateOf(path);
    const op = template === null ? undefined : this.doc.paths[template][method];
    const what = `${a.method} ${a.url} -> ${a.status}`;
    if (op === undefined) {
      if (a.status !== 404) throw new Error(`${what}: no operation answers this, yet it was not a 404`);
      this.validate(what, 'Problem', { $ref: '#/components/schemas/Problem' }, a.body);
      if (!a.contentType.startsWith('application/problem+json')) {
        throw new Error(`${what}: answered ${a.contentType}, not application/problem+json`);
      }
      return;
    }
    const response = op.responses[String(a.status)];
    if (response === undefined) {
      throw new Error(
        `${what}: status ${a.status} is not documented for ${method} ${template} (documented: ${Object.keys(op.responses).join(', ')})`,
      );
    }
    const mediaType = a.contentType.split(';')[0].trim();
    const media = response.content?.[mediaType];
    if (media === undefined) {
      throw new Error(
        `${what}: ${mediaType} is not documented for ${method} ${template} ${a.status} (documented: ${Object.keys(response.content ?? {}).join(', ') || 'no content'})`,
      );
    }
    this.seen.add(`${method} ${template} ${a.status}`);
    if (media.schema !== undefined) {
      this.validate(what, `${method} ${template} ${a.status} ${mediaType}`, media.schema, a.body);
    }
  }

  private validate(what: string, key: string, schema: Json, body: unknown): void {
    let v = this.validators.get(key);
    if (v === undefined) {
      // "#/components/..." resolves against the document's components
      v = this.ajv.compile({
        $id: `openapi-${this.validators.size}`,
        components: this.doc.components,
        ...schema,
      });
      this.validators.set(key, v);
    }
    if (!v(body)) {
      throw new Error(
        `${what}: the body does not match its documented schema: ${this.ajv.errorsText(v.errors)}\n${JSON.stringify(body).slice(0, 1000)}`,
      );
    }
  }
}
