/**
 * The OpenAPI 3.1 document of the HTTP API (/openapi.json, page at /docs). Its components are the
 * contract's JSON Schemas (libs/ipam-contract SCHEMAS: every wire body, one source) and the few shapes
 * only HTTP has (HTTP_SCHEMAS below: the problem, pages of lists, health and readiness). Operations
 * reference them with the decorators ApiAnswer and ApiProblems.
 */
import { applyDecorators, type INestApplication } from '@nestjs/common';
import { ApiResponse, DocumentBuilder, SwaggerModule, type OpenAPIObject } from '@nestjs/swagger';
import { MAX_BODY_DEPTH, SCHEMAS, type JsonSchema } from '../../../../libs/ipam-contract/src/index.js';
import { PROBLEM_CONTENT_TYPE, PROBLEM_TYPE_BASE } from './problem.js';
import { OUTCOME_TIMEOUT_MS } from './publish.service.js';

const PREFIX = '#/components/schemas/';

/** A reference to a component schema. */
export const ref = (name: string): { $ref: string } => ({ $ref: `${PREFIX}${name}` });

const NULLABLE_INT = { type: ['integer', 'null'] };

const READINESS_FIELDS: Record<string, JsonSchema> = {
  ready: { type: 'boolean' },
  connected: { type: 'boolean', description: 'connected to NATS now' },
  position: { type: 'integer', minimum: 0, description: 'the last stream sequence this instance has read' },
  streamLastSeq: { ...NULLABLE_INT, description: "the stream's last sequence, null when out of reach" },
  lag: { ...NULLABLE_INT, description: 'streamLastSeq - position, null when out of reach' },
  leader: { type: 'boolean', description: 'this instance holds the decider lease' },
  deciding: {
    type: 'boolean',
    description: 'some instance holds a valid decider lease and inputs get answered',
  },
  decider: {
    type: 'object',
    required: ['present', 'holder', 'waiting', 'waitingMs'],
    properties: {
      present: {
        type: 'boolean',
        description: 'an instance holds a valid decider lease, as this one sees it',
      },
      holder: { type: ['string', 'null'], description: 'the instance the lease names' },
      waiting: { type: 'integer', minimum: 0, description: 'inputs read here that wait for an outcome' },
      waitingMs: { type: 'integer', minimum: 0, description: 'for how long none of them was answered' },
    },
  },
  lagGrowing: {
    type: 'boolean',
    description:
      'the lag grew, or the position stood still behind the stream, for the whole progress window (5 s)',
  },
  reason: { type: ['string', 'null'], description: 'why not ready, null when ready' },
};

const CONTINUE: JsonSchema = {
  type: 'string',
  description: 'present while more remain: pass it as ?continue= (with the same query) for the next page',
};

