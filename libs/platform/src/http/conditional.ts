import { HttpStatus } from '@nestjs/common';
import { ProblemException } from '@app/contracts';
import type { Request } from 'express';
import { createHash } from 'node:crypto';

/**
 * A strong entity tag (RFC 9110 §8.8.3) of a representation made of `parts`: equal parts give
 * equal tags, any change another. Hashing the content too, not only a version number, keeps a
 * tag from an old life of an id (an in-memory store restarted) from matching a new one.
 */
export function entityTag(...parts: (string | number)[]): string {
  return `"${createHash('sha256').update(JSON.stringify(parts)).digest('base64url').slice(0, 27)}"`;
}

/** The tags listed in an If-Match or If-None-Match header, or `*`. */
function listedTags(header: string): '*' | string[] {
  if (header.trim() === '*') return '*';
  return [...header.matchAll(/(W\/)?"[^"]*"/g)].map(([tag]) => tag);
}

/**
 * An `If-Match` precondition (RFC 9110 §13.1.1), for a change to a representation: `absent` when
 * the request has none, else whether `current` is among its tags (strong comparison: a weak tag
 * never matches; `*` matches any current representation).
 */
export function ifMatch(
  request: Request,
  current: string,
): 'absent' | 'match' | 'mismatch' {
  const header = request.header('if-match');
  if (header === undefined) return 'absent';
  const tags = listedTags(header);
  return tags === '*' || tags.includes(current) ? 'match' : 'mismatch';
}

/** 428 (RFC 6585): a change that must say which version it changes. */
export const preconditionRequired = () =>
  new ProblemException(
    HttpStatus.PRECONDITION_REQUIRED,
    'This change needs If-Match with the ETag of the version it changes; GET it first',
  );

/** 412 (RFC 9110): the version the client changes is no longer the current one. */
export const preconditionFailed = (what: string) =>
  new ProblemException(
    HttpStatus.PRECONDITION_FAILED,
    `${what} has changed since that ETag; GET it again and retry`,
  );
