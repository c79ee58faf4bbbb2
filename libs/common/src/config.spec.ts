import { IsInt, IsUrl, Max, Min } from 'class-validator';
import { ConfigError, EnvInt, loadConfig } from './config';

class ExampleConfig {
  @EnvInt()
  @Max(65535)
  @Min(1)
  @IsInt()
  PORT = 8080;

  @IsUrl({ require_tld: false, require_protocol: true })
  PEER_URL = 'http://localhost:1';
}

describe('loadConfig', () => {
  it('takes the defaults when nothing is set, or a variable is empty', () => {
    expect(loadConfig(ExampleConfig, {})).toEqual({
      PORT: 8080,
      PEER_URL: 'http://localhost:1',
    });
    expect(loadConfig(ExampleConfig, { PORT: '' })).toMatchObject({
      PORT: 8080,
    });
  });

  it('reads and converts what is set, ignoring other variables', () => {
    const config = loadConfig(ExampleConfig, {
      PORT: '9000',
      PEER_URL: 'http://peer:2',
      HOME: '/root',
    });
    expect(config).toEqual({ PORT: 9000, PEER_URL: 'http://peer:2' });
    expect(config).toBeInstanceOf(ExampleConfig);
  });

  it.each(['abc', '80.5', '1e3', '-1', '0', '70000', '80abc'])(
    'refuses PORT=%p',
    (port) => {
      expect(() => loadConfig(ExampleConfig, { PORT: port })).toThrow(
        ConfigError,
      );
    },
  );

  it('names every wrong variable, its value and the rule, in one message', () => {
    expect(() =>
      loadConfig(ExampleConfig, { PORT: 'abc', PEER_URL: 'nope' }),
    ).toThrow(
      'Invalid configuration:\n' +
        '  PORT="abc": PORT must be an integer number\n' +
        '  PEER_URL="nope": PEER_URL must be a URL address',
    );
  });
});
