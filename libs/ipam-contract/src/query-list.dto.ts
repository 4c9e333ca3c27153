/**
 * `ipam.query.lbs`: the load balancers holding an address, filtered and in pages (the request and the
 * reply, as decorated classes: their JSON Schemas are generated with the others in schemas.ts).
 */
import { Type } from 'class-transformer';
import { IsArray, IsInt, IsOptional, IsString, Max, Min, MinLength, ValidateNested } from 'class-validator';
import { JSONSchema } from 'class-validator-jsonschema';
import { LoadBalancerViewDto } from './outcome.dto.js';

@JSONSchema({
  description: 'ipam.query.lbs request: every field optional; {} is every load balancer holding an address',
})
export class LoadBalancersQueryDto {
  @IsOptional()
  @IsString()
  @MinLength(1)
  @JSONSchema({ description: 'only load balancers of this namespace' })
  namespace?: string;

  @IsOptional()
  @IsString()
  @MinLength(1)
  @JSONSchema({ description: 'only load balancers holding an address of this pool' })
  pool?: string;

  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(1000)
  @JSONSchema({ description: 'at most this many items; the reply has `continue` while more remain' })
  limit?: number;

  @IsOptional()
  @IsString()
  @MinLength(1)
  @JSONSchema({ description: 'the `continue` token of the previous reply (with the same filters)' })
  continue?: string;
}

@JSONSchema({ description: 'load balancers holding an address, by "namespace/name"' })
export class LoadBalancerListDto {
  @IsArray()
  @ValidateNested({ each: true })
  @Type(() => LoadBalancerViewDto)
  items!: LoadBalancerViewDto[];

  @IsOptional()
  @IsString()
  @JSONSchema({ description: 'present while more remain: send it as `continue` for the next page' })
  continue?: string;
}
