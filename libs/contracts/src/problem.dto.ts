import { ApiProperty, ApiPropertyOptional, ApiSchema } from '@nestjs/swagger';

/** One field that failed validation. */
@ApiSchema({ name: 'FieldError' })
export class FieldErrorDto {
  @ApiProperty({
    description: 'The field; nested fields are joined with dots',
    example: 'email',
  })
  field: string;

  @ApiProperty({ example: 'email must be an email' })
  message: string;
}

/** RFC 9457 problem details, the body of every error (`application/problem+json`). */
@ApiSchema({ name: 'ProblemDetails' })
export class ProblemDetailsDto {
  @ApiProperty({ example: 'about:blank' })
  type: string;

  @ApiProperty({ description: 'The status phrase', example: 'Bad Request' })
  title: string;

  @ApiProperty({ type: 'integer', example: 400 })
  status: number;

  @ApiProperty({
    description: 'What went wrong in this request',
    example: 'Invalid request: email must be an email',
  })
  detail: string;

  @ApiPropertyOptional({
    type: [FieldErrorDto],
    description: 'On validation failures: every field that is wrong and why',
  })
  errors?: FieldErrorDto[];

  @ApiPropertyOptional({
    description: "The request's id, as in its X-Request-Id header and the logs",
    example: '3f1c0b7e-8a43-4c1e-9a51-2f7f4c0d9b21',
  })
  request_id?: string;
}
