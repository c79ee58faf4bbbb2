import { spawnBuiltApp } from '@app/testing';

describe('configuration of the built apps', () => {
  it('stops users with exit code 1 and one clear message for a wrong port', async () => {
    const app = spawnBuiltApp('users', { USERS_PORT: 'http' });
    await expect(app.exited).resolves.toBe(1);
    expect(app.output()).toBe(
      'Invalid configuration:\n  USERS_PORT="http": USERS_PORT must be an integer number\n',
    );
  });

  it('stops orders naming every wrong variable at once', async () => {
    const app = spawnBuiltApp('orders', {
      ORDERS_PORT: '99999',
      USERS_SERVICE_URL: 'users:5001',
      USERS_SERVICE_TIMEOUT_MS: '2s',
    });
    await expect(app.exited).resolves.toBe(1);
    expect(app.output()).toBe(
      // By the settings that own them: the users client's, then the app's own.
      'Invalid configuration:\n' +
        '  USERS_SERVICE_URL="users:5001": USERS_SERVICE_URL must be a URL address\n' +
        '  USERS_SERVICE_TIMEOUT_MS="2s": USERS_SERVICE_TIMEOUT_MS must be an integer number\n' +
        '  ORDERS_PORT="99999": ORDERS_PORT must not be greater than 65535\n',
    );
  });
});
