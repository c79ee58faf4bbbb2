'use strict';
// The command line of a script that writes one committed file from the code (docs:config,
// docs:scopes): no argument writes it, `--stdout` prints what it would write, `--check` exits 1
// while the committed file is not that. Each script's test compares `--stdout` with the file.
const { readFileSync, writeFileSync } = require('node:fs');
const { join } = require('node:path');
const { ROOT } = require('./services.cjs');

/** Runs `render()` (the file's text, a promise) as `process.argv` asks; `command` fixes a stale file. */
function writeFile(output, render, command) {
  const mode = process.argv[2];
  render().then(
    (text) => {
      if (mode === '--stdout') process.stdout.write(text);
      else if (mode === '--check') {
        let committed = '';
        try {
          committed = readFileSync(join(ROOT, output), 'utf8');
        } catch {
          // missing: stale
        }
        if (committed !== text) {
          process.stderr.write(`${output} is stale: run \`${command}\`\n`);
          process.exitCode = 1;
        }
      } else {
        writeFileSync(join(ROOT, output), text);
        process.stdout.write(`wrote ${output}\n`);
      }
    },
    (error) => {
      process.stderr.write(`${error.stack ?? error}\n`);
      process.exitCode = 1;
    },
  );
}

module.exports = { writeFile };
