/**
 * GET /v1/events: the outcomes as they are stored, as server-sent events. Each event's `id` is its
 * stream sequence, its `event` its subject (ipam.ip.allocated, ipam.pool.rejected, ...), its `data` the
 * outcome body (JSON). `?since=SEQ` (or the `Last-Event-ID` header a reconnecting EventSource sends)
 * first replays the outcomes stored after SEQ, then follows; without either it follows from now.
 */
import { Controller, Get, Headers, Query, Req, Res } from '@nestjs/common';
import { ApiHeader, ApiOperation, ApiProduces, ApiQuery, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { badRequest } from './http-errors.js';
import { ApiProblems } from './openapi.js';
import { ApiProblem } from './problem.js';
import { EventsService, type StreamOutcome } from './events.service.js';
import { Guarded } from '../auth/auth.guard.js';

/** A comment line this often keeps proxies and clients from closing an idle stream (ms). */
const KEEPALIVE_MS = 15_000;
/** A client this far behind (bytes not yet sent) is cut off; it resumes with Last-Event-ID. */
const MAX_BUFFERED_BYTES = 8 * 1024 * 1024;
/** What a client waits before reconnecting (ms), sent as the stream's `retry:`. */
const RETRY_MS = 2000;

function sequence(text: string | undefined, what: string): number | null {
  if (text === undefined || text === '') return null;
  if (!/^\d{1,15}$/.test(text)) throw badRequest(`${what} must be a stream sequence (a whole number), not "${text}"`);
  return Number(text);
}

/** One event in the text/event-stream format (a body with line breaks becomes several data lines). */
export function eventText(e: StreamOutcome): string {
  const data = e.data
    .split(/\r\n|\r|\n/)
    .map((line) => `data: ${line}\n`)
    .join('');
  return `id: ${e.seq}\nevent: ${e.subject}\n${data}\n`;
}

@Guarded()
@ApiTags('events')
@Controller('v1')
export class EventsController {
  constructor(private readonly events: EventsService) {}

  @Get('events')
  @ApiOperation({
    summary: 'The outcomes as they are stored (server-sent events); ?since= or Last-Event-ID resumes',
    description:
      'Each event: `id` its stream sequence, `event` its subject (ipam.pool.accepted, ipam.pool.rejected, ' +
      'ipam.ip.allocated, ipam.lb.rejected, ipam.ip.released, ipam.ip.rejected, ipam.pool.historyrestored), ' +
      '`data` the outcome body as JSON (the schema of that subject). With ?since=SEQ (or the Last-Event-ID ' +
      'header; ?since= wins) the outcomes stored after SEQ come first, then every new one, in stream order, ' +
      'none twice; without either, those stored from the moment the answer starts. Comment lines keep the ' +
      'connection alive.',
  })
  @ApiQuery({
    name: 'since',
    required: false,
    description: 'a stream sequence: answer the outcomes stored after it first',
    schema: { type: 'integer', minimum: 0 },
  })
  @ApiHeader({
    name: 'Last-Event-ID',
    required: false,
    description: 'the id of the last event received (what EventSource sends when it reconnects)',
  })
  @ApiProduces('text/event-stream')
  @ApiResponse({
    status: 200,
    description: 'a text/event-stream of outcomes: `id: <seq>`, `event: <subject>`, `data: <outcome JSON>`',
    content: {
      'text/event-stream': {
        schema: {
          type: 'string',
          description: 'events separated by blank lines',
          example:
            'id: 12\nevent: ipam.ip.allocated\ndata: {"loadBalancer":"default/web","ipPool":"default-ip-pool-2","ip":"192.168.200.2",...}\n\n',
        },
      },
    },
  })
  @ApiProblems([400, 'BadRequest: since or Last-Event-ID is not a stream sequence'], 503)
  async follow(
    @Query('since') since: string | undefined,
    @Headers('last-event-id') lastEventId: string | undefined,
    @Req() req: Request,
    @Res() res: Response,
  ): Promise<void> {
    const from = sequence(since, 'since') ?? sequence(lastEventId, 'Last-Event-ID');
    let open = true;
    let keepalive: NodeJS.Timeout | null = null;
    let forget: () => void = () => undefined;
    let unsubscribe: () => void = () => undefined;
    const end = () => {
      if (!open) return;
      open = false;
      if (keepalive) clearInterval(keepalive);
      unsubscribe();
      forget();
      res.end();
    };
    const write = (text: string) => {
      if (!open) return;
      res.write(text);
      if (res.writableLength > MAX_BUFFERED_BYTES) end();
    };
    const pending: StreamOutcome[] = [];
    let started = false;
    try {
      unsubscribe = await this.events.subscribe(from, {
        send: (e) => (started ? write(eventText(e)) : pending.push(e)),
        fail: () => end(),
      });
    } catch (e) {
      throw new ApiProblem('Unavailable', `the stream cannot be followed now: ${(e as Error).message}`);
    }
    if (req.destroyed) {
      unsubscribe();
      return;
    }
    res.status(200);
    res.setHeader('Content-Type', 'text/event-stream; charset=utf-8');
    res.setHeader('Cache-Control', 'no-cache, no-transform');
    res.setHeader('Connection', 'keep-alive');
    res.setHeader('X-Accel-Buffering', 'no');
    res.flushHeaders();
    req.socket.setNoDelay(true);
    started = true;
    write(`retry: ${RETRY_MS}\n: following the stream${from !== null ? ` after seq ${from}` : ''}\n\n`);
    for (const e of pending.splice(0)) write(eventText(e));
    keepalive = setInterval(() => write(': keepalive\n\n'), KEEPALIVE_MS);
    forget = this.events.onClose(end);
    req.on('close', end);
    res.on('error', end);
  }
}
