// The yardstick: the seed ported to NestJS 12 the shortest way, with nothing but a global
// ValidationPipe and a keep-alive HttpService. It shares no code with the apps on purpose.
import 'reflect-metadata';
import { HttpModule, HttpService } from '@nestjs/axios';
import {
  Body,
  Controller,
  Get,
  Module,
  NotFoundException,
  Param,
  ParseIntPipe,
  Post,
  UnprocessableEntityException,
  ConflictException,
  ValidationPipe,
} from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { IsEmail, IsInt, IsNotEmpty, IsString, Min } from 'class-validator';
import { Agent } from 'node:http';
import { firstValueFrom } from 'rxjs';

class CreateUser {
  @IsNotEmpty() @IsString() name: string;
  @IsEmail() email: string;
}

class CreateOrder {
  @Min(1) @IsInt() user_id: number;
  @IsNotEmpty() @IsString() product: string;
}

@Controller('health')
class HealthController {
  @Get('ready') ready() {
    return { status: 'ok' };
  }
}

const users = new Map<number, CreateUser>([
  [1, { name: 'Alice', email: 'alice@example.com' }],
  [2, { name: 'Bob', email: 'bob@example.com' }],
]);
const emails = new Set(['alice@example.com', 'bob@example.com']);

@Controller('users')
class UsersController {
  @Get(':id') get(@Param('id', ParseIntPipe) id: number) {
    const user = users.get(id);
    if (!user) throw new NotFoundException();
    return user;
  }

  @Post() create(@Body() { name, email }: CreateUser) {
    if (emails.has(email.toLowerCase())) throw new ConflictException();
    emails.add(email.toLowerCase());
    users.set(users.size + 1, { name, email });
    return { user_id: users.size };
  }
}

const orders = new Map<number, { user_id: number; product: string }>([
  [1, { user_id: 1, product: 'Laptop' }],
  [2, { user_id: 2, product: 'Smartphone' }],
]);

@Controller('orders')
class OrdersController {
  constructor(private readonly http: HttpService) {}

  private async user(id: number) {
    const { status, data } = await firstValueFrom(
      this.http.get(`/users/${id}`, { validateStatus: () => true }),
    );
    return status === 200 ? data : null;
  }

  @Get(':id') async get(@Param('id', ParseIntPipe) id: number) {
    const order = orders.get(id);
    if (!order) throw new NotFoundException();
    return { ...order, user: await this.user(order.user_id) };
  }

  @Post() async create(@Body() { user_id, product }: CreateOrder) {
    if (!(await this.user(user_id))) throw new UnprocessableEntityException();
    orders.set(orders.size + 1, { user_id, product });
    return { order_id: orders.size };
  }
}

@Module({ controllers: [HealthController, UsersController] })
class UsersApp {}

@Module({
  imports: [
    HttpModule.register({
      baseURL: process.env.USERS_SERVICE_URL,
      httpAgent: new Agent({ keepAlive: true }),
    }),
  ],
  controllers: [HealthController, OrdersController],
})
class OrdersApp {}

async function main(): Promise<void> {
  const app = await NestFactory.create(
    process.argv[2] === 'orders' ? OrdersApp : UsersApp,
    { logger: false },
  );
  app.useGlobalPipes(new ValidationPipe({ whitelist: true, transform: true }));
  await app.listen(Number(process.env.PORT), '127.0.0.1');
}

void main();
