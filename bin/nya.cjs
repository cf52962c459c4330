#!/usr/bin/env node
// The `nya` command as npm links it: runs the built CLI bundle.
const { existsSync } = require('node:fs');
const { join } = require('node:path');
const bundle = join(__dirname, '..', 'dist', 'main', 'nya.cjs');
if (!existsSync(bundle)) {
  console.error('nya: the app is not built yet. Run `npm run build` (or `npm ci`, which builds) first.');
  process.exit(1);
}
require(bundle);
