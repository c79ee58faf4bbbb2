import { IsInt, IsOptional, Max, Min } from 'class-validator';
import { QueryInt } from './transforms';

export const DEFAULT_PAGE_LIMIT = 50;
export const MAX_PAGE_LIMIT = 100;

export class PageQueryDto {
  @IsOptional()
  @QueryInt()
  @Max(MAX_PAGE_LIMIT)
  @Min(1)
  @IsInt()
  limit: number = DEFAULT_PAGE_LIMIT;

  @IsOptional()
  @QueryInt()
  @Max(Number.MAX_SAFE_INTEGER)
  @Min(0)
  @IsInt()
  offset: number = 0;
}

export interface PageDto<T> {
  items: T[];
  total: number;
  limit: number;
  offset: number;
}
