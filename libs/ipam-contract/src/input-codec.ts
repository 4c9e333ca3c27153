/**
 * From a stored input message to a domain command: the size limit, JSON, the DTO's shape
 * (class-validator), then the command. The service and `ipam replay --verify` both use it, so a replay
 * reads every input exactly as the service did.
 */
import type { CommandMeta, IpamCommand, IpamEvent } from '../../ipam-domain/src/index.js';
import type { StoredEvent } from './stored-event.js';
import {
  ImportHistoryDto,
  IPPoolDto,
  LoadBalancerDto,
  LoadBalancerRefDto,
  PoolRefDto,
  ReleaseAddressDto,
} from './input.dto.js';
import { readBody } from './validate-body.js';
import { actorOf } from './actor.js';
import { EVENT_TYPE_BY_SUBJECT, INPUT_SUBJECTS, InputSubject, outcomeSubject } from './subjects.js';

const DTOS: Record<InputSubject, new () => object> = {
  'ipam.pool.created': IPPoolDto,
  'ipam.pool.updated': IPPoolDto,
  'ipam.pool.deleted': PoolRefDto,
  'ipam.lb.requested': LoadBalancerDto,
  'ipam.lb.deleted': LoadBalancerRefDto,
  'ipam.ip.releaserequested': ReleaseAddressDto,
  'ipam.pool.historyimported': ImportHistoryDto,
};

export function isInputSubject(subject: string): subject is InputSubject {
  return Object.prototype.hasOwnProperty.call(INPUT_SUBJECTS, subject);
}

const lenient = new TextDecoder();

function nameFor(subject: InputSubject, value: unknown): string {
  const v = value as {
    metadata?: { name?: unknown; namespace?: unknown };
    ipPool?: unknown;
    ip?: unknown;
  } | null;
  if (subject.startsWith('ipam.pool.')) {
    const n = v?.metadata?.name ?? v?.ipPool;
    return typeof n === 'string' ? n : '';
  }
  if (subject.startsWith('ipam.ip.')) return typeof v?.ip === 'string' ? v.ip : '';
  const ns = v?.metadata?.namespace;
  const name = v?.metadata?.name;
  return typeof ns === 'string' && typeof name === 'string' ? `${ns}/${name}` : '';
}

function targetOf(subject: InputSubject): 'pool' | 'ip' | 'lb' {
  return subject.startsWith('ipam.pool.') ? 'pool' : subject.startsWith('ipam.ip.') ? 'ip' : 'lb';
}

/**
 * The command of a stored input. Never throws: a body that cannot be read is an InvalidEvent rejection,
 * and a failure of the decoding itself (a bug) an InternalError one, so every input still gets its
 * outcome and a replay goes on past it.
 */
export function inputCommand(
  subject: InputSubject,
  data: Uint8Array,
  meta: { seq: number; id: string | null },
  maxBytes: number,
): IpamCommand {
  try {
    return decodeInput(subject, data, meta, maxBytes);
  } catch (e) {
    return {
      type: 'RejectInput',
      data: {
        target: targetOf(subject),
        name: '',
        code: 'InternalError',
        reason: `${subject}: the body could not be decoded (${String(e)}).`,
      },
      meta,
    };
  }
}

function withActor(meta: CommandMeta, actor: string | undefined): CommandMeta {
  return actor === undefined ? meta : { ...meta, actor };
}

function decodeInput(
  subject: InputSubject,
  data: Uint8Array,
  meta: CommandMeta,
  maxBytes: number,
): IpamCommand {
  const body = readBody(data, maxBytes, DTOS[subject]);
  if (!body.ok) {
    let parsed: unknown = null;
    if (data.length <= maxBytes) {
      try {
        parsed = JSON.parse(lenient.decode(data));
      } catch {
        parsed = null;
      }
    }
    return {
      type: 'RejectInput',
      data: {
        target: targetOf(subject),
        name: nameFor(subject, parsed),
        reason: `${subject}: ${body.reason}.`,
      },
      meta: withActor(meta, actorOf(parsed)),
    };
  }
  const type = INPUT_SUBJECTS[subject];
  const value = body.value;
  meta = withActor(meta, actorOf(value));
  switch (type) {
    case 'CreatePool':
    case 'UpdatePool':
      return { type, data: { pool: value }, meta };
    case 'RequestLoadBalancer':
      return { type, data: { loadBalancer: value }, meta };
    default:
      return { type, data: { body: value }, meta };
  }
}

/** How stored messages map to domain commands and events, and events to subjects. */
export interface WireCodec {
  /** null when the subject is not an input */
  toCommand(event: StoredEvent): IpamCommand | null;
  /** the domain event type of an outcome subject, or null */
  eventType(subject: string): IpamEvent['type'] | null;
  subjectOf(event: IpamEvent): string;
}

/** The wire codec the service decides with, so a replay reads every input exactly as the service did. */
export function serviceCodec(maxBytes: number): WireCodec {
  return {
    toCommand: (e) =>
      isInputSubject(e.subject)
        ? inputCommand(e.subject, e.data, { seq: e.seq, id: e.msgId }, maxBytes)
        : null,
    eventType: (subject) =>
      Object.prototype.hasOwnProperty.call(EVENT_TYPE_BY_SUBJECT, subject)
        ? EVENT_TYPE_BY_SUBJECT[subject]
        : null,
    subjectOf: outcomeSubject,
  };
}
