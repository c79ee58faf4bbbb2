// Runs first in npm start, npm test, npm run bench and the other scripts: on a Node older than the
// project needs, one line that says so and how to get the right one, instead of errors from deep
// in a build or a test run. Plain CommonJS, no newer syntax, so that an old Node can run it.
'use strict';

function parts(version) {
  return version.split('.').map(function (part) {
    return parseInt(part, 10) || 0;
  });
}

function atLeast(version, minimum) {
  var a = parts(version);
  var b = parts(minimum);
  for (var i = 0; i < 3; i++) {
    if ((a[i] || 0) !== (b[i] || 0)) return (a[i] || 0) > (b[i] || 0);
  }
  return true;
}

/** The line to print when `found` is older than `required`, or undefined when it is not. */
function nodeProblem(found, required) {
  if (atLeast(found, required)) return undefined;
  return (
    'This project needs Node.js ' +
    required +
    ' or newer; this is Node.js ' +
    found +
    '. Run `nvm use` (see .nvmrc) or `npm install --global node@24`, then try again.'
  );
}

module.exports = { nodeProblem: nodeProblem };

if (require.main === module) {
  var required = require('../package.json').engines.node.replace(/^>=\s*/, '');
  var problem = nodeProblem(process.versions.node, required);
  if (problem) {
    process.stderr.write(problem + '\n');
    process.exit(1);
  }
}
