import { Body, Controller, Get, Post, Query } from '@nestjs/common';
import { Idempotent, IdParam } from '@app/common';
import {
  CreateUserDto,
  PageQueryDto,
  UserCreatedDto,
  UserDto,
  UserListDto,
} from '@app/contracts';
import { UsersService } from './users.service';

@Controller('users')
export class UsersController {
  constructor(private readonly users: UsersService) {}

  @Get(':id')
  async get(@IdParam() id: number): Promise<UserDto> {
    const { name, email } = await this.users.get(id);
    return { name, email };
  }

  @Post()
  @Idempotent()
  async create(@Body() body: CreateUserDto): Promise<UserCreatedDto> {
    const user = await this.users.create(body);
    return { user_id: user.id };
  }

  @Get()
  async list(@Query() query: PageQueryDto): Promise<UserListDto> {
    const { items, total } = await this.users.list(query);
    return {
      items: items.map(({ id, name, email }) => ({ user_id: id, name, email })),
      total,
      limit: query.limit,
      offset: query.offset,
    };
  }
}
