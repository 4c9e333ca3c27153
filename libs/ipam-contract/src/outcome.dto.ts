/**
 * Shapes of the outcome bodies the service publishes and of the query replies, as decorated classes:
 * the one source of their JSON Schemas (schemas.ts). The domain's event types (pool.events.ts) are
 * what the service builds; tests check that what it builds matches these schemas.
 */
import { Type } from 'class-transformer';
import {
  Allow,
  IsArray,
  IsBoolean,
  IsIn,
  IsInt,
  IsObject,
  IsOptional,
  IsString,
  Min,
  ValidateNested,
} from 'class-validator';
import { JSONSchema } from 'class-validator-jsonschema';

/** A field that may be null is still always present (required): its schema is given here. */
const NULLABLE_STRING: { type: Array<'string' | 'null'> } = { type: ['string', 'null'] };
const COUNT: Record<string, unknown> = {
  description: 'exact count: a JSON number while it is a safe integer, else a decimal string (IPv6)',
  oneOf: [
    { type: 'integer', minimum: 0 },
    { type: 'string', pattern: '^[0-9]+$' },
  ],
};
const ADDRESS_MAP: Record<string, unknown> = {
  type: 'object',
  additionalProperties: { type: 'string' },
  description: 'address -> "namespace/name"',
};

/** The causation fields every outcome carries. */
export class CausationDto {
  @IsInt()
  @Min(1)
  @JSONSchema({ description: 'stream sequence of the input this outcome answers' })
  causationSeq!: number;

  @Allow()
  @JSONSchema({ ...NULLABLE_STRING, description: "the input's Nats-Msg-Id, or null" })
  causationId!: string | null;

  @IsOptional()
  @IsString()
  @JSONSchema({ description: "who asked: the input's metadata.actor; absent when it named no one" })
  actor?: string;
}

export class RangeSpecDto {
  @IsString()
  subnet!: string;

  @IsOptional()
  @IsString()
  rangeStart?: string;

  @IsOptional()
  @IsString()
  rangeEnd?: string;

  @IsOptional()
  @IsString()
  gateway?: string;

  @IsOptional()
  @IsArray()
  @IsString({ each: true })
  @JSONSchema({ description: 'the excluded addresses as written (a-b ranges, CIDRs); absent when none' })
  exclude?: string[];
}

export class ScopeTupleDto {
  @IsString()
  project!: string;

  @IsString()
  namespace!: string;

  @IsString()
  guestCluster!: string;
}

export class CanonicalSelectorDto {
  @IsInt()
  @Min(0)
  priority!: number;

  @IsOptional()
  @IsString()
  network?: string;

  @IsArray()
  @ValidateNested({ each: true })
  @Type(() => ScopeTupleDto)
  scope!: ScopeTupleDto[];
}

@JSONSchema({
  description: 'a pool spec in canonical form: scope a list of full tuples, `cluster` spelled `guestCluster`',
})
export class CanonicalPoolSpecDto {
  @IsOptional()
  @IsString()
  description?: string;

  @IsArray()
  @ValidateNested({ each: true })
  @Type(() => RangeSpecDto)
  ranges!: RangeSpecDto[];

  @IsObject()
  @ValidateNested()
  @Type(() => CanonicalSelectorDto)
  selector!: CanonicalSelectorDto;

  @IsOptional()
  @IsIn([false])
  @JSONSchema({
    type: 'boolean',
    enum: [false],
    description: 'present only when false: selection never picks the pool',
  })
  autoAssign?: false;
}

@JSONSchema({ description: 'ipam.pool.accepted: a pool input that took effect' })
export class PoolAcceptedDto extends CausationDto {
  @IsString()
  name!: string;

  @IsIn(['created', 'updated', 'deleted'])
  change!: string;

  @IsOptional()
  @ValidateNested()
  @Type(() => CanonicalPoolSpecDto)
  @JSONSchema({
    description: 'the canonical spec in force after a created or updated change; absent for deleted',
  })
  spec?: CanonicalPoolSpecDto;

  @IsOptional()
  @IsArray()
  @IsString({ each: true })
  @JSONSchema({ description: 'unknown fields of the pool object that were dropped; absent when none' })
  warnings?: string[];
}

@JSONSchema({ description: 'ipam.pool.rejected: a pool input that did not take effect' })
export class PoolRejectedDto extends CausationDto {
  @IsString()
  name!: string;

  @IsString()
  @JSONSchema({ description: 'a stable machine word, e.g. RangeOverlap' })
  code!: string;

  @IsString()
  @JSONSchema({ description: 'a sentence a person can act on' })
  reason!: string;
}

