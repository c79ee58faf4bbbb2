import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsInt, IsOptional, Max, Min } from 'class-validator';
import { QueryInt } from './transforms';

const DEFAULT_PAGE_LIMIT = 50;
const MAX_PAGE_LIMIT = 100;

/** `?limit=&offset=` of the list routes. */
export class PageQueryDto {
  @ApiPropertyOptional({
    type: 'integer',
    minimum: 1,
    maximum: MAX_PAGE_LIMIT,
    default: DEFAULT_PAGE_LIMIT,
    description: 'How many items to return',
  })
  @IsOptional()
  @QueryInt()
  @Max(MAX_PAGE_LIMIT)
  @Min(1)
  @IsInt()
  limit: number = DEFAULT_PAGE_LIMIT;

  @ApiPropertyOptional({
    type: 'integer',
    minimum: 0,
    maximum: Number.MAX_SAFE_INTEGER,
    default: 0,
    description: 'How many items to skip, in id order',
  })
  @IsOptional()
  @QueryInt()
  @Max(Number.MAX_SAFE_INTEGER)
  @Min(0)
  @IsInt()
  offset: number = 0;
}

/** The members every list answer has besides its items. */
export class PageDto {
  @ApiProperty({
    type: 'integer',
    description: 'How many items there are in all',
    example: 2,
  })
  total: number;

  @ApiProperty({ type: 'integer', example: DEFAULT_PAGE_LIMIT })
  limit: number;

  @ApiProperty({ type: 'integer', example: 0 })
  offset: number;
}

/** Which page of a list a caller asks a store for. */
export interface PageRequest {
  limit: number;
  offset: number;
}

/** One page of a list as a store answers it: the items asked for, and how many there are in all. */
export interface Page<T> {
  items: T[];
  total: number;
}

/** A list's answer: the page a store gave for `request`, each item as the wire has it. */
export function pageAnswer<T, Item>(
  request: PageRequest,
  { items, total }: Page<T>,
  toItem: (item: T) => Item,
): { items: Item[]; total: number; limit: number; offset: number } {
  return {
    items: items.map(toItem),
    total,
    limit: request.limit,
    offset: request.offset,
  };
}
