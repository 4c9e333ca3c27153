import { ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsInt, IsOptional, IsRFC3339, Min } from 'class-validator';
import type { AsOf } from '../../../../libs/ipam-audit/src/index.js';
import { badRequest } from './http-errors.js';

export class AsOfQuery {
  @ApiPropertyOptional({ description: 'RFC 3339 time, e.g. 2026-11-24T14:05:00Z' })
  @IsOptional()
  @IsRFC3339({ message: 'at must be an RFC 3339 time such as 2026-11-24T14:05:00Z' })
  at?: string;

  @ApiPropertyOptional({ description: 'stream sequence' })
  @IsOptional()
  @Transform(({ value }) => (typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : value))
  @IsInt({ message: 'seq must be a whole number, a stream sequence' })
  @Min(1, { message: 'seq must be at least 1' })
  seq?: number;
}

export function asOf(q: AsOfQuery): AsOf | undefined {
  if (q.at !== undefined && q.seq !== undefined) throw badRequest('give either at or seq, not both');
  if (q.at !== undefined) return { time: Date.parse(q.at) };
  if (q.seq !== undefined) return { seq: q.seq };
  return undefined;
}
