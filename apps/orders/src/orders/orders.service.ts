import { HttpStatus, Inject, Injectable } from '@nestjs/common';
import {
  type CreateOrderDto,
  type Page,
  ProblemException,
} from '@app/contracts';
import { UserLookup, UsersClient } from '../users-client/users.client';
import {
  Order,
  OrderListQuery,
  ORDERS_REPOSITORY,
  type OrdersRepository,
} from './orders.repository';

@Injectable()
export class OrdersService {
  constructor(
    @Inject(ORDERS_REPOSITORY) private readonly orders: OrdersRepository,
    private readonly usersClient: UsersClient,
  ) {}

  /**
   * The order with its user as the users app knows them now: null when the users app does not
   * know them (any more: erased, or forgotten by an in-memory users app), which is not this
   * order's fault. When users cannot be asked, the last copy it confirmed may stand in, and says so.
   */
  async get(id: number): Promise<{ order: Order } & UserLookup> {
    const order = await this.orders.findById(id);
    if (!order) {
      throw new ProblemException(HttpStatus.NOT_FOUND, `Order ${id} not found`);
    }
    return { order, ...(await this.usersClient.findUserOrCopy(order.userId)) };
  }

  /** Stores the order only once the users app has confirmed that its user exists. */
  async create(order: CreateOrderDto): Promise<Order> {
    const user = await this.usersClient.findUser(order.user_id);
    if (!user) {
      throw new ProblemException(
        HttpStatus.UNPROCESSABLE_ENTITY,
        `User ${order.user_id} does not exist`,
        {
          errors: [
            {
              field: 'user_id',
              message: `user ${order.user_id} does not exist`,
            },
          ],
        },
      );
    }
    return this.orders.create({
      userId: order.user_id,
      product: order.product,
    });
  }

  list(query: OrderListQuery): Promise<Page<Order>> {
    return this.orders.list(query);
  }
}
