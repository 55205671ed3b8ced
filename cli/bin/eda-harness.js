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
  (err) => { console.error(err && err.stack ? err.stack : err); process.exitCode = 1; },
);
