import type { JWTPayload } from 'jose';
import { AuthSettings, listSetting } from './auth.settings';
import { principalFrom } from './principal';

const scopesOf = (payload: JWTPayload, claims?: string) =>
  [
    ...principalFrom(
      payload,
      listSetting(claims ?? new AuthSettings().AUTH_SCOPE_CLAIMS),
    ).scopes,
  ].sort();

describe('principalFrom', () => {
  describe('with the default AUTH_SCOPE_CLAIMS (scope,scp)', () => {
    it('reads `scope` space-separated, and `scp` as a list or a string', () => {
      expect(scopesOf({ scope: 'users:read  users:list' })).toEqual([
        'users:list',
        'users:read',
      ]);
      expect(scopesOf({ scp: ['users:read', 7, 'users:list'] })).toEqual([
        'users:list',
        'users:read',
      ]);
      expect(scopesOf({ scp: 'users:read' })).toEqual(['users:read']);
    });

    it('reads only `scope` when a token carries both, as before the setting', () => {
      expect(scopesOf({ scope: 'users:read', scp: ['users:write'] })).toEqual([
        'users:read',
      ]);
    });

    it('takes a claim that is null as absent, and reads the next one', () => {
      expect(scopesOf({ scope: null, scp: ['users:read'] })).toEqual([
        'users:read',
      ]);
    });

    it('reads nothing from `roles`', () => {
      expect(scopesOf({ roles: ['users:read'] })).toEqual([]);
    });
  });

  describe('with AUTH_SCOPE_CLAIMS=scp,roles (Entra ID)', () => {
    it("reads an application's permissions from `roles`", () => {
      expect(scopesOf({ roles: ['users:read'] }, 'scp,roles')).toEqual([
        'users:read',
      ]);
    });

    it("reads a user's token by its `scp` alone: the user's roles do not widen what the client was granted", () => {
      expect(
        scopesOf({ scp: 'users:read', roles: ['users:write'] }, 'scp,roles'),
      ).toEqual(['users:read']);
    });

    it('reads no claim it was not given', () => {
      expect(scopesOf({ scope: 'users:read' }, 'scp,roles')).toEqual([]);
    });
  });

  it('takes the client from `client_id`, else `azp`', () => {
    const claims = listSetting('scope');
    expect(principalFrom({ sub: 's', client_id: 'c' }, claims)).toMatchObject({
      sub: 's',
      clientId: 'c',
    });
    expect(principalFrom({ azp: 'a' }, claims).clientId).toBe('a');
  });
});
