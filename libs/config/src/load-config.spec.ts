import { IsInt, IsUrl, Max, Min } from 'class-validator';
import { composeSettings, ConfigError, EnvInt, loadConfig, partsOf } from '.';

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

class PeerSettings {
  @IsUrl({ require_tld: false, require_protocol: true })
  PEER_URL = 'http://localhost:1';
}

class PortSettings {
  @EnvInt()
  @Max(65535)
  @Min(1)
  @IsInt()
  PORT = 8080;
}

class AppConfig extends composeSettings(PortSettings, PeerSettings) {
  @EnvInt()
  @IsInt()
  RETRIES = 2;
}

describe('loadConfig of composed settings', () => {
  it('reads every part, and what the app adds, into one object of the app class', () => {
    const config = loadConfig(AppConfig, { PORT: '9000', RETRIES: '3' });
    expect(config).toBeInstanceOf(AppConfig);
    expect(config).toEqual({
      PORT: 9000,
      PEER_URL: 'http://localhost:1',
      RETRIES: 3,
    });
  });

  it('checks each part by its own rules and names every wrong variable at once', () => {
    expect(() =>
      loadConfig(AppConfig, {
        PORT: '0',
        PEER_URL: 'nope',
        RETRIES: 'x',
      }),
    ).toThrow(
      'Invalid configuration:\n' +
        '  PORT="0": PORT must not be less than 1\n' +
        '  PEER_URL="nope": PEER_URL must be a URL address\n' +
        '  RETRIES="x": RETRIES must be an integer number',
    );
  });

  it('takes a composed class, with what it adds, as a part', () => {
    class Wider extends composeSettings(AppConfig, ExampleConfigPart) {}
    expect(Wider.parts).toEqual([
      PortSettings,
      PeerSettings,
      AppConfig,
      ExampleConfigPart,
    ]);
    expect(partsOf(Wider).map(({ keys }) => keys)).toEqual([
      ['PORT'],
      ['PEER_URL'],
      ['RETRIES'],
      ['TIMEOUT_MS'],
    ]);
    expect(loadConfig(Wider, { RETRIES: '4' })).toMatchObject({
      RETRIES: 4,
      TIMEOUT_MS: 100,
    });
  });

  it("refuses an app that declares a part's variable again, rather than ignore its default", () => {
    class Overriding extends composeSettings(PortSettings) {
      PORT = 9090;
    }
    expect(() => loadConfig(Overriding, {})).toThrow(
      'PORT is declared by both PortSettings and Overriding',
    );
  });

  it('refuses two parts that both declare one variable: each has one owner', () => {
    expect(() => composeSettings(PortSettings, ExampleConfig)).toThrow(
      'PORT is declared by both PortSettings and ExampleConfig',
    );
  });
});

class ExampleConfigPart {
  @EnvInt()
  @IsInt()
  TIMEOUT_MS = 100;
}
