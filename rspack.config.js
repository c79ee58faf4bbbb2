// Each app is bundled with its dependencies into dist/apps/<app>/main.js. Node loads one file
// instead of thousands, most of them ESM (NestJS 12): the apps start in about half the time and
// take less memory. OpenTelemetry's Express and NestJS instrumentations are applied to the bundled
// copies (libs/telemetry, instrumentBundledModules). What stays out is loaded from node_modules:
const RUNTIME = [
  // Its transports run in worker threads that load them by path; pino-pretty is a dev dependency.
  'pino',
  'pino-pretty',
  // Swagger UI's files are served from this package's folder.
  'swagger-ui-dist',
  // The SDK is loaded only when spans are exported, and its instrumentations hook Node's require.
  '@opentelemetry/',
];
// Optional packages that Nest and its libraries look for at run time and do without: not installed.
const OPTIONAL = [
  '@nestjs/microservices',
  '@nestjs/websockets',
  '@nestjs/platform-fastify',
  '@fastify/',
  '@grpc/',
  '@mikro-orm/',
  '@nestjs/typeorm',
  '@nestjs/mongoose',
  '@nestjs/sequelize',
  '@prisma/',
  'typeorm',
  'mongoose',
  'sequelize',
  'cache-manager',
  'ioredis',
  'kafkajs',
  'mqtt',
  'nats',
  'amqplib',
  'amqp-connection-manager',
];

const isExternal = (request) =>
  [...RUNTIME, ...OPTIONAL].some((name) =>
    name.endsWith('/')
      ? request.startsWith(name)
      : request === name || request.startsWith(`${name}/`),
  );

/**
 * @param {import('@rspack/core').Configuration} defaults Nest CLI's configuration
 * @param {typeof import('@rspack/core')} rspack
 */
module.exports = (defaults, rspack) => ({
  ...defaults,
  plugins: [
    ...(defaults.plugins ?? []),
    // Bundled ESM code that requires packages at run time (createRequire(import.meta.url)) finds
    // them from where the bundle runs, not from where it was built.
    new rspack.DefinePlugin({
      'import.meta.url':
        'process.getBuiltinModule("node:url").pathToFileURL(__filename).href',
    }),
  ],
  externals: [
    ({ request }, callback) =>
      request && isExternal(request)
        ? callback(null, `commonjs ${request}`)
        : callback(),
  ],
  // Bundled ESM code may name its own folder (import.meta.dirname); ours keeps Node's __filename.
  node: { __dirname: true, __filename: false },
});

// For the deployment tests: what the bundles may require that is not a production dependency.
module.exports.OPTIONAL = OPTIONAL;
// For the runtime image (scripts/runtime-deps.cjs): what it must keep of node_modules.
module.exports.RUNTIME = RUNTIME;
