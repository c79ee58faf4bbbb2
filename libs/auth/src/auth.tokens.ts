/** The realm in WWW-Authenticate: the service's name. */
export const AUTH_REALM = Symbol('AUTH_REALM');
