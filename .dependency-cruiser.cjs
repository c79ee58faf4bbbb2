// The import rules of this repository (CONTRIBUTING.md, "Layers"), checked by `npm run lint`. Each
// rule's comment is what a wrong import is told. Layers, bottom up:
//   foundation    libs/contracts, libs/config            import nothing of ours
//   capabilities  libs/auth, libs/storage, libs/telemetry, libs/idempotency (which uses storage)
//   chassis       libs/platform                          wires the capabilities into a service
//   services      apps/*                                 never each other
//   libs/testing  only for tests
const TESTS =
  '(\\.spec\\.ts$|\\.e2e-spec\\.ts$|\\.pact-spec\\.ts$|^apps/[^/]+/test/|^test/|^libs/testing/)';
const FOUNDATION = '(contracts|config)';

module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment:
        'A cycle of imports: modules that need each other belong together, or one of them needs splitting.',
      from: {},
      to: { circular: true },
    },
    {
      name: 'apps-not-each-other',
      severity: 'error',
      comment:
        'A service never imports another: they talk over HTTP (orders reaches users through UsersClient). Shared code goes into a lib.',
      from: { path: '^apps/([^/]+)/' },
      to: { path: '^apps/', pathNot: '^apps/$1/' },
    },
    {
      name: 'libs-not-apps',
      severity: 'error',
      comment:
        'A lib never imports a service: libs serve every service and know none of them.',
      from: { path: '^libs/' },
      to: { path: '^apps/' },
    },
    {
      name: 'foundation-imports-nothing-of-ours',
      severity: 'error',
      comment:
        'libs/contracts and libs/config are the bottom layer: they import no other lib of ours.',
      from: { path: `^libs/${FOUNDATION}/`, pathNot: TESTS },
      to: { path: '^libs/', pathNot: '^libs/$1/' },
    },
    {
      name: 'capabilities-only-down',
      severity: 'error',
      comment:
        'auth, storage and telemetry import only the foundation (contracts, config), never each other, platform or testing.',
      from: { path: '^libs/(auth|storage|telemetry)/', pathNot: TESTS },
      to: {
        path: '^libs/',
        pathNot: `^libs/($1|${FOUNDATION})/`,
      },
    },
    {
      name: 'idempotency-only-down',
      severity: 'error',
      comment:
        'idempotency imports only the foundation and storage (its PostgreSQL store), never platform or testing.',
      from: { path: '^libs/idempotency/', pathNot: TESTS },
      to: {
        path: '^libs/',
        pathNot: `^libs/(idempotency|storage|${FOUNDATION})/`,
      },
    },
    {
      name: 'platform-not-testing',
      severity: 'error',
      comment: 'platform is production code: it never imports libs/testing.',
      from: { path: '^libs/platform/', pathNot: TESTS },
      to: { path: '^libs/testing/' },
    },
    {
      name: 'testing-only-in-tests',
      severity: 'error',
      comment:
        'libs/testing (stand-ins, harnesses, contract checks) is for tests only: *.spec.ts, apps/*/test, test/.',
      from: { path: '^(apps|libs)/', pathNot: TESTS },
      to: { path: '^libs/testing/' },
    },
    {
      name: 'libs-through-their-barrel',
      severity: 'error',
      comment:
        'Another lib is imported only through its barrel (@app/<lib>), never a file inside it.',
      from: { path: '^libs/([^/]+)/' },
      to: {
        path: '^libs/[^/]+/src/',
        pathNot: '^libs/($1/|[^/]+/src/index\\.ts$)',
      },
    },
    {
      name: 'apps-use-libs-through-their-barrel',
      severity: 'error',
      comment:
        'A lib is imported only through its barrel (@app/<lib>), never a file inside it.',
      from: { path: '^(apps|test|bench)/' },
      to: {
        path: '^libs/[^/]+/src/',
        pathNot: '^libs/[^/]+/src/index\\.ts$',
      },
    },
    {
      name: 'libs-by-alias',
      severity: 'error',
      comment:
        'A lib is imported by its alias (@app/<lib>), never by a relative path into libs/.',
      from: { path: '^(apps|test|bench|libs/([^/]+))/' },
      to: {
        path: '^libs/[^/]+/src/index\\.ts$',
        pathNot: '^libs/$2/',
        dependencyTypesNot: ['aliased-tsconfig-paths'],
      },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '(^|/)(dist|coverage|node_modules)/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
      extensions: ['.ts', '.js', '.cjs', '.mjs', '.json'],
    },
  },
};
