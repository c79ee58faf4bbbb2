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
import { IsRequired, QueryInt, Trim } from './transforms';
import { UserDto } from './users.dto';

export const PRODUCT_MAX_LENGTH = 200;

/** Body of `POST /orders`. `user_id` must be a JSON integer: `"2"` or `2.5` is refused. */
export class CreateOrderDto {
  @Max(Number.MAX_SAFE_INTEGER)
  @Min(1)
  @IsInt()
  @IsRequired()
  user_id: number;

  @Trim()
  @MaxLength(PRODUCT_MAX_LENGTH)
  @IsNotEmpty()
  @IsString()
  @IsRequired()
  product: string;
}

/** Body of `GET /orders/:id`: the seed's, with `user` null when the users app no longer knows the user. */
export class OrderDto {
  user_id: number;
  product: string;
  user: UserDto | null;
}

/** Body of a 201 from `POST /orders`. */
export class OrderCreatedDto {
  order_id: number;
}

/** One item of `GET /orders`; the user is not embedded, so listing never calls the users app. */
export class OrderListItemDto {
  order_id: number;
  user_id: number;
  product: string;
}

export type OrderListDto = PageDto<OrderListItemDto>;

/** Query of `GET /orders`. */
export class ListOrdersQueryDto extends PageQueryDto {
  @IsOptional()
  @QueryInt()
  @Max(Number.MAX_SAFE_INTEGER)
  @Min(1)
  @IsInt()
  user_id?: number;
}
