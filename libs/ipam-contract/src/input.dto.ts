/**
 * Shapes of the input bodies, checked at the boundary with class-validator before the domain sees
 * them. Only types and presence are checked here; what the values mean (a CIDR, a scope, a name that
 * exists) is the domain's to judge. Unknown fields are allowed (Kubernetes objects carry many).
 */
import { Type } from 'class-transformer';
import { JSONSchema } from 'class-validator-jsonschema';
import { declareFreeText } from './validate-body.js';
import {
  ArrayMaxSize,
  IsArray,
  IsBoolean,
  IsIn,
  IsInt,
  IsNotEmpty,
  IsObject,
  IsOptional,
  IsString,
  Min,
  ValidateNested,
  ValidationArguments,
  ValidatorConstraint,
  ValidatorConstraintInterface,
  Validate,
} from 'class-validator';

const SCOPE_KEYS = ['project', 'namespace', 'guestCluster', 'cluster'];

@ValidatorConstraint({ name: 'scope' })
class ScopeConstraint implements ValidatorConstraintInterface {
  validate(value: unknown): boolean {
    if (value === undefined || value === null) return true;
    const tuples = Array.isArray(value) ? value : [value];
    return tuples.every(
      (t) =>
        typeof t === 'object' &&
        t !== null &&
        !Array.isArray(t) &&
        // a key it does not know is the domain's to drop with a warning (semantics section 9)
        Object.entries(t).every(([k, v]) => !SCOPE_KEYS.includes(k) || v === null || typeof v === 'string'),
    );
  }
  defaultMessage(args: ValidationArguments): string {
    return `${args.property} must be an object, or a list of objects, with string fields project, namespace and guestCluster (or cluster)`;
  }
}

@ValidatorConstraint({ name: 'stringMap' })
class StringMapConstraint implements ValidatorConstraintInterface {
  validate(value: unknown): boolean {
    if (value === undefined || value === null) return true;
    return (
      typeof value === 'object' &&
      !Array.isArray(value) &&
      Object.values(value as object).every((v) => typeof v === 'string')
    );
  }
  defaultMessage(args: ValidationArguments): string {
    return `${args.property} must be an object whose values are strings`;
  }
}

/** One scope tuple as it may arrive: missing fields are "", `cluster` is another spelling of `guestCluster`. */
export class ScopeTupleInputDto {
  @IsOptional()
  @IsString()
  @JSONSchema({ type: ['string', 'null'] })
  project?: string;

  @IsOptional()
  @IsString()
  @JSONSchema({ type: ['string', 'null'] })
  namespace?: string;

  @IsOptional()
  @IsString()
  @JSONSchema({ type: ['string', 'null'] })
  guestCluster?: string;

  @IsOptional()
  @IsString()
  @JSONSchema({ type: ['string', 'null'], description: 'the doc page spelling of guestCluster' })
  cluster?: string;
}

/** Who asked for an input: a token's name, a JWT's subject, a NATS user. Outcomes repeat it. */
const ACTOR_DOC = {
  description: 'who asked (a token name, a JWT subject, a NATS user); the outcome and the audit repeat it',
};

/** The metadata of an input that names nothing else: only who asked. */
export class ActorMetadataDto {
  @IsOptional()
  @IsString()
  @JSONSchema(ACTOR_DOC)
  actor?: string;
}

export class PoolMetadataDto extends ActorMetadataDto {
  @IsString()
  @IsNotEmpty()
  name!: string;
}

export class RangeDto {
  @IsString()
  @IsNotEmpty()
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
  @JSONSchema({
    description:
      'addresses never allocated and not counted: each an address, an a-b range (both ends included) or a CIDR, inside the subnet',
  })
  exclude?: string[];
}

export class SelectorDto {
  @IsOptional()
  @IsInt()
  @Min(0)
  priority?: number;

  @IsOptional()
  @IsString()
  network?: string;

  @IsOptional()
  @Validate(ScopeConstraint)
  @JSONSchema({
    description:
      'a list of scope tuples (or one tuple); a pool matches when any tuple matches; "*" is the wildcard',
    oneOf: [
      { type: 'array', items: { $ref: '#/components/schemas/ScopeTupleInput' } },
      { $ref: '#/components/schemas/ScopeTupleInput' },
    ],
  })
  scope?: unknown;
}

export class PoolSpecDto {
  @IsOptional()
  @IsString()
  description?: string;

  @IsArray()
  @ValidateNested({ each: true })
  @Type(() => RangeDto)
  ranges!: RangeDto[];

  @IsOptional()
  @IsObject()
  @ValidateNested()
  @Type(() => SelectorDto)
  selector?: SelectorDto;

  @IsOptional()
  @IsBoolean()
  @JSONSchema({
    description:
      'default true; false: selection never picks the pool, a load balancer naming it (spec.ipPool) still gets an address from it',
  })
  autoAssign?: boolean;
}

