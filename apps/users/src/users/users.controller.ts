import { Body, Controller, Get, Post, Query } from '@nestjs/common';
import { RequireScopes } from '@app/auth';
import { Idempotent } from '@app/idempotency';
import {
  ApiCommonProblems,
  ApiIdParam,
  ApiProblems,
  IdParam,
} from '@app/platform';
import {
  CreateUserDto,
  PageQueryDto,
  UserCreatedDto,
  UserDto,
  UserListDto,
} from '@app/contracts';
import {
  ApiCreatedResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
} from '@nestjs/swagger';
import { UsersService } from './users.service';

@ApiTags('users')
@ApiCommonProblems()
@Controller('users')
export class UsersController {
  constructor(private readonly users: UsersService) {}

  @Get(':id')
  @RequireScopes('users:read')
  @ApiOperation({ summary: 'Get a user' })
  @ApiIdParam('The user id')
  @ApiOkResponse({ type: UserDto })
  @ApiProblems({
    400: 'The id is not a positive integer',
    404: 'No user has this id',
  })
  async get(@IdParam() id: number): Promise<UserDto> {
    const { name, email } = await this.users.get(id);
    return { name, email };
  }

  @Post()
  @RequireScopes('users:write')
  @Idempotent()
  @ApiOperation({ summary: 'Create a user' })
  @ApiCreatedResponse({ type: UserCreatedDto })
  @ApiProblems({
    400: 'A field is missing, wrong or unknown, or the body is not a JSON object',
    409: 'A user with this email exists, ignoring case; or a request with this Idempotency-Key is still running',
    413: 'The body is over 100 kB',
    415: 'The body is not JSON',
    422: 'This Idempotency-Key was used with a different request',
  })
  async create(@Body() body: CreateUserDto): Promise<UserCreatedDto> {
    const user = await this.users.create(body);
    return { user_id: user.id };
  }

  @Get()
  // Every user's email: more than reading one user by id.
  @RequireScopes('users:list')
  @ApiOperation({ summary: 'List users in id order' })
  @ApiOkResponse({ type: UserListDto })
  @ApiProblems({
    400: 'limit or offset is out of range, or the query has an unknown key',
  })
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
