import { HttpStatus, ValidationPipe } from '@nestjs/common';
import { fieldErrors } from '@app/config';
import { ProblemException } from '@app/contracts';

/**
 * The one validation pipe of every app: unknown fields are refused rather than dropped, so a client
 * learns that `{"user_id": 3, "id": 9}` did not set an id, and every failure lists each field.
 */
export function createValidationPipe(): ValidationPipe {
  return new ValidationPipe({
    whitelist: true,
    forbidNonWhitelisted: true,
    transform: true,
    // One message per field: the first rule it breaks. Rules run bottom-up, so the DTOs write
    // the presence and type checks last on each property.
    stopAtFirstError: true,
    exceptionFactory: (errors) => {
      const fields = fieldErrors(errors);
      return new ProblemException(
        HttpStatus.BAD_REQUEST,
        `Invalid request: ${fields.map((e) => e.message).join('; ')}`,
        { errors: fields },
      );
    },
  });
}