@JSONSchema({ description: 'one address a dual-stack load balancer holds' })
export class HeldAddressDto {
  @IsString()
  ip!: string;

  @IsString()
  mask!: string;

  @IsInt()
  @Min(0)
  prefixLength!: number;

  @Allow()
  @JSONSchema({ ...NULLABLE_STRING })
  gateway!: string | null;

  @IsString()
  ipPool!: string;
}

@JSONSchema({ description: 'one address of a dual-stack allocation' })
export class AllocatedAddressDto extends HeldAddressDto {
  @IsBoolean()
  fromHistory!: boolean;
}

export class ReleasedAddressDto {
  @IsString()
  ip!: string;

  @IsString()
  ipPool!: string;
}

@JSONSchema({ description: 'ipam.ip.allocated: the address a load balancer holds' })
export class IPAllocatedDto extends CausationDto {
  @IsString()
  @JSONSchema({ description: '"namespace/name"' })
  loadBalancer!: string;

  @IsString()
  ipPool!: string;

  @IsString()
  ip!: string;

  @IsString()
  @JSONSchema({ description: 'the dotted mask for IPv4 (255.255.255.0); for IPv6 the mask in address form' })
  mask!: string;

  @IsInt()
  @Min(0)
  prefixLength!: number;

  @Allow()
  @JSONSchema({ ...NULLABLE_STRING, description: 'the range gateway, or null where there is none' })
  gateway!: string | null;

  @IsBoolean()
  @JSONSchema({ description: "true when the address came from the pool's allocation history" })
  fromHistory!: boolean;

  @IsOptional()
  @IsArray()
  @ValidateNested({ each: true })
  @Type(() => AllocatedAddressDto)
  @JSONSchema({
    description:
      'dual-stack (spec.ipFamilies with both families): every address, the first as in the fields above; absent for one address',
  })
  addresses?: AllocatedAddressDto[];

  @IsOptional()
  @IsString()
  @JSONSchema({
    description: 'the sharing key the address is held under (spec.sharingKey); absent without one',
  })
  sharingKey?: string;

  @IsOptional()
  @IsArray()
  @IsString({ each: true })
  @JSONSchema({
    description:
      'the other load balancers holding the same address(es) under the sharing key, oldest first; absent when none',
  })
  sharedWith?: string[];
}

@JSONSchema({ description: 'ipam.lb.rejected: a load balancer input that could not be served' })
export class LBRejectedDto extends CausationDto {
  @IsString()
  loadBalancer!: string;

  @IsString()
  code!: string;

  @IsString()
  reason!: string;
}

@JSONSchema({
  description: "ipam.ip.released: a holder's address went back to its pool (and into its history)",
})
export class IPReleasedDto extends CausationDto {
  @IsString()
  loadBalancer!: string;

  @IsString()
  ipPool!: string;

  @IsString()
  ip!: string;

  @IsOptional()
  @IsBoolean()
  @JSONSchema({ description: 'true when an operator force-released the address; absent otherwise' })
  forced?: boolean;

  @IsOptional()
  @IsArray()
  @ValidateNested({ each: true })
  @Type(() => ReleasedAddressDto)
  @JSONSchema({ description: 'every address a dual-stack holder released; absent for one address' })
  addresses?: ReleasedAddressDto[];

  @IsOptional()
  @IsArray()
  @IsString({ each: true })
  @JSONSchema({
    description:
      'present when the address stays allocated: the load balancers still holding it under the sharing key; absent when it went back to the pool',
  })
  stillSharedBy?: string[];
}

export class RestoredEntryDto {
  @IsString()
  ip!: string;

  @IsString()
  loadBalancer!: string;
}

@JSONSchema({ description: 'ipam.pool.historyrestored: history entries now in the pool' })
export class HistoryRestoredDto extends CausationDto {
  @IsString()
  ipPool!: string;

  @IsArray()
  @ValidateNested({ each: true })
  @Type(() => RestoredEntryDto)
  entries!: RestoredEntryDto[];
}

@JSONSchema({ description: 'ipam.ip.rejected: a force-release that could not be served' })
export class AddressRejectedDto extends CausationDto {
  @IsString()
  ip!: string;

  @Allow()
  @JSONSchema({ ...NULLABLE_STRING })
  ipPool!: string | null;

  @IsString()
  code!: string;

  @IsString()
  reason!: string;
}

export class PoolStatusDto {
  @Allow()
  @JSONSchema(COUNT)
  total!: number | string;

  @Allow()
  @JSONSchema(COUNT)
  available!: number | string;

  @IsString()
  @JSONSchema({ description: 'the last address handed out, or ""' })
  lastAllocated!: string;

