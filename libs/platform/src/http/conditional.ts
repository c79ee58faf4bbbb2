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

/**
 * The entity tags of a process's records, each worked out once per version rather than hashed on
 * every answer: a record's tag is kept with the parts it was made of, and made again only when
 * they change. At most `limit` records are kept; past that the oldest is forgotten.
 */
export class EntityTags {
  private readonly known = new Map<number, { parts: Parts; tag: string }>();

  constructor(private readonly limit = 10_000) {}

  /** The tag of record `id` made of `parts` (as `entityTag` makes it). */
  of(id: number, parts: Parts): string {
    const known = this.known.get(id);
    if (known && samePart(known.parts, parts)) return known.tag;
    const tag = entityTag(...parts);
    if (!known && this.known.size >= this.limit)
      this.known.delete(this.known.keys().next().value!);
    this.known.set(id, { parts, tag });
    return tag;
  }
}

type Parts = readonly (string | number)[];

const samePart = (a: Parts, b: Parts) =>
  a.length === b.length && a.every((part, i) => part === b[i]);

/** The tags listed in an If-Match or If-None-Match header, or `*`. */
function listedTags(header: string): '*' | string[] {
  if (header.trim() === '*') return '*';
  return [...header.matchAll(/(W\/)?"[^"]*"/g)].map(([tag]) => tag);
}

/**
 * Whether a change's `If-Match` precondition holds (RFC 9110 §13.1.1): `current` is among its tags
 * (strong comparison: a weak tag never matches; `*` matches any current representation). A request
 * without the header does not match: our changes require it (428 is decided before this).
 */
export function ifMatch(request: Request, current: string): boolean {
  const header = request.header('if-match');
  if (header === undefined) return false;
  const tags = listedTags(header);
  return tags === '*' || tags.includes(current);
}

/** A tag without its weak prefix: If-None-Match compares tags weakly (RFC 9110 §8.8.3.2). */
const opaque = (tag: string) => (tag.startsWith('W/') ? tag.slice(2) : tag);

/**
 * Whether a GET or HEAD may be answered 304 (RFC 9110 §13.1.2): the response carries an ETag
 * that If-None-Match lists (or `*`). What the request says to caches does not change it: an
 * origin server evaluates If-None-Match whatever Cache-Control or Pragma the request carries
 * (RFC 9111 §5.2.1.4: `no-cache` is for caches). Express's own check answers 200 to a request
 * with `Cache-Control: no-cache`, which every fetch client adds when it sets If-None-Match
 * itself, so no browser or generated client would ever get a 304.
 */
export function isNotModified(
  method: string,
  status: number,
  ifNoneMatch: string | undefined,
  etag: string | undefined,
): boolean {
  if ((method !== 'GET' && method !== 'HEAD') || ifNoneMatch === undefined)
    return false;
  if (!((status >= 200 && status < 300) || status === 304)) return false;
  const tags = listedTags(ifNoneMatch);
  if (tags === '*') return true;
  return etag !== undefined && tags.some((tag) => opaque(tag) === opaque(etag));
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
