'use strict';
// The scope table of docs/security.md, written from the code: for every service of nest-cli.json,
// each route of its controllers (`@Controller(path)` and `@Get`/`@Post`/... on a method) with the
// scopes its `@RequireScopes(...)` declares, in the order the controllers declare them. Only the
// block between `<!-- >>> docs:scopes -->` and `<!-- <<< docs:scopes -->` is written; the rest of
// the page is prose. `npm run docs:scopes` writes it; `--stdout` prints the page instead;
// `--check` exits 1 when it is stale. test/scope-reference.e2e-spec.ts fails when the committed
// page is not what this writes, and holds the table to the scopes the apps' OpenAPI documents say.
const { readdirSync, readFileSync } = require('node:fs');
const { join, relative } = require('node:path');
const ts = require('typescript');
const { ROOT, services } = require('./services.cjs');
const { writeFile } = require('./written-file.cjs');

const OUTPUT = 'docs/security.md';
const BEGIN = '<!-- >>> docs:scopes';
const END = '<!-- <<< docs:scopes -->';
const METHODS = new Set(['Get', 'Post', 'Put', 'Patch', 'Delete']);

/** Every `*.controller.ts` below `dir`, in path order. */
function controllers(dir) {
  return readdirSync(join(ROOT, dir), { recursive: true, encoding: 'utf8' })
    .filter((file) => file.endsWith('.controller.ts'))
    .sort()
    .map((file) => join(dir, file));
}

/** `@Name(args)` on a node, as the name and its argument nodes. */
function decorators(node) {
  return (ts.getDecorators(node) ?? []).flatMap((decorator) => {
    const call = decorator.expression;
    if (!ts.isCallExpression(call) || !ts.isIdentifier(call.expression))
      return [];
    return [{ name: call.expression.text, args: call.arguments }];
  });
}

/** The path a `@Controller()`/`@Get()` argument gives: a string literal, or none. */
function pathOf(args, where) {
  const [arg] = args;
  if (arg === undefined) return '';
  if (ts.isStringLiteralLike(arg)) return arg.text;
  throw new Error(`${where}: only a string literal path can be read here`);
}

/** The routes of one controller file that take a token: `{ method, path, scopes }`. */
function routesOf(file) {
  const source = ts.createSourceFile(
    file,
    readFileSync(join(ROOT, file), 'utf8'),
    ts.ScriptTarget.Latest,
    true,
  );
  const where = (node) =>
    `${relative(ROOT, join(ROOT, file))}:${source.getLineAndCharacterOfPosition(node.getStart()).line + 1}`;
  const routes = [];
  for (const statement of source.statements) {
    if (!ts.isClassDeclaration(statement)) continue;
    const controller = decorators(statement).find(
      (decorator) => decorator.name === 'Controller',
    );
    if (!controller) continue;
    const base = pathOf(controller.args, where(statement));
    for (const member of statement.members) {
      if (!ts.isMethodDeclaration(member)) continue;
      const found = decorators(member);
      const route = found.find((decorator) => METHODS.has(decorator.name));
      if (!route) continue;
      const scopes = found.find(
        (decorator) => decorator.name === 'RequireScopes',
      );
      if (!scopes && !found.some((decorator) => decorator.name === 'Public'))
        throw new Error(
          `${where(member)}: a route without @RequireScopes(...) or @Public()`,
        );
      const path = [base, pathOf(route.args, where(member))]
        .filter(Boolean)
        .join('/');
      // Public routes need no token: the table lists the ones that do.
      if (!scopes) continue;
      routes.push({
        method: route.name.toUpperCase(),
        path: `/${path}`,
        scopes: scopes.args.map((arg) => {
          if (!ts.isStringLiteralLike(arg))
            throw new Error(`${where(arg)}: a scope must be a literal`);
          return arg.text;
        }),
      });
    }
  }
  return routes;
}

/** Every service's routes, services in nest-cli.json's order. */
function collect() {
  return services().flatMap((service) =>
    controllers(service.sourceRoot).flatMap((file) =>
      routesOf(file).map((route) => ({ service: service.name, ...route })),
    ),
  );
}

function block(routes) {
  return [
    `${BEGIN}: written by scripts/scope-reference.cjs from each route's @RequireScopes; run \`npm run docs:scopes\` -->`,
    '',
    '| Service | Route | Scope |',
    '| --- | --- | --- |',
    ...routes.map(
      (route) =>
        `| ${route.service} | \`${route.method} ${route.path}\` | ${route.scopes.map((scope) => `\`${scope}\``).join(', ')} |`,
    ),
    '',
    END,
  ].join('\n');
}

/** docs/security.md as it should be committed, formatted as `prettier --check` wants it. */
async function render() {
  const file = join(ROOT, OUTPUT);
  const page = readFileSync(file, 'utf8');
  const begin = page.indexOf(BEGIN);
  const end = page.indexOf(END);
  if (begin < 0 || end < begin)
    throw new Error(
      `${OUTPUT}: no block between "${BEGIN} ... -->" and "${END}" to write the scope table in`,
    );
  const text =
    page.slice(0, begin) + block(collect()) + page.slice(end + END.length);
  const prettier = await import('prettier');
  const options = (await prettier.resolveConfig(file)) ?? {};
  return prettier.format(text, { ...options, filepath: file });
}

module.exports = { OUTPUT, render };

if (require.main === module) writeFile(OUTPUT, render, 'npm run docs:scopes');
