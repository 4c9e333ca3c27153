/**
 * /v1/pools: read, apply (JSON or YAML), delete pools; force-release an address.
 *
 * Versions: a pool's version is the stream sequence of the input whose ipam.pool.accepted last created
 * or updated it (the domain's `PoolState.version`, `metadata.resourceVersion` in every view, over NATS
 * too). GET and PUT answer it as the ETag `"<seq>"`; PUT and DELETE take `If-Match` (`*`: the pool must
 * exist; tags: its version must be one of them), checked against this instance's state once it has read
 * the stream to its end, or 412 PreconditionFailed with nothing published. Writes of one pool through
 * one instance run one at a time, so the check holds against them; a writer elsewhere (another
 * instance, a NATS publisher) can still slip in between (the domain does not know the expectation).
 *
 * PUT is create-or-replace: PoolCreated when the pool is missing, PoolUpdated when it exists. When
 * another writer won the race (a PoolExists rejection of the create, or UnknownPool of the update) it
 * publishes the other one, a few times at most: so concurrent PUTs give one 201 and updates (200)
 * applied in the order they were stored, never PoolExists.
 */
import {
  Body,
  Controller,
  Delete,
  Get,
  Headers,
  HttpCode,
  Inject,
  Param,
  Post,
  Put,
  Query,
  Res,
  ValidationPipe,
} from '@nestjs/common';
import { ApiBody, ApiConsumes, ApiOperation, ApiQuery, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { parse as parseYaml } from 'yaml';
import {
  canonicalSpecKey,
  IpamError,
  parsePool,
  poolView,
  unknownPoolFields,
  type IpamEvent,
  type PoolState,
} from '../../../../libs/ipam-domain/src/index.js';
import type { JetStreamServer } from '../../../../libs/nest-jetstream/src/index.js';
import { AllocatorService } from '../allocator/allocator.service.js';
import { IPPoolDto } from '../../../../libs/ipam-contract/src/index.js';
import { checkShape } from '../../../../libs/ipam-contract/src/index.js';
import type { IpamEnv } from '../config/ipam.config.js';
import { IPAM_CONFIG, JETSTREAM_SERVER } from '../tokens.js';
import {
  addressParam,
  badRequest,
  checkDepth,
  checkInputSize,
  notFound,
  poolNameParam,
  rejected,
  tooDeep,
} from './http-errors.js';
import { ApiAnswer, ApiProblems, ref } from './openapi.js';
import { pageByName, PageQuery } from './page.js';
import { PublishService } from './publish.service.js';
import { Guarded } from '../auth/auth.guard.js';
import { Limiter, yieldToEventLoop } from './limiter.js';
import { ApiProblem } from './problem.js';
import { ApiDryRun, dryRunAnswer, isDryRun } from './dry-run.js';
import { requestActor } from '../auth/request-principal.js';

/** The ETag of a pool: its version, quoted. */
export const etagOf = (pool: PoolState): string => `"${pool.version}"`;

/** If-Match: `*`, or the versions its (strong) entity tags name. */
type IfMatch = '*' | string[];

function parseIfMatch(header: string | undefined): IfMatch | null {
  if (header === undefined) return null;
  const text = header.trim();
  if (text === '*') return '*';
  const tags: string[] = [];
  for (const part of text.split(',')) {
    const t = part.trim();
    if (t === '') continue;
    const m = /^(W\/)?"([^"]*)"$/.exec(t);
    if (!m)
      throw badRequest(
        `If-Match must be * or a list of entity tags such as "42", got ${JSON.stringify(header)}`,
      );
    // a weak tag never matches in If-Match (strong comparison, RFC 9110 13.1.1)
    if (m[1] === undefined) tags.push(m[2]);
  }
  return tags;
}

function preconditionFailed(detail: string, pool: PoolState | undefined): ApiProblem {
  return new ApiProblem('PreconditionFailed', `${detail}; nothing was published`, {
    resourceVersion: pool ? String(pool.version) : null,
  });
}

/** 412 unless the pool as it is now satisfies If-Match. */
function checkIfMatch(ifMatch: IfMatch | null, name: string, pool: PoolState | undefined): void {
  if (ifMatch === null) return;
  if (!pool)
    throw preconditionFailed(`pool "${name}" does not exist (If-Match asks for an existing pool)`, pool);
  if (ifMatch === '*' || ifMatch.includes(String(pool.version))) return;
  throw preconditionFailed(
    `pool "${name}" is at version "${pool.version}", not ${ifMatch.map((t) => `"${t}"`).join(', ') || 'a strong entity tag'}`,
    pool,
  );
}

