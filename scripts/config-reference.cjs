'use strict';
// docs/configuration.md, written from the code: every service's config class (the `config` of the
// `service` its app.module.ts exports), the settings classes it is composed of (composeSettings,
// extends), and for each variable its default (the field's initializer), its rules (the
// class-validator decorators) and its meaning (the field's doc comment). `npm run docs:config`
// writes the file; `--stdout` prints it instead; `--check` exits 1 when the file is stale.
// test/configuration-reference.e2e-spec.ts fails when the committed file is not what this writes.
const { join, relative } = require('node:path');
const ts = require('typescript');
const { ROOT, services } = require('./services.cjs');
const { writeFile } = require('./written-file.cjs');

const OUTPUT = 'docs/configuration.md';

/** A program over the apps' modules, resolving `@app/*` as the build does; never type-checked. */
function createProgram() {
  const { config } = ts.readConfigFile(
    join(ROOT, 'tsconfig.json'),
    ts.sys.readFile,
  );
  const { options } = ts.parseJsonConfigFileContent(config, ts.sys, ROOT);
  return ts.createProgram({
    rootNames: services().map(({ sourceRoot }) =>
      join(ROOT, sourceRoot, 'app.module.ts'),
    ),
    options: { ...options, noEmit: true, incremental: false, types: [] },
  });
}

/** The declaration an identifier (or `a.b`) names, through imports and barrels. */
function declarationOf(checker, node) {
  let symbol = checker.getSymbolAtLocation(node);
  if (symbol && symbol.flags & ts.SymbolFlags.Alias)
    symbol = checker.getAliasedSymbol(symbol);
  return symbol?.valueDeclaration ?? symbol?.declarations?.[0];
}

function classOf(checker, node) {
  const declaration = declarationOf(checker, node);
  if (!declaration || !ts.isClassDeclaration(declaration))
    throw new Error(
      `${where(node)}: ${node.getText()} is not a class declaration`,
    );
  return declaration;
}

const where = (node) => {
  const file = node.getSourceFile();
  const { line } = file.getLineAndCharacterOfPosition(node.getStart());
  return `${relative(ROOT, file.fileName)}:${line + 1}`;
};

/** The value of a constant expression (literals, arithmetic, consts, arrays, joins), or undefined. */
function evaluate(checker, node) {
  if (!node) return undefined;
  if (
    ts.isParenthesizedExpression(node) ||
    ts.isAsExpression(node) ||
    ts.isSatisfiesExpression(node)
  )
    return evaluate(checker, node.expression);
  if (ts.isStringLiteralLike(node)) return node.text;
  if (ts.isNumericLiteral(node)) return Number(node.text.replaceAll('_', ''));
  if (node.kind === ts.SyntaxKind.TrueKeyword) return true;
  if (node.kind === ts.SyntaxKind.FalseKeyword) return false;
  if (
    ts.isPrefixUnaryExpression(node) &&
    node.operator === ts.SyntaxKind.MinusToken
  ) {
    const value = evaluate(checker, node.operand);
    return typeof value === 'number' ? -value : undefined;
  }
  if (ts.isBinaryExpression(node)) {
    const left = evaluate(checker, node.left);
    const right = evaluate(checker, node.right);
    if (typeof left !== 'number' || typeof right !== 'number') return undefined;
    switch (node.operatorToken.kind) {
      case ts.SyntaxKind.AsteriskToken:
        return left * right;
      case ts.SyntaxKind.PlusToken:
        return left + right;
      case ts.SyntaxKind.MinusToken:
        return left - right;
      case ts.SyntaxKind.SlashToken:
        return left / right;
      default:
        return undefined;
    }
  }
  if (ts.isArrayLiteralExpression(node)) {
    const values = node.elements.map((element) => evaluate(checker, element));
    return values.includes(undefined) ? undefined : values;
  }
  if (ts.isTemplateExpression(node)) {
    let text = node.head.text;
    for (const span of node.templateSpans) {
      const value = evaluate(checker, span.expression);
      if (value === undefined) return undefined;
      text += String(value) + span.literal.text;
    }
    return text;
  }
  if (ts.isIdentifier(node)) {
    const declaration = declarationOf(checker, node);
    return declaration &&
      ts.isVariableDeclaration(declaration) &&
      ts.getCombinedNodeFlags(declaration) & ts.NodeFlags.Const
      ? evaluate(checker, declaration.initializer)
      : undefined;
  }
  if (
    ts.isCallExpression(node) &&
    ts.isPropertyAccessExpression(node.expression) &&
    node.expression.name.text === 'join'
  ) {
    const list = evaluate(checker, node.expression.expression);
    const separator =
      node.arguments.length > 0 ? evaluate(checker, node.arguments[0]) : ',';
    return Array.isArray(list) && typeof separator === 'string'
      ? list.join(separator)
      : undefined;
  }
  if (ts.isArrowFunction(node) && !ts.isBlock(node.body))
    return evaluate(checker, node.body);
  return undefined;
}

