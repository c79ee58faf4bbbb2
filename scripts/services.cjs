'use strict';
// The services of this repository: the applications of nest-cli.json, the one list of them. The
// npm scripts, jest's projects and the test helpers read it, so a new service is its folder and
// its nest-cli.json entry. Run directly, it prints their names: `nest build $(node scripts/services.cjs)`.
const { readFileSync } = require('node:fs');
const { join } = require('node:path');

const ROOT = join(__dirname, '..');

function services() {
  const { projects } = JSON.parse(
    readFileSync(join(ROOT, 'nest-cli.json'), 'utf8'),
  );
  return Object.keys(projects)
    .filter((name) => projects[name].type === 'application')
    .map((name) => ({
      name,
      root: projects[name].root,
      sourceRoot: projects[name].sourceRoot,
    }));
}

/** The names asked for, all when none: exits 2 naming the services for a name that is none. */
function servicesNamed(names) {
  const all = services().map((service) => service.name);
  const unknown = names.filter((name) => !all.includes(name));
  if (unknown.length > 0) {
    process.stderr.write(
      `Unknown service ${unknown.join(', ')}: the services are ${all.join(', ')} (nest-cli.json)\n`,
    );
    process.exit(2);
  }
  return names.length > 0 ? names : all;
}

module.exports = { ROOT, services, servicesNamed };

if (require.main === module) {
  process.stdout.write(`${servicesNamed([]).join(' ')}\n`);
}