/** How many times a PUT switches between create and update when other writers keep winning the race. */
const PUT_ATTEMPTS = 4;

const queryPipe = new ValidationPipe({
  transform: true,
  exceptionFactory: (errors) =>
    badRequest(errors.flatMap((e) => Object.values(e.constraints ?? {})).join('; ')),
});

@Guarded()
@ApiTags('pools')
@Controller('v1')
export class PoolsController {
  /** writes of one pool through this instance, one at a time (the tail of each pool's chain) */
  private readonly writes = new Map<string, Promise<unknown>>();
  /** whole lists (every pool's full status): a page is cheap, the whole list is not */
  // as ipam.query.pools: two built at once bound the memory; waiting ones cost next to nothing
  private readonly wholeLists = new Limiter('lists of every pool', 2, 64);

  constructor(
    private readonly allocator: AllocatorService,
    private readonly publisher: PublishService,
    @Inject(IPAM_CONFIG) private readonly config: IpamEnv,
    @Inject(JETSTREAM_SERVER) private readonly server: JetStreamServer,
  ) {}

  /** Runs a write of pool `name` after the writes of it already under way here. */
  private serial<T>(name: string, fn: () => Promise<T>): Promise<T> {
    const before = this.writes.get(name) ?? Promise.resolve();
    const run = before.then(fn, fn);
    const tail = run.catch(() => undefined);
    this.writes.set(name, tail);
    void tail.then(() => {
      if (this.writes.get(name) === tail) this.writes.delete(name);
    });
    return run;
  }

  /**
   * The pool `name` when `body` gives it the spec it has (canonically: unknown fields dropped, ranges and
   * scope as the domain reads them), as far as the stream goes now; otherwise (a change, a body the
   * domain would reject, NATS out of reach) null, and the input is published.
   */
  private async unchangedPool(name: string, body: unknown): Promise<PoolState | null> {
    const current = this.allocator.state.pools.get(name);
    if (!current) return null;
    let spec;
    try {
      spec = parsePool(body).spec;
    } catch (e) {
      if (e instanceof IpamError) return null;
      throw e;
    }
    if (canonicalSpecKey(spec) !== canonicalSpecKey(current.def.spec)) return null;
    if (!this.publisher.isConnected()) return null;
    // the state read is the stream's end (no later input of it pending here): else publish, and let
    // the decider say
    const last = await this.server.lastSeq().catch(() => null);
    if (last === null || this.server.position < last) return null;
    return this.allocator.state.pools.get(name) === current ? current : null;
  }

  /** This instance has read the stream as far as it went when asked (a standby may be a little behind). */
  private async readToEnd(): Promise<void> {
    // out of reach: nothing to wait for (a write then answers 503 at once)
    if (!this.publisher.isConnected()) return;
    const last = await this.server.lastSeq().catch(() => null);
    if (last !== null) await this.server.waitForPosition(last, 2000);
  }

  @Get('pools')
  @ApiOperation({ summary: 'Every pool with its status, by name; with ?limit=, in pages' })
  @ApiAnswer(200, 'PoolPage', '{items: [pool with status], continue?}')
  @ApiProblems([400, 'BadRequest: a limit that is not 1 to 1000, or a continue token this list did not give'])
  @ApiProblems([
    503,
    'Unavailable: too many lists of every pool at once (Retry-After says when to ask again); ask for pages with ?limit=',
  ])
  async list(@Query(queryPipe) q: PageQuery, @Res({ passthrough: true }) res: Response) {
    const pools = [...this.allocator.state.pools.values()].sort((a, b) => (a.def.name < b.def.name ? -1 : 1));
    const page = pageByName(pools, (p) => p.def.name, q, 'pools');
    // a page builds the status of its pools only; every pool's status is built by a few at a time,
    // letting decisions run between pools
    if (q.limit !== undefined) return { ...page, items: page.items.map(poolView) };
    return this.wholeLists.http(res, async () => {
      const items = [];
      for (const pool of page.items) {
        items.push(poolView(pool));
        await yieldToEventLoop();
      }
      return { ...page, items };
    });
  }

