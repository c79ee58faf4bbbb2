import { Body, Controller, Get, Post, Query } from '@nestjs/common';
import { Idempotent, IdParam } from '@app/common';
import {
  CreateOrderDto,
  ListOrdersQueryDto,
  OrderCreatedDto,
  OrderDto,
  OrderListDto,
} from '@app/contracts';
import { OrdersService } from './orders.service';

@Controller('orders')
export class OrdersController {
  constructor(private readonly orders: OrdersService) {}

  @Get(':id')
  async get(@IdParam() id: number): Promise<OrderDto> {
    const { order, user } = await this.orders.get(id);
    return { user_id: order.userId, product: order.product, user };
  }

  @Post()
  @Idempotent()
  async create(@Body() body: CreateOrderDto): Promise<OrderCreatedDto> {
    const order = await this.orders.create(body);
    return { order_id: order.id };
  }

  @Get()
  async list(@Query() query: ListOrdersQueryDto): Promise<OrderListDto> {
    const { items, total } = await this.orders.list({
      userId: query.user_id,
      limit: query.limit,
      offset: query.offset,
    });
    return {
      items: items.map(({ id, userId, product }) => ({
        order_id: id,
        user_id: userId,
        product,
      })),
      total,
      limit: query.limit,
      offset: query.offset,
    };
  }
}
