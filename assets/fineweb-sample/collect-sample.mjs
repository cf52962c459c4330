#!/usr/bin/env node
// One-off collector for the bundled FineWeb-format sample (run by hand, not by the build):
//   node assets/fineweb-sample/collect-sample.mjs
// Turns README files of MIT/ISC/BSD-licensed packages in node_modules into web-page-like plain
// text (what trafilatura extracts from an HTML page), writes them to from-node-modules.jsonl and
// their licences to THIRD-PARTY-NOTICES.md. The output is committed; re-running it after a
// dependency upgrade changes the sample, which is why the build never runs it.
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const modules = resolve(here, '../../node_modules');

/** Whole README (first ~LONG_CHARS) as one long document: pages over 1024 tokens. */
const LONG = ['got', 'nock', 'commander', 'semver', 'debug', 'ws', 'chalk', 'dotenv', 'picomatch', 'zustand',
  'lru-cache', 'json5'];
/** READMEs split at second-level headings, one document per section, as many small pages. */
const SECTIONED = ['@noble/curves', '@noble/hashes', 'source-map-js', 'undici', 'jsdom', 'node-fetch',
  'symbol-tree', 'safe-buffer', 'buffer', 'dir-compare', 'glob', 'unzipper', 'ajv', 'fast-uri', 'tinybench',
  'pg-pool', 'http2-wrapper', 'pretty-format', 'redux-thunk', 'http-cache-semantics', '@xmldom/xmldom', 'bl',
  'magic-string', 'node-gyp', 'es-module-lexer', 'form-data', 'global-agent', 'yargs-parser', 'hyparquet',
  'hyparquet-writer', 'tldts', 'fs-extra', 'source-map-support', 'ci-info', '@scure/base', 'decimal.js', 'js-yaml',
  'reselect', 'webidl-conversions'];
const PERMISSIVE = new Set(['MIT', 'ISC', 'BSD-2-Clause', 'BSD-3-Clause', '0BSD']);
const LONG_CHARS = 6000;
const MAX_SECTION_CHARS = 1400;
const MIN_SECTION_CHARS = 250;
const MAX_SECTIONS_PER_PACKAGE = 6;

function sha256(text) {
  return createHash('sha256').update(text).digest('hex');
}

/** FineWeb ids are `<urn:uuid:...>`; derive a stable v4-shaped one from the URL. */
function urnFor(url) {
  const h = sha256(url);
  return `<urn:uuid:${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}>`;
}

/** A crawl time inside CC-MAIN-2024-10 (February/March 2024), stable per URL. */
function crawlDate(url) {
  const h = parseInt(sha256(`date:${url}`).slice(0, 8), 16);
  const start = Date.UTC(2024, 1, 20);
  return new Date(start + (h % (14 * 86400)) * 1000).toISOString().replace('.000Z', 'Z');
}

/** Markdown to the plain text an HTML extractor would give for the rendered page. */
function plainText(markdown) {
  const lines = [];
  for (const line of markdown.split(/\r?\n/)) {
    if (/^\s*(\[!\[|!\[)/.test(line) || /^\s*\[[^\]]+\]:\s*\S+/.test(line) || /^\s*```/.test(line)) continue;
    lines.push(
      line
        .replace(/<[^>]+>/g, '')
        .replace(/!\[[^\]]*\]\([^)]*\)/g, '')
        .replace(/\[([^\]]+)\]\([^)]*\)/g, '$1')
        .replace(/\[([^\]]+)\]\[[^\]]*\]/g, '$1')
        .replace(/^#{1,6}\s+/, '')
        .replace(/\*\*([^*]+)\*\*/g, '$1')
        .replace(/`([^`]+)`/g, '$1')
        .replace(/\s+$/, ''),
    );
  }
  return lines.join('\n').replace(/\n{3,}/g, '\n\n').trim();
}

function cutAtParagraph(text, maxChars) {
  if (text.length <= maxChars) return text;
  const cut = text.lastIndexOf('\n\n', maxChars);
  return text.slice(0, cut > maxChars / 2 ? cut : maxChars).trim();
}

function slug(title) {
  return title.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '');
}

function sections(markdown) {
  const parts = [];
  let current = { title: '', body: [] };
  for (const line of markdown.split(/\r?\n/)) {
    const heading = /^##\s+(.*)$/.exec(line);
    if (heading) {
      parts.push(current);
      current = { title: heading[1], body: [] };
    }
    current.body.push(line);
  }
  parts.push(current);
  return parts.map((p) => ({ title: p.title, text: plainText(p.body.join('\n')) }));
}

function readPackage(name) {
  const dir = join(modules, name);
  const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
  const license = typeof manifest.license === 'string' ? manifest.license : manifest.license?.type;
  if (!PERMISSIVE.has(license)) throw new Error(`${name}: licence ${license} is not on the permissive list`);
  const files = readdirSync(dir);
  const readme = files.find((f) => /^readme(\.md)?$/i.test(f));
  const licenseFile = files.find((f) => /^licen[cs]e/i.test(f));
  if (!readme || !licenseFile) throw new Error(`${name}: README or LICENSE missing`);
  return {
    name,
    version: manifest.version,
    license,
    readme: readFileSync(join(dir, readme), 'utf8'),
    licenseText: readFileSync(join(dir, licenseFile), 'utf8').trim(),
  };
}

function englishScore(text) {
  // Share of letters that are ASCII: a crude stand-in for FineWeb's fastText score, kept in its range.
  const letters = text.match(/\p{L}/gu) ?? [];
  const ascii = letters.filter((c) => c <= 'z').length;
  return Math.round((0.65 + 0.33 * (ascii / Math.max(1, letters.length))) * 1e4) / 1e4;
}

function doc(url, text) {
  return { id: urnFor(url), url, text, dump: 'CC-MAIN-2024-10', date: crawlDate(url), language: 'en', language_score: englishScore(text) };
}

const docs = [];
const packages = [];
for (const name of [...LONG, ...SECTIONED]) {
  if (!existsSync(join(modules, name))) continue;
  const pkg = readPackage(name);
  packages.push(pkg);
  const base = `https://www.npmjs.com/package/${name}`;
  if (LONG.includes(name)) {
    docs.push(doc(base, cutAtParagraph(plainText(pkg.readme), LONG_CHARS)));
    continue;
  }
  let kept = 0;
  for (const section of sections(pkg.readme)) {
    if (kept === MAX_SECTIONS_PER_PACKAGE) break;
    if (section.text.length < MIN_SECTION_CHARS) continue;
    const url = section.title ? `${base}#${slug(section.title)}` : base;
    docs.push(doc(url, cutAtParagraph(section.text, MAX_SECTION_CHARS)));
    kept++;
  }
}

writeFileSync(join(here, 'from-node-modules.jsonl'), docs.map((d) => JSON.stringify(d)).join('\n') + '\n');
const notices = packages
  .map((p) => `## ${p.name} ${p.version} (${p.license})\n\n\`\`\`\n${p.licenseText}\n\`\`\``)
  .join('\n\n');
writeFileSync(
  join(here, 'THIRD-PARTY-NOTICES.md'),
  `# Third-party notices\n\nfrom-node-modules.jsonl holds text from the README files of these packages, used under their licences:\n\n${notices}\n`,
);
console.log(`${docs.length} documents from ${packages.length} packages, ${docs.reduce((n, d) => n + d.text.length, 0)} characters`);
