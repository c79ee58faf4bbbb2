import { ApiProperty, ApiPropertyOptional, ApiSchema } from '@nestjs/swagger';
import {
  IsInt,
  IsNotEmpty,
  IsOptional,
  IsString,
  Max,
  MaxLength,
  Min,
} from 'class-validator';
import { PageDto, PageQueryDto } from './pagination.dto';
import {
  IsRequired,
  NoControlCharacters,
  TEXT_PATTERN,
  QueryInt,
  Trim,
} from './transforms';
import { UserDto } from './users.dto';

const PRODUCT_MAX_LENGTH = 200;

/** Body of `POST /orders`. `user_id` must be a JSON integer: `"2"` or `2.5` is refused. */
@ApiSchema({ name: 'CreateOrder' })
export class CreateOrderDto {
  @ApiProperty({
    type: 'integer',
    minimum: 1,
    maximum: Number.MAX_SAFE_INTEGER,
    description: 'A user the users service knows',
    example: 2,
  })
  @Max(Number.MAX_SAFE_INTEGER)
  @Min(1)
  @IsInt()
  @IsRequired()
  user_id: number;

  @ApiProperty({
    description: 'Trimmed; not blank; no control characters',
    minLength: 1,
    maxLength: PRODUCT_MAX_LENGTH,
    pattern: TEXT_PATTERN,
    example: 'Tablet',
  })
  @Trim()
  @MaxLength(PRODUCT_MAX_LENGTH)
  @NoControlCharacters()
  @IsNotEmpty()
  @IsString()
  @IsRequired()
  product: string;
}

/** Body of `GET /orders/:id`: the seed's, with `user` null when the users app no longer knows the user. */
@ApiSchema({ name: 'Order' })
export class OrderDto {
  @ApiProperty({ type: 'integer', minimum: 1, example: 1 })
  user_id: number;

  @ApiProperty({ example: 'Laptop' })
  product: string;

  // Written as OpenAPI 3.0 has it: an object that is a User (allOf), or null (nullable beside the
  // type); what client generators read as `User | null`.
  @ApiProperty({
    type: () => UserDto,
    nullable: true,
    description:
      'As the users service knows the user now; null if it no longer does',
  })
  user: UserDto | null;
}

/** Body of a 201 from `POST /orders`. */
@ApiSchema({ name: 'OrderCreated' })
export class OrderCreatedDto {
  @ApiProperty({ type: 'integer', minimum: 1, example: 3 })
  order_id: number;
}

/** One item of `GET /orders`; the user is not embedded, so listing never calls the users app. */
@ApiSchema({ name: 'OrderListItem' })
export class OrderListItemDto {
  @ApiProperty({ type: 'integer', minimum: 1, example: 1 })
  order_id: number;

  @ApiProperty({ type: 'integer', minimum: 1, example: 1 })
  user_id: number;

  @ApiProperty({ example: 'Laptop' })
  product: string;
}

/** Body of `GET /orders`. */
@ApiSchema({ name: 'OrderList' })
export class OrderListDto extends PageDto {
  @ApiProperty({ type: [OrderListItemDto] })
  items: OrderListItemDto[];
}

/** Query of `GET /orders`. */
export class ListOrdersQueryDto extends PageQueryDto {
  @ApiPropertyOptional({
    type: 'integer',
    minimum: 1,
    maximum: Number.MAX_SAFE_INTEGER,
    description: "Only this user's orders",
  })
  @IsOptional()
  @QueryInt()
  @Max(Number.MAX_SAFE_INTEGER)
  @Min(1)
  @IsInt()
  user_id?: number;
}
