import type { Response } from 'supertest';

/** Asserts an RFC 9457 problem with this status, and that nothing of the framework leaks into it. */
export function expectProblem(response: Response, status: number): void {
  expect(response.status).toBe(status);
  expect(response.headers['content-type']).toMatch(
    /^application\/problem\+json/,
  );
  expect(response.body).toEqual(
    expect.objectContaining({
      type: 'about:blank',
      title: expect.any(String),
      status,
      detail: expect.any(String),
    }),
  );
  expect(response.text).not.toMatch(/statusCode|stack|\s{4}at /);
}
