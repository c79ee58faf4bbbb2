import { IsEmail, IsNotEmpty, IsString, MaxLength } from 'class-validator';
import { PageDto } from './pagination.dto';
import { IsRequired, Trim } from './transforms';

export const USER_NAME_MAX_LENGTH = 100;
// RFC 5321 caps a forward path at 256 octets including the angle brackets.
export const EMAIL_MAX_LENGTH = 254;

/** Body of `POST /users`. */
export class CreateUserDto {
  @Trim()
  @MaxLength(USER_NAME_MAX_LENGTH)
  @IsNotEmpty()
  @IsString()
  @IsRequired()
  name: string;

  @IsEmail()
  @MaxLength(EMAIL_MAX_LENGTH)
  @IsString()
  @IsRequired()
  email: string;
}

/**
 * Body of `GET /users/:id`, exactly the seed's. The orders app validates what the users app
 * sends against it, so its rules are about the wire shape, not about what a new user may be.
 */
export class UserDto {
  @IsNotEmpty()
  @IsString()
  @IsRequired()
  name: string;

  @IsNotEmpty()
  @IsString()
  @IsRequired()
  email: string;
}

/** Body of a 201 from `POST /users`. */
export class UserCreatedDto {
  user_id: number;
}

/** One item of `GET /users`. */
export class UserListItemDto {
  user_id: number;
  name: string;
  email: string;
}

export type UserListDto = PageDto<UserListItemDto>;
