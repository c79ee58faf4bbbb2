import { ApiProperty } from '@nestjs/swagger';
import { IsEmail, IsNotEmpty, IsString, MaxLength } from 'class-validator';
import { PageDto } from './pagination.dto';
import { IsRequired, Trim } from './transforms';

const USER_NAME_MAX_LENGTH = 100;
// RFC 5321 caps a forward path at 256 octets including the angle brackets.
const EMAIL_MAX_LENGTH = 254;

/** Body of `POST /users`. */
export class CreateUserDto {
  @ApiProperty({
    description: 'Trimmed; not blank',
    minLength: 1,
    maxLength: USER_NAME_MAX_LENGTH,
    example: 'Charlie',
  })
  @Trim()
  @MaxLength(USER_NAME_MAX_LENGTH)
  @IsNotEmpty()
  @IsString()
  @IsRequired()
  name: string;

  @ApiProperty({
    format: 'email',
    maxLength: EMAIL_MAX_LENGTH,
    description: 'Unique among users, ignoring case',
    example: 'charlie@example.com',
  })
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
export class UserCreatedDto {
  @ApiProperty({ type: 'integer', minimum: 1, example: 3 })
  user_id: number;
}

/** One item of `GET /users`. */
export class UserListItemDto {
  @ApiProperty({ type: 'integer', minimum: 1, example: 1 })
  user_id: number;

  @ApiProperty({ example: 'Alice' })
  name: string;

  @ApiProperty({ example: 'alice@example.com' })
  email: string;
}

/** Body of `GET /users`. */
export class UserListDto extends PageDto {
  @ApiProperty({ type: [UserListItemDto] })
  items: UserListItemDto[];
}