  @IsObject()
  @JSONSchema(ADDRESS_MAP)
  allocated!: Record<string, string>;

  @IsObject()
  @JSONSchema({ ...ADDRESS_MAP, description: 'address -> its last holder, "namespace/name"' })
  allocatedHistory!: Record<string, string>;

  @IsOptional()
  @IsObject()
  @JSONSchema({
    type: 'object',
    additionalProperties: { type: 'array', items: { type: 'string' } },
    description:
      'address -> every load balancer holding it under one sharing key, oldest first (allocated names the oldest); only shared addresses; absent when none',
  })
  shared?: Record<string, string[]>;

  @IsOptional()
  @IsArray()
  @IsString({ each: true })
  @JSONSchema({
    description:
      'the excluded addresses inside the ranges, merged, in address order ("10.0.0.5", "10.0.0.10-10.0.0.20"); absent when none',
  })
  excluded?: string[];
}

export class PoolViewMetadataDto {
  @IsString()
  name!: string;

  @IsString()
  @JSONSchema({
    pattern: '^[0-9]+$',
    description:
      "the pool's version: the stream sequence (decimal) of the input whose ipam.pool.accepted last created " +
      'or updated it; allocations do not change it. Over HTTP also the ETag ("<seq>") that If-Match takes',
  })
  resourceVersion!: string;
}

@JSONSchema({ description: 'an IPPool with its status' })
export class PoolViewDto {
  @IsString()
  apiVersion!: string;

  @IsIn(['IPPool'])
  kind!: string;

  @ValidateNested()
  @Type(() => PoolViewMetadataDto)
  metadata!: PoolViewMetadataDto;

  @ValidateNested()
  @Type(() => CanonicalPoolSpecDto)
  spec!: CanonicalPoolSpecDto;

  @ValidateNested()
  @Type(() => PoolStatusDto)
  status!: PoolStatusDto;
}

@JSONSchema({ description: 'every pool with its status' })
export class PoolListDto {
  @IsArray()
  @ValidateNested({ each: true })
  @Type(() => PoolViewDto)
  items!: PoolViewDto[];
}

@JSONSchema({ description: 'the address a load balancer holds now' })
export class LoadBalancerViewDto {
  @IsString()
  loadBalancer!: string;

  @IsString()
  ipPool!: string;

  @IsString()
  ip!: string;

  @IsString()
  mask!: string;

  @IsInt()
  prefixLength!: number;

  @Allow()
  @JSONSchema({ ...NULLABLE_STRING })
  gateway!: string | null;

  @IsOptional()
  @IsArray()
  @ValidateNested({ each: true })
  @Type(() => HeldAddressDto)
  @JSONSchema({ description: 'every address it holds, when more than one (dual-stack)' })
  addresses?: HeldAddressDto[];

  @IsOptional()
  @IsString()
  sharingKey?: string;

  @IsOptional()
  @IsArray()
  @IsString({ each: true })
  @JSONSchema({ description: 'the other holders of its address(es) under the sharing key, oldest first' })
  sharedWith?: string[];
}

export class ErrorDetailDto {
  @IsString()
  code!: string;

  @IsString()
  reason!: string;
}

@JSONSchema({ description: 'the error reply of a query' })
export class QueryErrorDto {
  @ValidateNested()
  @Type(() => ErrorDetailDto)
  error!: ErrorDetailDto;
}

export class PointDto {
  @IsInt()
  seq!: number;

  @IsOptional()
  @IsString()
  @JSONSchema({ description: 'who asked for the input (its metadata.actor), when it said' })
  actor?: string;

  @IsString()
  @JSONSchema({ format: 'date-time' })
  time!: string;

  @IsInt()
  causationSeq!: number;
}

export class ReleasePointDto extends PointDto {
  @IsBoolean()
  forced!: boolean;
}

@JSONSchema({ description: 'one holder of an address, from its allocation to its release (null while held)' })
export class HoldingDto {
  @IsString()
  ip!: string;

  @IsString()
  ipPool!: string;

  @IsString()
  loadBalancer!: string;

  @IsBoolean()
  fromHistory!: boolean;

  @ValidateNested()
  @Type(() => PointDto)
  from!: PointDto;

  @Allow()
  @JSONSchema({ oneOf: [{ $ref: '#/components/schemas/ReleasePoint' }, { type: 'null' }] })
  to!: ReleasePointDto | null;
}

@JSONSchema({ description: 'every holder of an address (the most recent `limit`, oldest first)' })
export class AddressTimelineDto {
  @IsString()
  ip!: string;

  @IsInt()
  total!: number;

  @IsArray()
  @ValidateNested({ each: true })
  @Type(() => HoldingDto)
  holders!: HoldingDto[];
}