  @Get('pools/:name')
  @ApiOperation({ summary: 'One pool with its status' })
  @ApiAnswer(
    200,
    'PoolView',
    'the pool with its status; its version as the ETag and metadata.resourceVersion',
  )
  @ApiProblems(400, [404, 'UnknownPool: no such pool'])
  get(@Param('name') name: string, @Res({ passthrough: true }) res: Response) {
    const pool = this.allocator.state.pools.get(poolNameParam(name));
    if (!pool) throw notFound('UnknownPool', `pool "${name}" does not exist.`);
    res.setHeader('ETag', etagOf(pool));
    return poolView(pool);
  }

  @Put('pools/:name')
  @ApiDryRun()
  @ApiOperation({
    summary: 'Create or replace a pool (publishes PoolCreated or PoolUpdated and waits for its outcome)',
  })
  @ApiConsumes('application/json', 'application/yaml')
  @ApiBody({
    description: "an IPPool object, as JSON or YAML; metadata.name defaults to the path's name",
    schema: ref('IPPool'),
  })
  @ApiAnswer(201, 'AppliedPool', 'created: the pool with its status (and warnings: unknown fields dropped)')
  @ApiAnswer(200, 'AppliedPool', 'updated (or unchanged): the pool with its status (and warnings)')
  @ApiProblems(
    400,
    [
      412,
      'PreconditionFailed: If-Match does not hold (the pool is missing, or at another version); nothing published',
    ],
    413,
    415,
    [422, 'rejected: the ipam.pool.rejected outcome, e.g. RangeOverlap'],
    503,
    504,
  )
  async put(
    @Param('name') name: string,
    @Body() body: unknown,
    @Res({ passthrough: true }) res: Response,
    @Headers('if-match') ifMatchHeader?: string,
    @Query('dryRun') dryRunParam?: unknown,
  ) {
    poolNameParam(name);
    const dryRun = isDryRun(dryRunParam);
    const ifMatch = parseIfMatch(ifMatchHeader);
    let pool: unknown = body;
    if (typeof body === 'string') {
      try {
        pool = parseYaml(body);
      } catch (e) {
        // the YAML parser recurses once per level: only a body far deeper than the limit overflows it
        if (/Maximum call stack size exceeded/.test(String(e))) throw tooDeep();
        throw badRequest(`the body is neither JSON nor YAML: ${(e as Error).message}`);
      }
      checkDepth(pool);
    }
    if (typeof pool !== 'object' || pool === null || Array.isArray(pool)) {
      throw badRequest('the body must be one IPPool object (JSON or YAML)');
    }
    const obj = pool as { metadata?: { name?: unknown } };
    obj.metadata = { ...(obj.metadata ?? {}) };
    if (obj.metadata.name === undefined) obj.metadata.name = name;
    if (obj.metadata.name !== name) {
      throw badRequest(
        `metadata.name "${String(obj.metadata.name)}" does not match the path's name "${name}"`,
      );
    }
    const problem = checkShape(IPPoolDto, obj as Record<string, unknown>);
    if (problem !== null) throw badRequest(problem);
    checkInputSize(obj, this.config.IPAM_MAX_BODY_BYTES);
    return this.serial(name, async () => {
      await this.readToEnd();
      checkIfMatch(ifMatch, name, this.allocator.state.pools.get(name));
      if (dryRun) {
        const subject = this.allocator.state.pools.has(name) ? 'ipam.pool.updated' : 'ipam.pool.created';
        const seq = this.server.position + 1;
        return dryRunAnswer(res, this.allocator.state, subject, obj, this.config.IPAM_MAX_BODY_BYTES, seq, (after, o) => {
          const next = after.pools.get(name)!;
          res.setHeader('ETag', etagOf(next));
          return { ...poolView(next), ...(o.warnings !== undefined ? { warnings: o.warnings } : {}) };
        });
      }
      // no write without a change: the pool's own spec (in canonical form) publishes nothing
      const same = await this.unchangedPool(name, obj);
      if (same) {
        res.status(200).setHeader('ETag', etagOf(same));
        // shown on every PUT that drops them, whether or not it changed the pool (as kubectl does)
        const warnings = unknownPoolFields(obj);
        return { ...poolView(same), ...(warnings.length > 0 ? { warnings } : {}) };
      }
      let create = !this.allocator.state.pools.has(name);
      let answer!: { outcome: IpamEvent; seq: number };
      for (let attempt = 1; attempt <= PUT_ATTEMPTS; attempt++) {
        answer = await this.publisher.publishAndWait(
          create ? 'ipam.pool.created' : 'ipam.pool.updated',
          obj,
          requestActor(res),
        );
        // another writer created (or deleted) the pool between our look and our input: a PUT means
        // create-or-replace, so the other input kind says what was meant (not under If-Match, which
        // asked for the pool as it was)
        if (ifMatch !== null || !lostRace(answer.outcome, create)) break;
        create = !create;
      }
      const { outcome, seq } = answer;
      if (outcome.type !== 'PoolAccepted') throw rejected(outcome, seq);
      const current = this.allocator.state.pools.get(name);
      // created by this input, unless it re-created an identical pool (an earlier version stays)
      const created = outcome.data.change === 'created' && (current === undefined || current.version >= seq);
      res.status(created ? 201 : 200);
      if (current) res.setHeader('ETag', etagOf(current));
      // the unknown fields that were dropped (docs/semantics.md), as the outcome names them
      const { warnings } = outcome.data;
      return { ...(current ? poolView(current) : { name }), ...(warnings ? { warnings } : {}) };
    });
  }

