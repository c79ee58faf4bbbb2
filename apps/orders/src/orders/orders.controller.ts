import { Body, Controller, Get, Post, Query, Res } from '@nestjs/common';
import { RequireScopes } from '@app/auth';
import { Idempotent } from '@app/idempotency';
import {
  annotateRequestLog,
  ApiCommonProblems,
  ApiIdParam,
  ApiProblems,
  IdParam,
} from '@app/platform';
import type { Response } from 'express';
import {
  CreateOrderDto,
  ListOrdersQueryDto,
  OrderCreatedDto,
  OrderDto,
  OrderListDto,
  pageAnswer,
} from '@app/contracts';
import {
  ApiCreatedResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
} from '@nestjs/swagger';
import { OrdersService } from './orders.service';

/** What a route that asks the users service may answer when that fails. */
const USERS_SERVICE_PROBLEMS = {
  502: 'The users service answered something unusable (5xx, not JSON, not a user)',
  503: 'The users service is unreachable, its circuit is open, or too many calls to it are in flight; see Retry-After',
  504: 'The users service did not answer within USERS_SERVICE_TIMEOUT_MS',
};

@ApiTags('orders')
@ApiCommonProblems()
@Controller('orders')
export class OrdersController {
  constructor(private readonly orders: OrdersService) {}

  @Get(':id')
  @RequireScopes('orders:read')
  @ApiOperation({
    operationId: 'getOrder',
    summary: 'Get an order with its user',
    description:
      'The user is asked of the users service on every request (revalidating the copy orders holds). When users cannot be asked, the last copy it confirmed within USERS_STALE_IF_ERROR_S stands in, and Cache-Status says so; past that, the 502/503/504 below.',
  })
  @ApiIdParam('The order id')
  @ApiOkResponse({
    type: OrderDto,
    description: 'The order, with its user as the users service knows it',
    headers: {
      'Cache-Status': {
        description:
          'RFC 9211, only when `user` is a copy users could not confirm now: `orders; hit; ttl=-<seconds since users confirmed it>; detail=stale-if-error`',
        schema: { type: 'string' },
      },
    },
  })
  @ApiProblems({
    400: 'The id is not a positive integer',
    404: 'No order has this id',
    ...USERS_SERVICE_PROBLEMS,
  })
  async get(
    @IdParam() id: number,
    @Res({ passthrough: true }) response: Response,
  ): Promise<OrderDto> {
    const { order, user, copy } = await this.orders.get(id);
    if (copy) {
      response.setHeader(
        'Cache-Status',
        `orders; hit; ttl=-${copy.ageS}; detail=stale-if-error`,
      );
      annotateRequestLog({ user_copy_age_s: copy.ageS });
    }
    return { user_id: order.userId, product: order.product, user };
  }

  @Post()
  @RequireScopes('orders:write')
  @Idempotent()
  @ApiOperation({
    operationId: 'createOrder',
    summary: 'Create an order',
    description: 'The users service is asked first whether the user exists.',
  })
  @ApiCreatedResponse({
    type: OrderCreatedDto,
    description: 'Created: its id',
  })
  @ApiProblems({
    400: 'A field is missing, wrong or unknown, or the body is not a JSON object',
    409: 'A request with this Idempotency-Key is still running',
    413: 'The body is over 100 kB',
    415: 'The body is not JSON',
    422: 'The users service does not know user_id; or this Idempotency-Key was used with a different request',
    ...USERS_SERVICE_PROBLEMS,
  })
  async create(@Body() body: CreateOrderDto): Promise<OrderCreatedDto> {
    const order = await this.orders.create(body);
    return { order_id: order.id };
  }

  @Get()
  @RequireScopes('orders:read')
  @ApiOperation({
    operationId: 'listOrders',
    summary: "List orders in id order, optionally one user's",
    description: 'Never calls the users service.',
  })
  @ApiOkResponse({ type: OrderListDto, description: 'One page of orders' })
  @ApiProblems({
    400: 'limit, offset or user_id is out of range, or the query has an unknown key',
  })
  async list(@Query() query: ListOrdersQueryDto): Promise<OrderListDto> {
    const page = await this.orders.list({
      userId: query.user_id,
      limit: query.limit,
      offset: query.offset,
    });
    return pageAnswer(query, page, (order) => ({
      order_id: order.id,
      user_id: order.userId,
      product: order.product,
    }));
  }
}
