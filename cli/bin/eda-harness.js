#!/usr/bin/env node
'use strict';
// Thin launcher: the CLI is compiled to dist/ by `npm run build`.
let main;
try {
  main = require('../dist/main.js').main;
} catch (err) {
  if (err && err.code === 'MODULE_NOT_FOUND' && String(err.message).includes('dist/main.js')) {
    console.error('eda-harness: the package is not built. Run `npm run build` (or `npm ci`, which builds it) first.');
    process.exit(2);
  }
  throw err;
}
main(process.argv.slice(2)).then(
  (code) => { process.exitCode = code; },
  // main() reports errors itself; this is the last guard, and prints a stack only when asked to.
  (err) => {
    const debug = process.argv.includes('--debug') || !['', '0', 'false', undefined].includes(process.env.DEBUG);
    console.error(debug && err && err.stack ? err.stack : `eda-harness: unexpected error: ${err && err.message ? err.message : err}`);
    process.exitCode = 1;
  },
);
