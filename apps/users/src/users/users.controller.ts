import {
  Body,
  Controller,
  Delete,
  Get,
  HttpCode,
  HttpStatus,
  Patch,
  Post,
  Query,
  Req,
  Res,
} from '@nestjs/common';
import { RequireScopes } from '@app/auth';
import {
  CreateUserDto,
  pageAnswer,
  PageQueryDto,
  PatchUserDto,
  ProblemException,
  UserCreatedDto,
  UserDto,
  UserListDto,
} from '@app/contracts';
import { Idempotent } from '@app/idempotency';
import {
  ApiCommonProblems,
  ApiIdParam,
  ApiProblems,
  EntityTags,
  IdParam,
  ifMatch,
  preconditionRequired,
} from '@app/platform';
import {
  ApiConsumes,
  ApiCreatedResponse,
  ApiHeader,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiOperation,
  ApiResponse,
  ApiTags,
} from '@nestjs/swagger';
import type { Request, Response } from 'express';
import type { User } from './users.repository';
import type { Precondition } from './users.service';
import { UsersService } from './users.service';

const ETAG = {
  ETag: {
    required: true,
    description:
      'Strong entity tag of this version of the user; send it in If-Match to change the user, or in If-None-Match to revalidate',
    schema: { type: 'string' },
  },
};

/** What an answer with the user carries: its tag, and that any cache must revalidate it. */
function withVersion(response: Response, user: User, tag: string): UserDto {
  response.setHeader('ETag', tag);
  response.setHeader('Cache-Control', 'no-cache');
  return { name: user.name, email: user.email };
}

@ApiTags('users')
@ApiCommonProblems()
@Controller('users')
export class UsersController {
  /** Each version of a user is hashed into its tag once, not on every answer. */
  private readonly tags = new EntityTags();

  constructor(private readonly users: UsersService) {}

  /** The user's version on the wire: every change of the user changes it. */
  private tagOf(user: User): string {
    return this.tags.of(user.id, [
      user.id,
      user.version,
      user.name,
      user.email,
    ]);
  }

  /** The request's If-Match, as a test of the user as it is now. */
  private matching(request: Request): Precondition {
    return (current) => ifMatch(request, this.tagOf(current));
  }

  @Get(':id')
  @RequireScopes('users:read')
  @ApiOperation({
    operationId: 'getUser',
    summary: 'Get a user',
    description:
      'With its ETag. If-None-Match with the current tag answers 304 without a body (Express compares them).',
  })
  @ApiIdParam('The user id')
  @ApiHeader({
    name: 'If-None-Match',
    required: false,
    description: 'The ETag of a copy the client holds: 304 if it is current',
  })
  @ApiOkResponse({
    type: UserDto,
    description: 'The user, with the ETag of this version',
    headers: {
      ...ETAG,
      'Cache-Control': {
        description:
          'no-cache: a cache may keep the user, but must revalidate it before each use',
        schema: { type: 'string', enum: ['no-cache'] },
      },
    },
  })
  @ApiResponse({
    status: HttpStatus.NOT_MODIFIED,
    description: "The client's copy (If-None-Match) is current; no body",
    headers: ETAG,
  })
  @ApiProblems({
    400: 'The id is not a positive integer',
    404: 'No user has this id',
  })
  async get(
    @IdParam() id: number,
    @Res({ passthrough: true }) response: Response,
  ): Promise<UserDto> {
    const user = await this.users.get(id);
    return withVersion(response, user, this.tagOf(user));
  }

  @Patch(':id')
  @RequireScopes('users:write')
  @ApiOperation({
    operationId: 'updateUser',
    summary: 'Change a user',
    description:
      'A JSON Merge Patch (RFC 7396) of name, email or both, with the rules they have on create. If-Match with the ETag of the version being changed is required, so that two clients cannot overwrite each other.',
  })
  @ApiIdParam('The user id')
  @ApiConsumes('application/merge-patch+json', 'application/json')
  @ApiHeader({
    name: 'If-Match',
    required: true,
    description: 'The ETag of the version this patch changes (or *)',
  })
  @ApiOkResponse({
    type: UserDto,
    description: 'Changed: the user as it is now, with its new ETag',
    headers: ETAG,
  })
  @ApiProblems({
    400: 'The id is not a positive integer, the patch is empty, or a field is wrong, null or unknown',
    404: 'No user has this id',
    409: 'Another user has this email, ignoring case',
    412: 'The user has changed since the ETag in If-Match',
    413: 'The body is over 100 kB',
    415: 'The body is not a JSON merge patch',
    428: 'If-Match is missing',
  })
  async patch(
    @IdParam() id: number,
    @Body() patch: PatchUserDto,
    @Req() request: Request,
    @Res({ passthrough: true }) response: Response,
  ): Promise<UserDto> {
    const changes = {
      ...(patch.name !== undefined && { name: patch.name }),
      ...(patch.email !== undefined && { email: patch.email }),
    };
    if (Object.keys(changes).length === 0)
      throw new ProblemException(
        HttpStatus.BAD_REQUEST,
        'The patch changes nothing: give name, email or both',
      );
    if (request.header('if-match') === undefined) throw preconditionRequired();
    const updated = await this.users.update(
      id,
      changes,
      this.matching(request),
    );
    return withVersion(response, updated, this.tagOf(updated));
  }

  @Delete(':id')
  @HttpCode(HttpStatus.NO_CONTENT)
  @RequireScopes('users:delete')
  @ApiOperation({
    operationId: 'deleteUser',
    summary: 'Erase a user',
    description:
      'GDPR art. 17: the user, their name and email, is removed from the store, not hidden; the id is never handed out again. Orders of the user stay, and show `user: null`. If-Match is honoured when sent.',
  })
  @ApiIdParam('The user id')
  @ApiHeader({
    name: 'If-Match',
    required: false,
    description: 'The ETag of the version to erase (or *); without it, any',
  })
  @ApiNoContentResponse({ description: 'Erased' })
  @ApiProblems({
    400: 'The id is not a positive integer',
    404: 'No user has this id (any more)',
    412: 'The user has changed since the ETag in If-Match',
  })
  async erase(@IdParam() id: number, @Req() request: Request): Promise<void> {
    await this.users.erase(
      id,
      request.header('if-match') === undefined
        ? undefined
        : this.matching(request),
    );
  }

  @Post()
  @RequireScopes('users:write')
  @Idempotent()
  @ApiOperation({
    operationId: 'createUser',
    summary: 'Create a user',
    description:
      'The user gets the next id, handed out by the service and never reused. With an Idempotency-Key, a retry replays the first answer instead of creating again.',
  })
  @ApiCreatedResponse({ type: UserCreatedDto, description: 'Created: its id' })
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
  @ApiOperation({
    operationId: 'listUsers',
    summary: 'List users in id order',
    description: 'A page of users, with how many there are in all.',
  })
  @ApiOkResponse({ type: UserListDto, description: 'One page of users' })
  @ApiProblems({
    400: 'limit or offset is out of range, or the query has an unknown key',
  })
  async list(@Query() query: PageQueryDto): Promise<UserListDto> {
    return pageAnswer(query, await this.users.list(query), (user) => ({
      user_id: user.id,
      name: user.name,
      email: user.email,
    }));
  }
}
