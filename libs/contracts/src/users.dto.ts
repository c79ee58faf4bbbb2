import { applyDecorators } from '@nestjs/common';
import { ApiProperty, ApiPropertyOptional, ApiSchema } from '@nestjs/swagger';
import {
  IsEmail,
  IsNotEmpty,
  IsString,
  MaxLength,
  ValidateIf,
} from 'class-validator';
import { PageDto } from './pagination.dto';
import {
  IsRequired,
  NO_CONTROL_CHARACTERS,
  NoControlCharacters,
  TEXT_PATTERN,
  Trim,
} from './transforms';

const USER_NAME_MAX_LENGTH = 100;
// RFC 5321 caps a forward path at 256 octets including the angle brackets.
const EMAIL_MAX_LENGTH = 254;

/** What a name is, on create and on patch: trimmed, not blank, at most 100, no control characters. */
const NAME = {
  description: 'Trimmed; not blank; no control characters',
  minLength: 1,
  maxLength: USER_NAME_MAX_LENGTH,
  pattern: TEXT_PATTERN,
  example: 'Charlie',
};
// class-validator runs a property's rules in the order they are registered, and stops at the first
// broken one: presence and type first, then the rest.
const nameRules = () => [
  IsString(),
  IsNotEmpty(),
  NoControlCharacters(),
  MaxLength(USER_NAME_MAX_LENGTH),
  Trim(),
];

/** What an email is, on create and on patch. */
const EMAIL = {
  format: 'email',
  maxLength: EMAIL_MAX_LENGTH,
  pattern: NO_CONTROL_CHARACTERS,
  description: 'Unique among users, ignoring case',
  example: 'charlie@example.com',
};
const emailRules = () => [
  IsString(),
  MaxLength(EMAIL_MAX_LENGTH),
  NoControlCharacters(),
  IsEmail(),
];

/** Body of `POST /users`. */
@ApiSchema({ name: 'CreateUser' })
export class CreateUserDto {
  @ApiProperty(NAME)
  @applyDecorators(IsRequired(), ...nameRules())
  name: string;

  @ApiProperty(EMAIL)
  @applyDecorators(IsRequired(), ...emailRules())
  email: string;
}

/** Set only when the patch has the field: JSON Merge Patch's null (remove) is refused as not a string. */
const IfPresent = () =>
  ValidateIf((_object: object, value: unknown) => value !== undefined);

/**
 * Body of `PATCH /users/:id`, a JSON Merge Patch (RFC 7396): the fields to change, each with the
 * rules it has on create; at least one of them.
 */
@ApiSchema({ name: 'PatchUser' })
export class PatchUserDto {
  @ApiPropertyOptional(NAME)
  @applyDecorators(IfPresent(), ...nameRules())
  name?: string;

  @ApiPropertyOptional(EMAIL)
  @applyDecorators(IfPresent(), ...emailRules())
  email?: string;
}

/**
 * Body of `GET /users/:id`, exactly the seed's. The orders app validates what the users app
 * sends against it, so its rules are about the wire shape, not about what a new user may be.
 */
@ApiSchema({ name: 'User' })
export class UserDto {
  @ApiProperty({ example: 'Alice' })
  @IsNotEmpty()
  @IsString()
  @IsRequired()
  name: string;

  @ApiProperty({ example: 'alice@example.com' })
  @IsNotEmpty()
  @IsString()
  @IsRequired()
  email: string;
}

/** Body of a 201 from `POST /users`. */
@ApiSchema({ name: 'UserCreated' })
export class UserCreatedDto {
  @ApiProperty({ type: 'integer', minimum: 1, example: 3 })
  user_id: number;
}

/** One item of `GET /users`. */
@ApiSchema({ name: 'UserListItem' })
export class UserListItemDto {
  @ApiProperty({ type: 'integer', minimum: 1, example: 1 })
  user_id: number;

  @ApiProperty({ example: 'Alice' })
  name: string;

  @ApiProperty({ example: 'alice@example.com' })
  email: string;
}

/** Body of `GET /users`. */
@ApiSchema({ name: 'UserList' })
export class UserListDto extends PageDto {
  @ApiProperty({ type: [UserListItemDto] })
  items: UserListItemDto[];
}