/** An object literal's property, by name. */
function propertyOf(object, name) {
  if (!object || !ts.isObjectLiteralExpression(object)) return undefined;
  const found = object.properties.find(
    (property) =>
      (ts.isPropertyAssignment(property) ||
        ts.isShorthandPropertyAssignment(property)) &&
      property.name.getText() === name,
  );
  if (!found) return undefined;
  return ts.isPropertyAssignment(found) ? found.initializer : found.name;
}

/** The doc comment on a declaration, as one line. */
function docOf(node) {
  return ts
    .getJSDocCommentsAndTags(node)
    .filter(ts.isJSDoc)
    .map((doc) => ts.getTextOfJSDocComment(doc.comment) ?? '')
    .join(' ')
    .replace(/\s+/g, ' ')
    .trim();
}

/**
 * The service's config class and port variable: the `config` and `port` of the `service` its
 * app.module.ts exports (given to `defineService`).
 */
function definitionOf(program, checker, { name, sourceRoot }) {
  const file = program.getSourceFile(join(ROOT, sourceRoot, 'app.module.ts'));
  if (!file) throw new Error(`${sourceRoot}/app.module.ts not found`);
  for (const statement of file.statements) {
    if (!ts.isVariableStatement(statement)) continue;
    for (const declaration of statement.declarationList.declarations) {
      if (declaration.name.getText() !== 'service') continue;
      // `defineService({ ... })`, or the definition's object itself.
      const initializer = declaration.initializer;
      const parts =
        initializer && ts.isCallExpression(initializer)
          ? initializer.arguments[0]
          : initializer;
      const config = propertyOf(parts, 'config');
      if (config)
        return {
          config: classOf(checker, config),
          port: evaluate(checker, propertyOf(parts, 'port')),
        };
    }
  }
  throw new Error(
    `${sourceRoot}/app.module.ts must export \`service\` with the config class of ${name}`,
  );
}

/** The variables a class declares itself: its instance fields. */
function ownFields(declaration) {
  return declaration.members.filter(
    (member) =>
      ts.isPropertyDeclaration(member) &&
      ts.isIdentifier(member.name) &&
      !member.modifiers?.some(
        (modifier) =>
          modifier.kind === ts.SyntaxKind.StaticKeyword ||
          modifier.kind === ts.SyntaxKind.DeclareKeyword,
      ),
  );
}

/**
 * The settings classes a config class is made of, in the order loadConfig reads them: the parts of
 * what it composes or extends, then itself when it declares variables of its own (as partsOf).
 */
function partsOf(checker, declaration) {
  const base = declaration.heritageClauses?.find(
    (clause) => clause.token === ts.SyntaxKind.ExtendsKeyword,
  )?.types[0]?.expression;
  let parts = [];
  if (base && ts.isCallExpression(base)) {
    if (base.expression.getText() !== 'composeSettings')
      throw new Error(
        `${where(base)}: a config class extends a class or composeSettings(...)`,
      );
    parts = base.arguments.flatMap((argument) =>
      partsOf(checker, classOf(checker, argument)),
    );
  } else if (base) parts = partsOf(checker, classOf(checker, base));
  return ownFields(declaration).length > 0 || parts.length === 0
    ? [...parts, declaration]
    : parts;
}

const VALIDATORS = new Set([
  'IsInt',
  'Min',
  'Max',
  'NotAbove',
  'IsIn',
  'IsUrl',
  'Matches',
  'IsNotEmpty',
  'ValidateBy',
]);

/**
 * A field's validation decorators, each with its name and arguments; a decorator of the project's
 * own (`PartOfServiceIdentity()`) stands for the validators its factory applies.
 */
function decoratorsOf(checker, node) {
  return (ts.getDecorators(node) ?? []).flatMap(({ expression }) =>
    ts.isCallExpression(expression)
      ? validatorsIn(checker, expression)
      : [{ name: expression.getText(), args: [] }],
  );
}

function validatorsIn(checker, call, seen = new Set()) {
  const name = call.expression.getText();
  if (VALIDATORS.has(name)) return [{ name, args: call.arguments }];
  if (!ts.isIdentifier(call.expression)) return [];
  const declaration = declarationOf(checker, call.expression);
  const factory =
    declaration && ts.isVariableDeclaration(declaration)
      ? declaration.initializer
      : declaration;
  if (!factory || seen.has(factory) || !factory.getSourceFile) return [];
  if (factory.getSourceFile().isDeclarationFile) return [];
  seen.add(factory);
  const found = [];
  const visit = (node) => {
    if (ts.isCallExpression(node)) {
      if (VALIDATORS.has(node.expression.getText())) {
        found.push(...validatorsIn(checker, node, seen));
        return;
      }
    }
    ts.forEachChild(node, visit);
  };
  if (ts.isArrowFunction(factory) || ts.isFunctionDeclaration(factory))
    visit(factory.body);
  return found;
}

