import { ConfigError, loadConfig } from '@app/config';
import express from 'express';
import { PlatformSettings } from './platform.settings';
import { ServiceConfig } from './service-config';

describe('PlatformSettings', () => {
  it('has safe defaults: info logs, 5 s drain, no CORS, no rate limit, no proxy trusted', () => {
    expect(loadConfig(PlatformSettings, {})).toEqual({
      API_PUBLIC_URL: '',
      LOG_LEVEL: 'info',
      NODE_ENV: 'development',
      SHUTDOWN_DRAIN_MS: 5000,
      SHUTDOWN_TIMEOUT_MS: 10_000,
      CORS_ORIGINS: '',
      RATE_LIMIT_PER_MINUTE: 0,
      TRUST_PROXY: '',
    });
  });

  it.each([
    ['1', 1],
    ['10', 10],
    ['loopback', 'loopback'],
    ['10.0.0.7', '10.0.0.7'],
    ['10.0.0.0/8,fd00::/8', '10.0.0.0/8,fd00::/8'],
    ['uniquelocal, 192.0.2.10, ::1', 'uniquelocal, 192.0.2.10, ::1'],
    ['::ffff:10.0.0.1/128', '::ffff:10.0.0.1/128'],
  ])('accepts TRUST_PROXY=%p as Express takes it, %p', (value, expected) => {
    const { TRUST_PROXY } = loadConfig(PlatformSettings, {
      TRUST_PROXY: value,
    });
    expect(TRUST_PROXY).toBe(expected);
    // What is accepted here, Express takes: it would throw at start otherwise.
    expect(() => express().set('trust proxy', TRUST_PROXY)).not.toThrow();
  });

  it.each([
    'true',
    'false',
    '0',
    '11',
    '1.5',
    '10.0.0.0/0',
    '10.0.0.0/33',
    '10.0.0.0/8/8',
    '10.0.0.0/255.0.0.0',
    '::1/129',
    '10.0.0.256',
    '0x7f000001',
    '0177.0.0.1',
    'example.com',
    'loopback,',
    'lo',
  ])('refuses TRUST_PROXY=%p at start', (value) => {
    expect(() => loadConfig(PlatformSettings, { TRUST_PROXY: value })).toThrow(
      `TRUST_PROXY=${JSON.stringify(value)}: TRUST_PROXY must be a hop count (1 to 10), or a comma-separated list of IP addresses, CIDR ranges (10.0.0.0/8), loopback, linklocal or uniquelocal`,
    );
  });

  it.each([
    'https://app.example.com',
    'https://a.example.com,http://localhost:3000',
  ])('accepts CORS_ORIGINS=%p', (origins) => {
    expect(
      loadConfig(PlatformSettings, { CORS_ORIGINS: origins }).CORS_ORIGINS,
    ).toBe(origins);
  });

  it.each([
    '*',
    'app.example.com',
    'https://app.example.com/',
    'https://a.com, https://b.com',
  ])('refuses CORS_ORIGINS=%p', (origins) => {
    expect(() =>
      loadConfig(PlatformSettings, { CORS_ORIGINS: origins }),
    ).toThrow(ConfigError);
  });

  it.each([
    ['LOG_LEVEL', 'verbose'],
    ['RATE_LIMIT_PER_MINUTE', '-1'],
    ['SHUTDOWN_DRAIN_MS', '5s'],
  ])('refuses %s=%p', (name, value) => {
    expect(() => loadConfig(PlatformSettings, { [name]: value })).toThrow(
      ConfigError,
    );
  });
});

describe('ServiceConfig', () => {
  it("holds every lib's variables, with their defaults: in memory, auth off", () => {
    expect(loadConfig(ServiceConfig, {})).toMatchObject({
      LOG_LEVEL: 'info',
      DATABASE_URL: '',
      AUTH_ISSUER: '',
      IDEMPOTENCY_TTL_MS: 86_400_000,
    });
  });

  it("names every wrong variable of every lib in one message, each by its lib's rule, passwords hidden", () => {
    expect(() =>
      loadConfig(ServiceConfig, {
        LOG_LEVEL: 'verbose',
        AUTH_ISSUER: 'https://id.example.com',
        DATABASE_URL: 'mysql://app:hunter2@db/users',
        IDEMPOTENCY_MAX_KEYS: '0',
      }),
    ).toThrow(
      'Invalid configuration:\n' +
        '  LOG_LEVEL="verbose": LOG_LEVEL must be one of the following values: fatal, error, warn, info, debug, trace, silent\n' +
        '  AUTH_AUDIENCE=undefined: AUTH_AUDIENCE must be set when AUTH_ISSUER is set\n' +
        '  DATABASE_URL="mysql://app:***@db/users": DATABASE_URL must be empty or a URL like postgres://user:password@host:5432/database\n' +
        '  IDEMPOTENCY_MAX_KEYS="0": IDEMPOTENCY_MAX_KEYS must not be less than 1',
    );
  });

  it.each(['api.example.com', 'ftp://api.example.com', 'https://'])(
    'refuses API_PUBLIC_URL=%p: not an http(s) URL',
    (value) => {
      expect(() =>
        loadConfig(PlatformSettings, { API_PUBLIC_URL: value }),
      ).toThrow(ConfigError);
    },
  );
});
