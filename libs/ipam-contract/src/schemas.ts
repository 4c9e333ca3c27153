/**
 * JSON Schemas of every body on the wire, generated from the decorated classes of input.dto.ts and
 * outcome.dto.ts (one source). The OpenAPI document, docs/asyncapi.yaml and the tests use these.
 * References point at `#/components/schemas/<name>`, the layout OpenAPI and AsyncAPI share.
 */
import 'reflect-metadata';
// class-transformer's @Type metadata, so nested classes become references
import { defaultMetadataStorage } from 'class-transformer/cjs/storage.js';
import { validationMetadatasToSchemas } from 'class-validator-jsonschema';
import type { InputSubject, OutcomeSubject, QuerySubject } from './subjects.js';
import './input.dto.js';
import './outcome.dto.js';
import './query-list.dto.js';

export type JsonSchema = Record<string, unknown>;

const PREFIX = '#/components/schemas/';

/** A wire name: the class name without its Dto suffix. */
const wireName = (className: string) => className.replace(/Dto$/, '');

function generate(): Record<string, JsonSchema> {
  const raw = validationMetadatasToSchemas({
    refPointerPrefix: PREFIX,
    classTransformerMetadataStorage: defaultMetadataStorage,
  });
  const text = JSON.stringify(raw).replace(/"#\/components\/schemas\/(\w+?)Dto"/g, `"${PREFIX}$1"`);
  const renamed = JSON.parse(text) as Record<string, JsonSchema>;
  const out: Record<string, JsonSchema> = {
    PoolsQuery: { type: 'object', description: 'ipam.query.pools request: {}' },
  };
  for (const name of Object.keys(renamed).sort()) out[wireName(name)] = renamed[name];
  for (const name of Object.keys(out)) out[name] = tidy(out[name], out);
  return out;
}

/**
 * A field described by its own `oneOf` (a custom validator's, a nullable nested object's) is that
 * schema alone, without the reference the generator adds beside it (for a custom validator, to a
 * class that is no schema). A reference with words beside it becomes `allOf: [reference]`: draft-07
 * readers (AsyncAPI) ignore whatever stands beside a `$ref`.
 */
function tidy(schema: JsonSchema, all: Record<string, JsonSchema>): JsonSchema {
  const props = (schema.properties ?? {}) as Record<string, JsonSchema>;
  for (const [key, p] of Object.entries(props)) {
    const ref = typeof p.$ref === 'string' ? p.$ref.slice(PREFIX.length) : null;
    if (ref === null) continue;
    if (p.oneOf !== undefined || !(ref in all)) {
      delete p.$ref;
      continue;
    }
    const { $ref, type: _type, ...beside } = p;
    props[key] = Object.keys(beside).length === 0 ? { $ref } : { allOf: [{ $ref }], ...beside };
  }
  return schema;
}

/** Every schema by wire name. */
export const SCHEMAS: Readonly<Record<string, JsonSchema>> = generate();

/** The schema of each input subject's body. */
export const INPUT_SCHEMAS = {
  'ipam.pool.created': 'IPPool',
  'ipam.pool.updated': 'IPPool',
  'ipam.pool.deleted': 'PoolRef',
  'ipam.lb.requested': 'LoadBalancer',
  'ipam.lb.deleted': 'LoadBalancerRef',
  'ipam.ip.releaserequested': 'ReleaseAddress',
  'ipam.pool.historyimported': 'ImportHistory',
} as const satisfies Record<InputSubject, string>;

/** The schema of each outcome subject's body. */
export const OUTCOME_SCHEMAS = {
  'ipam.pool.accepted': 'PoolAccepted',
  'ipam.pool.rejected': 'PoolRejected',
  'ipam.ip.allocated': 'IPAllocated',
  'ipam.lb.rejected': 'LBRejected',
  'ipam.ip.released': 'IPReleased',
  'ipam.pool.historyrestored': 'HistoryRestored',
  'ipam.ip.rejected': 'AddressRejected',
} as const satisfies Record<OutcomeSubject, string>;

/** Each query's request and reply (a reply may also be a QueryError). */
export const QUERY_SCHEMAS = {
  'ipam.query.pools': { request: 'PoolsQuery', reply: 'PoolList' },
  'ipam.query.pool': { request: 'PoolQuery', reply: 'PoolView' },
  'ipam.query.lb': { request: 'LoadBalancerQuery', reply: 'LoadBalancerView' },
  'ipam.query.lbs': { request: 'LoadBalancersQuery', reply: 'LoadBalancerList' },
  'ipam.query.audit.address': { request: 'AuditAddressQuery', reply: 'AddressTimeline' },
  'ipam.query.audit.lb': { request: 'AuditLoadBalancerQuery', reply: 'LoadBalancerTimeline' },
  'ipam.query.whatif': { request: 'WhatIfQuery', reply: 'WhatIf' },
} as const satisfies Record<QuerySubject, { request: string; reply: string }>;