const code = (value) => `\`${value}\``;
const orList = (values) =>
  values.length < 2
    ? values.join('')
    : `${values.slice(0, -1).join(', ')} or ${values.at(-1)}`;

/** What a field's validation decorators accept, in words, or '' when they say nothing useful. */
function rulesOf(checker, field) {
  const decorators = decoratorsOf(checker, field);
  const argument = (name, index = 0) =>
    evaluate(
      checker,
      decorators.find((decorator) => decorator.name === name)?.args[index],
    );
  const words = [];
  const integer = decorators.some((decorator) => decorator.name === 'IsInt');
  const min = argument('Min');
  const max = argument('Max');
  const notAbove = argument('NotAbove');
  if (min !== undefined && max !== undefined)
    words.push(`${integer ? 'an integer, ' : ''}${min} to ${max}`);
  else if (min !== undefined)
    words.push(`${integer ? 'an integer ' : ''}≥ ${min}`);
  else if (max !== undefined)
    words.push(`${integer ? 'an integer ' : ''}≤ ${max}`);
  else if (integer) words.push('an integer');
  if (notAbove !== undefined) words.push(`at most ${code(notAbove)}`);
  const allowed = argument('IsIn');
  if (Array.isArray(allowed)) words.push(orList(allowed.map(code)));
  const url = decorators.find((decorator) => decorator.name === 'IsUrl');
  if (url) {
    const protocols = evaluate(checker, propertyOf(url.args[0], 'protocols'));
    words.push(
      Array.isArray(protocols) ? `an ${orList(protocols)} URL` : 'a URL',
    );
  }
  // The messages the services answer a wrong value with say what a right one is.
  for (const { name, args } of decorators) {
    const options =
      name === 'ValidateBy'
        ? propertyOf(args[0], 'validator')
        : name === 'Matches'
          ? args[1]
          : name === 'IsNotEmpty'
            ? args[0]
            : undefined;
    const message = evaluate(
      checker,
      propertyOf(options, name === 'ValidateBy' ? 'defaultMessage' : 'message'),
    );
    if (typeof message === 'string')
      words.push(message.replace(/^\$property must (be )?/, ''));
  }
  return words.join('; ');
}

/** A default as the table shows it; durations in ms or s also in words. */
function defaultOf(checker, field) {
  const value = evaluate(checker, field.initializer);
  if (value === undefined)
    return field.initializer ? code(field.initializer.getText()) : 'unset';
  if (value === '') return 'empty';
  if (typeof value !== 'number') return code(value);
  const name = field.name.getText();
  const ms = name.endsWith('_MS')
    ? value
    : name.endsWith('_S')
      ? value * 1000
      : 0;
  const units = [
    [3_600_000, 'h'],
    [60_000, 'min'],
    [1000, 's'],
  ];
  const unit = units.find(([size]) => ms >= size && ms % size === 0);
  return unit && !(name.endsWith('_S') && unit[1] === 's')
    ? `${code(value)} (${ms / unit[0]} ${unit[1]})`
    : code(value);
}

/** For a port variable without a doc comment: what the service definition says it is. */
const PORT_MEANING =
  "The port the service listens on (its `ServiceDefinition`'s `port`).";

const cell = (text) => text.replaceAll('|', '\\|');

/** The owner's title: its class name without Settings or Config, in words. */
function titleOf(declaration, app) {
  const words = declaration.name.text
    .replace(/(Settings|Config)$/, '')
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .toLowerCase();
  return app ? `The ${app} app` : words[0].toUpperCase() + words.slice(1);
}

