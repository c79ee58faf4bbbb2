import crypto from 'node:crypto';
import { EntityTags, entityTag } from './conditional';

describe('EntityTags', () => {
  let hashing: jest.SpyInstance;
  beforeEach(() => (hashing = jest.spyOn(crypto, 'createHash')));
  afterEach(() => hashing.mockRestore());

  it('is the tag entityTag makes, hashed again only when the parts change', () => {
    const tags = new EntityTags();
    expect(tags.of(1, [1, 1, 'Alice'])).toBe(entityTag(1, 1, 'Alice'));
    hashing.mockClear();
    tags.of(1, [1, 1, 'Alice']);
    expect(hashing).not.toHaveBeenCalled();
    expect(tags.of(1, [1, 2, 'Alice'])).toBe(entityTag(1, 2, 'Alice'));
    expect(tags.of(1, [1, 2, 'Alicia'])).toBe(entityTag(1, 2, 'Alicia'));
    expect(tags.of(2, [2, 2, 'Alicia'])).toBe(entityTag(2, 2, 'Alicia'));
  });

  it('keeps at most its limit of records, forgetting the oldest', () => {
    const tags = new EntityTags(2);
    tags.of(1, [1]);
    tags.of(2, [2]);
    tags.of(3, [3]);
    hashing.mockClear();
    tags.of(3, [3]);
    tags.of(2, [2]);
    expect(hashing).not.toHaveBeenCalled();
    tags.of(1, [1]);
    expect(hashing).toHaveBeenCalledTimes(1);
  });
});