  @Delete('pools/:name')
  @ApiDryRun()
  @ApiOperation({ summary: 'Delete a pool (publishes PoolDeleted and waits for its outcome)' })
  @ApiAnswer(200, 'PoolAccepted', 'deleted: the ipam.pool.accepted outcome')
  @ApiProblems(
    400,
    [404, 'UnknownPool: no such pool'],
    [412, 'PreconditionFailed: If-Match does not hold (the pool is at another version); nothing published'],
    [422, 'rejected, e.g. PoolInUse'],
    503,
    504,
  )
  async delete(
    @Param('name') name: string,
    @Res({ passthrough: true }) res: Response,
    @Headers('if-match') ifMatchHeader?: string,
    @Query('dryRun') dryRunParam?: unknown,
  ) {
    poolNameParam(name);
    const dryRun = isDryRun(dryRunParam);
    const ifMatch = parseIfMatch(ifMatchHeader);
    return this.serial(name, async () => {
      if (ifMatch !== null || dryRun) await this.readToEnd();
      const pool = this.allocator.state.pools.get(name);
      if (!pool && ifMatch === null) throw notFound('UnknownPool', `pool "${name}" does not exist.`);
      checkIfMatch(ifMatch, name, pool);
      if (dryRun) {
        const ref = { metadata: { name } };
        const seq = this.server.position + 1;
        return dryRunAnswer(res, this.allocator.state, 'ipam.pool.deleted', ref, this.config.IPAM_MAX_BODY_BYTES, seq);
      }
      const { outcome, seq } = await this.publisher.publishAndWait('ipam.pool.deleted', { metadata: { name } }, requestActor(res));
      if (outcome.type !== 'PoolAccepted') throw rejected(outcome, seq);
      return outcome.data;
    });
  }

  @Post('addresses/:ip/release')
  @HttpCode(200)
  @ApiDryRun()
  @ApiOperation({ summary: "Operator's force-release of an address (Harvester's manuallyReleaseIP)" })
  @ApiQuery({ name: 'pool', required: false, description: 'release the address in this pool only' })
  @ApiAnswer(200, 'IPReleased', 'released: the ipam.ip.released outcome')
  @ApiProblems(400, [422, 'rejected: the ipam.ip.rejected outcome, e.g. AddressNotAllocated'], 503, 504)
  async release(
    @Param('ip') ip: string,
    @Res({ passthrough: true }) res: Response,
    @Query('pool') pool?: string,
    @Query('dryRun') dryRunParam?: unknown,
  ) {
    const canonical = addressParam(ip);
    if (pool !== undefined) poolNameParam(pool);
    const input = { ip: canonical, ...(pool !== undefined ? { ipPool: pool } : {}) };
    if (isDryRun(dryRunParam)) {
      await this.readToEnd();
      const seq = this.server.position + 1;
      return dryRunAnswer(res, this.allocator.state, 'ipam.ip.releaserequested', input, this.config.IPAM_MAX_BODY_BYTES, seq);
    }
    const { outcome, seq } = await this.publisher.publishAndWait('ipam.ip.releaserequested', input, requestActor(res));
    if (outcome.type !== 'IPReleased') throw rejected(outcome, seq);
    return outcome.data;
  }
}

/** A rejection that says another writer got there first: the pool exists (create), or not (update). */
function lostRace(outcome: IpamEvent, create: boolean): boolean {
  if (outcome.type !== 'PoolRejected') return false;
  return outcome.data.code === (create ? 'PoolExists' : 'UnknownPool');
}