/** The classes, each with its fields and the services that read them, in the order first read. */
function collect() {
  const program = createProgram();
  const checker = program.getTypeChecker();
  const owners = new Map();
  const portOf = {};
  for (const service of services()) {
    const { config, port } = definitionOf(program, checker, service);
    portOf[service.name] = port;
    for (const part of partsOf(checker, config)) {
      const owner = owners.get(part) ?? {
        declaration: part,
        app: part === config ? service.name : undefined,
        services: [],
      };
      owner.services.push(service.name);
      owners.set(part, owner);
    }
  }
  // What every service reads first, then what some do, then each app's own; else as first read.
  const all = services().length;
  const rank = (owner) =>
    owner.app ? 2 : owner.services.length === all ? 0 : 1;
  return [...owners.values()]
    .map((owner, index) => ({ ...owner, index }))
    .sort((a, b) => rank(a) - rank(b) || a.index - b.index)
    .map(({ declaration, app, services: readers }) => ({
      title: titleOf(declaration, app),
      className: declaration.name.text,
      file: relative(ROOT, declaration.getSourceFile().fileName),
      doc: docOf(declaration).replace(/;? see the README[^.]*\./, '.'),
      services: readers,
      variables: ownFields(declaration).map((field) => ({
        name: field.name.text,
        default: defaultOf(checker, field),
        rules: rulesOf(checker, field),
        meaning:
          docOf(field) ||
          (field.name.text === portOf[app ?? ''] ? PORT_MEANING : '—'),
      })),
    }));
}

/**
 * What the deployment files need of each service, from the same reading of the code: its port
 * variable and default port, and the names of every variable its config reads.
 */
function serviceFacts() {
  const program = createProgram();
  const checker = program.getTypeChecker();
  return services().map((service) => {
    const { config, port } = definitionOf(program, checker, service);
    const fields = partsOf(checker, config).flatMap(ownFields);
    const portField = fields.find((field) => field.name.text === port);
    const portValue = portField && evaluate(checker, portField.initializer);
    if (typeof portValue !== 'number')
      throw new Error(`${service.name}: ${port} has no number as its default`);
    return {
      name: service.name,
      portVariable: port,
      port: portValue,
      variables: fields.map((field) => field.name.text),
    };
  });
}

function markdown(owners) {
  const lines = [
    '<!-- Generated by scripts/config-reference.cjs from the settings classes: do not edit. Run `npm run docs:config` after changing a setting; test/configuration-reference.e2e-spec.ts fails while this file is stale. -->',
    '',
    '# Configuration',
    '',
    'Environment variables, validated at start. A wrong value stops the service with exit code 1',
    'and one message naming every wrong variable, e.g.',
    '`USERS_PORT="http": USERS_PORT must be an integer number`. An unset or empty variable takes',
    'its default. Each lib owns and checks its own variables in one settings class, and each',
    "service's config composes the classes of the libs it uses (see",
    '[CONTRIBUTING.md, "Settings"](../CONTRIBUTING.md#settings)); the tables below are written',
    "from those classes: the default is the field's initializer, _Accepts_ its validation rules,",
    '_Meaning_ its doc comment.',
    '',
    '| Settings | Services | Class |',
    '| --- | --- | --- |',
    ...owners.map(
      (owner) =>
        `| [${owner.title}](#${slug(owner.title)}) | ${owner.services.join(', ')} | ${code(owner.className)} |`,
    ),
    '',
  ];
  for (const owner of owners) {
    lines.push(
      `## ${owner.title}`,
      '',
      `${code(owner.className)} in [${code(owner.file)}](../${owner.file}).${owner.doc ? ` ${owner.doc}` : ''}`,
      '',
      '| Variable | Services | Default | Accepts | Meaning |',
      '| --- | --- | --- | --- | --- |',
      ...owner.variables.map(
        (variable) =>
          `| ${code(variable.name)} | ${owner.services.join(', ')} | ${cell(variable.default)} | ${cell(variable.rules || '—')} | ${cell(variable.meaning)} |`,
      ),
      '',
    );
  }
  lines.push(
    '## Read outside the settings classes',
    '',
    "OpenTelemetry's SDK reads its own standard variables: `OTEL_EXPORTER_OTLP_ENDPOINT` (or",
    '`OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`), unset by default, turns on exporting spans over',
    'OTLP/HTTP, e.g. `http://otel-collector:4318`; `OTEL_SDK_DISABLED=true` turns it off (see',
    '[Operations, "Following a request"](operations.md#following-a-request)).',
    '`npm run start:postgres` keeps its cluster in `POSTGRES_DATA_DIR` (default `.data/postgres`),',
    'and the tests use `TEST_DATABASE_URL` when set (see',
    '[Operations, "Running it"](operations.md#running-it)).',
    '',
  );
  return lines.join('\n');
}

/** GitHub's anchor for a heading. */
function slug(heading) {
  return heading
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, '')
    .replace(/\s/g, '-');
}

/** The reference as it should be committed, formatted as `prettier --check` wants it. */
async function render() {
  const text = markdown(collect());
  const prettier = await import('prettier');
  const file = join(ROOT, OUTPUT);
  const options = (await prettier.resolveConfig(file)) ?? {};
  return prettier.format(text, { ...options, filepath: file });
}

module.exports = { OUTPUT, render, serviceFacts, slug };

if (require.main === module) writeFile(OUTPUT, render, 'npm run docs:config');
