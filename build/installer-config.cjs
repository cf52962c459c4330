// The configuration electron-builder runs with (`--config build/installer-config.cjs`,
// docs/PACKAGING.md): electron-builder.yml, the one place the installers are described, plus
// Windows signing from the environment (build/windows-signing.cjs).
'use strict';
const { readFileSync } = require('node:fs');
const { join } = require('node:path');
const { parse } = require('yaml');
const { withWindowsSigning } = require('./windows-signing.cjs');

module.exports = withWindowsSigning(parse(readFileSync(join(__dirname, '..', 'electron-builder.yml'), 'utf8')), process.env);
