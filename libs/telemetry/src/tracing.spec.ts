import { exportsTraces } from './tracing';

describe('exportsTraces', () => {
  it.each([
    [{}, false],
    [{ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' }, true],
    [{ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://c:4318/v1/traces' }, true],
    [
      {
        OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318',
        OTEL_SDK_DISABLED: 'true',
      },
      false,
    ],
  ])('with %p: %p', (env, expected) => {
    expect(exportsTraces(env)).toBe(expected);
  });
});
