/** One field that failed validation. */
export class FieldErrorDto {
  /** The field's name; nested fields are joined with dots. */
  field: string;
  message: string;
}

/** RFC 9457 problem details, the body of every error (`application/problem+json`). */
export class ProblemDetailsDto {
  type: string;
  title: string;
  status: number;
  detail: string;
  /** Present on validation failures: every field that is wrong and why. */
  errors?: FieldErrorDto[];
  /** The request's id, as in its `X-Request-Id` header and the logs. */
  request_id?: string;
}