/** The shapes only HTTP has. */
export const HTTP_SCHEMAS: Readonly<Record<string, JsonSchema>> = {
  Problem: {
    type: 'object',
    description:
      `An RFC 9457 problem (${PROBLEM_CONTENT_TYPE}), the answer of every error. \`code\` is the stable ` +
      `machine word; \`type\` is "${PROBLEM_TYPE_BASE}" followed by the code (an identifier, not a page); ` +
      '`title` is the code in words; `detail` says what happened. Other members carry what a caller can act on.',
    required: ['type', 'title', 'status', 'detail', 'code'],
    properties: {
      type: { type: 'string', format: 'uri' },
      title: { type: 'string' },
      status: { type: 'integer', minimum: 400, maximum: 599 },
      detail: { type: 'string' },
      code: {
        type: 'string',
        description:
          'BadRequest, InvalidEvent, NotFound, UnknownPool, UnknownLoadBalancer, PayloadTooLarge, ' +
          'UnsupportedMediaType, Unavailable, NotReady, OutcomeTimeout, InternalError, or (422) the ' +
          "rejection outcome's code",
      },
    },
  },
  RejectionProblem: {
    description:
      "422: the input was stored and rejected. The rejection outcome's code, its reason as `detail`, its " +
      'other fields (name, loadBalancer, ip, ipPool, causation), and `seq`, the stream sequence of the input.',
    allOf: [ref('Problem')],
    required: ['seq', 'causationSeq', 'causationId'],
    properties: {
      seq: { type: 'integer', minimum: 1, description: 'the stream sequence of the input' },
      causationSeq: { type: 'integer', minimum: 1 },
      causationId: { type: ['string', 'null'] },
      name: { type: 'string', description: 'the pool (pool inputs)' },
      loadBalancer: { type: 'string', description: '"namespace/name" (load balancer inputs)' },
      ip: { type: 'string', description: 'the address (force-release)' },
      ipPool: { type: ['string', 'null'], description: 'the pool asked for (force-release)' },
    },
  },
  OutcomeTimeoutProblem: {
    description: '504: the input was stored as `seq`, but no outcome came in time (is a decider running?)',
    allOf: [ref('Problem')],
    required: ['seq'],
    properties: { seq: { type: 'integer', minimum: 1 } },
  },
  NotReadyProblem: {
    description: '503 from /readyz: the readiness fields say why',
    allOf: [ref('Problem')],
    required: Object.keys(READINESS_FIELDS),
    properties: READINESS_FIELDS,
  },
  Readiness: {
    type: 'object',
    description: 'connected to NATS, caught up with the stream, and some instance deciding',
    required: ['status', 'live', ...Object.keys(READINESS_FIELDS)],
    properties: {
      status: { type: 'string', enum: ['ready'] },
      ...READINESS_FIELDS,
      live: { type: 'boolean', description: 'deciding new inputs as they come (leader and caught up)' },
    },
  },
  Health: {
    type: 'object',
    required: ['status'],
    properties: { status: { type: 'string', enum: ['ok'] } },
  },
  PoolPage: {
    type: 'object',
    description: 'pools by name; with ?limit=, one page of them',
    required: ['items'],
    properties: { items: { type: 'array', items: ref('PoolView') }, continue: CONTINUE },
  },
  AppliedPool: {
    description:
      'the pool as it is now, with its status; `warnings` lists the unknown fields that were dropped',
    allOf: [ref('PoolView')],
    properties: { warnings: { type: 'array', items: { type: 'string' } } },
  },
  PoolAsOf: {
    description: 'the pool with its status as of `asOfSeq`',
    allOf: [ref('PoolView')],
    required: ['asOfSeq'],
    properties: { asOfSeq: { type: 'integer', minimum: 0 } },
  },
  AddressTimelinePage: {
    description:
      'every holder of the address, oldest first (with ?at= or ?seq=, the holder then); `total` counts them all',
    allOf: [ref('AddressTimeline')],
    properties: {
      at: { type: 'string', format: 'date-time', description: 'the ?at= asked for' },
      seq: { type: 'integer', minimum: 1, description: 'the ?seq= asked for' },
      continue: CONTINUE,
    },
  },
  LoadBalancerTimelinePage: {
    description: 'every address it held and every rejection it got, oldest first; `total` counts them all',
    allOf: [ref('LoadBalancerTimeline')],
    properties: { continue: CONTINUE },
  },
};

/** A successful answer: JSON of the named schema. */
export function ApiAnswer(status: number, schema: string, description: string): MethodDecorator {
  return ApiResponse({ status, description, content: { 'application/json': { schema: ref(schema) } } });
}

const PROBLEM_SCHEMA: Record<number, string> = { 422: 'RejectionProblem', 504: 'OutcomeTimeoutProblem' };

/** What each error status means, unless an operation says more. */
const PROBLEM_TEXT: Record<number, string> = {
  400:
    'BadRequest: the path, the query or the body is not what it must be (`detail` says what); ' +
    `InvalidEvent: a body nested deeper than ${MAX_BODY_DEPTH} levels`,
  413: 'PayloadTooLarge: a body over the input limit (IPAM_MAX_BODY_BYTES, default 65536 bytes)',
  415: 'UnsupportedMediaType: a charset other than UTF-8',
  422: 'rejected: the rejection outcome',
  503: 'Unavailable: NATS or JetStream out of reach; nothing was published',
  504: `OutcomeTimeout: stored as \`seq\`, but no outcome within ${OUTCOME_TIMEOUT_MS / 1000} s (is a decider running?)`,
};

/** An error answer: its status, or its status and text (and the schema when not the usual one). */
export type ProblemAnswer = number | [number, string] | [number, string, string];

/** Error answers, each an application/problem+json; a number alone takes the usual text. */
export function ApiProblems(...answers: ProblemAnswer[]): MethodDecorator {
  return applyDecorators(
    ...answers.map((a) => {
      const [status, description, schema] = typeof a === 'number' ? [a, PROBLEM_TEXT[a] ?? ''] : a;
      const content = {
        [PROBLEM_CONTENT_TYPE]: { schema: ref(schema ?? PROBLEM_SCHEMA[status] ?? 'Problem') },
      };
      return ApiResponse({ status, description, content });
    }),
  );
}

/** The whole document, its components the contract's schemas and HTTP's own. */
export function openApiDocument(app: INestApplication): OpenAPIObject {
  const doc = SwaggerModule.createDocument(
    app,
    new DocumentBuilder()
      .setOpenAPIVersion('3.1.0')
      .setTitle('IPAM')
      .setDescription(
        'Event-sourced IP address allocation for load balancers (Harvester IP pool semantics) on NATS ' +
          'JetStream. Every error is an RFC 9457 problem (application/problem+json, schema Problem).',
      )
      .setVersion('1')
      .build(),
  );
  doc.components = { ...doc.components, schemas: { ...SCHEMAS, ...HTTP_SCHEMAS } };
  return doc;
}