@JSONSchema({ description: 'an address the load balancer held' })
export class HeldEntryDto extends HoldingDto {
  @IsIn(['held'])
  kind!: string;
}

@JSONSchema({ description: 'a rejection the load balancer got' })
export class RejectedEntryDto {
  @IsIn(['rejected'])
  kind!: string;

  @IsString()
  loadBalancer!: string;

  @IsString()
  code!: string;

  @IsString()
  reason!: string;

  @ValidateNested()
  @Type(() => PointDto)
  at!: PointDto;
}

@JSONSchema({
  description:
    'every address a load balancer held and every rejection it got (the most recent `limit`, oldest first)',
})
export class LoadBalancerTimelineDto {
  @IsString()
  loadBalancer!: string;

  @IsInt()
  total!: number;

  @IsArray()
  @JSONSchema({
    items: {
      oneOf: [{ $ref: '#/components/schemas/HeldEntry' }, { $ref: '#/components/schemas/RejectedEntry' }],
    },
  })
  entries!: Array<HeldEntryDto | RejectedEntryDto>;
}

/** Query requests (core NATS request/reply, not stored). */
@JSONSchema({ description: 'ipam.query.pools request: {}' })
export class PoolsQueryDto {}

@JSONSchema({ description: 'ipam.query.pool request' })
export class PoolQueryDto {
  @IsString()
  name!: string;
}

@JSONSchema({ description: 'ipam.query.lb request' })
export class LoadBalancerQueryDto {
  @IsString()
  namespace!: string;

  @IsString()
  name!: string;
}

export class AsOfQueryDto {
  @IsOptional()
  @IsString()
  @JSONSchema({ format: 'date-time', description: 'as of this time (RFC 3339)' })
  at?: string;

  @IsOptional()
  @IsInt()
  @Min(0)
  @JSONSchema({ description: 'as of this stream sequence' })
  seq?: number;

  @IsOptional()
  @IsInt()
  @Min(1)
  @JSONSchema({ maximum: 5000, description: 'the most recent entries to return (default 1000)' })
  limit?: number;
}

@JSONSchema({ description: 'ipam.query.audit.address request' })
export class AuditAddressQueryDto extends AsOfQueryDto {
  @IsString()
  ip!: string;
}

@JSONSchema({ description: 'ipam.query.audit.lb request' })
export class AuditLoadBalancerQueryDto extends AsOfQueryDto {
  @IsString()
  namespace!: string;

  @IsString()
  name!: string;
}

@JSONSchema({ description: 'ipam.query.whatif request: an input as it would be published; nothing is stored' })
export class WhatIfQueryDto {
  @IsString()
  @JSONSchema({ description: 'an input subject, e.g. ipam.pool.updated' })
  subject!: string;

  @Allow()
  @JSONSchema({ description: "the input's body (any JSON: a body the service cannot read gets its InvalidEvent)" })
  body!: unknown;
}

@JSONSchema({ description: 'a load balancer whose address a pool update or delete would touch, and how' })
export class AffectedLoadBalancerDto {
  @IsString()
  @JSONSchema({ description: '"namespace/name"' })
  loadBalancer!: string;

  @IsString()
  ipPool!: string;

  @IsString()
  ip!: string;

  @IsIn(['blocksUpdate', 'blocksDelete', 'historyPruned', 'historyExcluded'])
  @JSONSchema({
    description:
      'blocksUpdate: it holds an address the update takes away (so the update is rejected); blocksDelete: ' +
      'it holds an address of the pool (PoolInUse); historyPruned: its allocatedHistory entry goes (the ' +
      'address leaves the ranges, or the pool is deleted); historyExcluded: its history entry stays but the ' +
      'address becomes excluded, so it is not given back',
  })
  effect!: string;
}

@JSONSchema({
  description:
    'ipam.query.whatif reply: the outcome the input would get now, decided on the state as of the last ' +
    'answered input, never stored or applied. Its body is the outcome body with causationSeq the sequence ' +
    'the input would get if published now and causationId null (no input has it).',
})
export class WhatIfDto {
  @IsString()
  @JSONSchema({ description: 'the outcome subject it would get, e.g. ipam.pool.rejected' })
  subject!: string;

  @IsObject()
  @JSONSchema({ description: 'the outcome body it would get (causationId null)' })
  body!: Record<string, unknown>;

  @IsArray()
  @ValidateNested({ each: true })
  @Type(() => AffectedLoadBalancerDto)
  @JSONSchema({
    description: 'the load balancers a pool update or delete would affect, by pool, name and address; else []',
  })
  affected!: AffectedLoadBalancerDto[];
}
