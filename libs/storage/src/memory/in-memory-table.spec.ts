import { InMemoryTable, UniqueViolation } from './in-memory-table';

interface Person {
  name: string;
  email: string;
}

describe('InMemoryTable', () => {
  const table = () =>
    new InMemoryTable<Person>(
      [
        { name: 'Alice', email: 'alice@example.com' },
        { name: 'Bob', email: 'bob@example.com' },
      ],
      { email: (person) => person.email.toLowerCase() },
    );

  it('refuses a unique value that is taken, storing nothing and using no id', () => {
    const people = table();
    expect(() =>
      people.insert({ name: 'A2', email: 'ALICE@example.com' }),
    ).toThrow(UniqueViolation);
    expect(people.insert({ name: 'Carol', email: 'c@example.com' }).id).toBe(3);
  });

  it('updates a row where the condition holds, keeping the index true', () => {
    const people = table();
    expect(people.update(1, { email: 'x@example.com' }, () => false)).toBe(
      undefined,
    );
    expect(people.update(1, { email: 'ALICE@example.com' })).toEqual({
      id: 1,
      name: 'Alice',
      email: 'ALICE@example.com',
    });
    expect(people.update(1, { email: 'a@example.com' })!.email).toBe(
      'a@example.com',
    );
    // The old value is free again; the new one is taken.
    expect(people.insert({ name: 'X', email: 'alice@example.com' }).id).toBe(3);
    expect(() => people.update(2, { email: 'A@example.com' })).toThrow(
      UniqueViolation,
    );
    expect(people.get(2)!.email).toBe('bob@example.com');
  });

  it('deletes a row with its indexed values, and never hands its id out again', () => {
    const people = table();
    expect(people.delete(2, () => false)).toBe(false);
    expect(people.delete(2)).toBe(true);
    expect(people.delete(2)).toBe(false);
    expect(people.get(2)).toBeUndefined();
    expect(people.page({ limit: 10, offset: 0 }).total).toBe(1);
    expect(people.insert({ name: 'Bob', email: 'bob@example.com' }).id).toBe(3);
  });
});