/** PoolCreated / PoolUpdated: an IPPool object. */
export class IPPoolDto {
  @IsOptional()
  @IsString()
  apiVersion?: string;

  @IsOptional()
  @IsString()
  kind?: string;

  @IsObject()
  @ValidateNested()
  @Type(() => PoolMetadataDto)
  metadata!: PoolMetadataDto;

  @IsObject()
  @ValidateNested()
  @Type(() => PoolSpecDto)
  spec!: PoolSpecDto;
}

/** PoolDeleted: {metadata: {name}}. */
export class PoolRefDto {
  @IsObject()
  @ValidateNested()
  @Type(() => PoolMetadataDto)
  metadata!: PoolMetadataDto;
}

export class LbRefMetadataDto extends ActorMetadataDto {
  @IsString()
  @IsNotEmpty()
  namespace!: string;

  @IsString()
  @IsNotEmpty()
  name!: string;
}

export class LbMetadataDto extends LbRefMetadataDto {
  @IsOptional()
  @Validate(StringMapConstraint)
  @JSONSchema({
    type: 'object',
    additionalProperties: { type: 'string' },
    description:
      'loadbalancer.harvesterhci.io/network, .../project, .../namespace, .../cluster select the pool',
  })
  annotations?: Record<string, string>;
}

export class LbSpecDto {
  @IsOptional()
  @IsIn(['vm', 'cluster', ''])
  workloadType?: string;

  @IsOptional()
  @IsString()
  ipPool?: string;

  @IsOptional()
  @IsString()
  ip?: string;

  @IsOptional()
  @IsString()
  @JSONSchema({
    description:
      'load balancers of one namespace with the same sharing key share one address (each later one gets the address the key holds)',
  })
  sharingKey?: string;

  @IsOptional()
  @IsArray()
  @ArrayMaxSize(2)
  @IsIn(['IPv4', 'IPv6'], { each: true })
  @JSONSchema({
    description:
      '["IPv4"], ["IPv6"], or both in order of preference: one address of each family; absent: one address of the selected pool, either family',
  })
  ipFamilies?: string[];
}

/** LBRequested: a LoadBalancer object. */
export class LoadBalancerDto {
  @IsObject()
  @ValidateNested()
  @Type(() => LbMetadataDto)
  metadata!: LbMetadataDto;

  @IsOptional()
  @IsObject()
  @ValidateNested()
  @Type(() => LbSpecDto)
  spec?: LbSpecDto;
}

/** LBDeleted: {metadata: {namespace, name}}. */
export class LoadBalancerRefDto {
  @IsObject()
  @ValidateNested()
  @Type(() => LbRefMetadataDto)
  metadata!: LbRefMetadataDto;
}

/** Force-release of an address: {ip, ipPool?}. */
export class ReleaseAddressDto {
  @IsString()
  @IsNotEmpty()
  ip!: string;

  @IsOptional()
  @IsString()
  ipPool?: string;

  @IsOptional()
  @IsObject()
  @ValidateNested()
  @Type(() => ActorMetadataDto)
  metadata?: ActorMetadataDto;
}

export class HistoryEntryDto {
  @IsString()
  @IsNotEmpty()
  ip!: string;

  @IsString()
  @IsNotEmpty()
  loadBalancer!: string;
}

/** History import (vip-pools migration): {ipPool, entries: [{ip, loadBalancer}]}. */
export class ImportHistoryDto {
  @IsString()
  @IsNotEmpty()
  ipPool!: string;

  @IsArray()
  @ValidateNested({ each: true })
  @Type(() => HistoryEntryDto)
  entries!: HistoryEntryDto[];

  @IsOptional()
  @IsObject()
  @ValidateNested()
  @Type(() => ActorMetadataDto)
  metadata?: ActorMetadataDto;
}

// Texts no rule reads beyond type and emptiness: one verdict of class-validator serves every load
// balancer name and every pool description (validate-body.ts; checked here, at load, against the
// decorators above).
declareFreeText(LoadBalancerDto, [
  ['metadata', 'namespace'],
  ['metadata', 'name'],
  ['metadata', 'actor'],
]);
declareFreeText(LoadBalancerRefDto, [
  ['metadata', 'namespace'],
  ['metadata', 'name'],
  ['metadata', 'actor'],
]);
declareFreeText(PoolRefDto, [
  ['metadata', 'name'],
  ['metadata', 'actor'],
]);
declareFreeText(IPPoolDto, [
  ['apiVersion'],
  ['kind'],
  ['metadata', 'name'],
  ['metadata', 'actor'],
  ['spec', 'description'],
]);
declareFreeText(ReleaseAddressDto, [['ip'], ['ipPool'], ['metadata', 'actor']]);
