import { ESLint } from 'eslint';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

/**
 * The layer rules of eslint.config.mjs (docs/ARCHITECTURE.md: the folders are the architecture)
 * checked on snippets at virtual paths, so a glob or expression that stops matching fails here
 * rather than letting every import through silently.
 */
const ROOT = resolve(__dirname, '../..');
const eslint = new ESLint({ cwd: ROOT, overrideConfigFile: resolve(ROOT, 'eslint.config.mjs') });
const LAYER_RULES = new Set(['no-restricted-imports', 'no-restricted-syntax']);

async function layerViolations(file: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath: resolve(ROOT, file) });
  const messages = result!.messages;
  const fatal = messages.filter((m) => m.fatal);
  if (fatal.length > 0) throw new Error(`${file}: ${fatal.map((m) => m.message).join('; ')}`);
  return messages.filter((m) => LAYER_RULES.has(m.ruleId ?? '')).map((m) => m.message);
}

const forbidden: [file: string, code: string][] = [
  ['src-shared/x.ts', "import { readFileSync } from 'node:fs';"],
  ['src-shared/x.ts', "import { join } from 'path';"],
  ['src-shared/x.ts', "import { readFile } from 'fs/promises';"],
  ['src-shared/x.ts', "import type { BrowserWindow } from 'electron';"],
  ['src-shared/x.ts', "import { createLogger } from '../src-node/log';"],
  ['src-shared/sub/x.ts', "export { Miner } from '../../src-main/miner/miner';"],
  ['src-shared/x.ts', "const fs = require('fs');"],
  ['src-node/x.ts', "import { Miner } from '../src-main/miner/miner';"],
  ['src-node/x.ts', "import { startValidator } from '../src-validator';"],
  ['src-node/x.ts', "import 'electron';"],
  ['src-validator/x.ts', "import { log } from '../src-main/log';"],
  ['src-validator/http/x.ts', "import type { App } from '../../src-renderer/App';"],
  ['src-validator/x.ts', "export const load = () => import('../src-main/cli/nya');"],
  ['src-validator/x.ts', "import { app } from 'electron';"],
  ['src-renderer/x.tsx', "import { ipcRenderer } from 'electron';"],
  ['src-renderer/x.tsx', "import { readFile } from 'node:fs/promises';"],
  ['src-renderer/pages/x.tsx', "import { createLogger } from '../../src-node/log';"],
  ['src-renderer/x.tsx', "import { Miner } from '../src-main/miner/miner';"],
  ['src-renderer/x.tsx', "import { startValidator } from '../src-validator';"],
  ['src-main/miner/x.ts', "import { startValidator } from '../../src-validator';"],
  ['src-main/miner/x.ts', "export const bench = () => import('../../src-validator/bench');"],
  ['src-main/miner/x.ts', "import { app } from 'electron';"],
  ['src-main/miner/x.ts', "export type Electron = typeof import('electron');"],
  ['src-main/x.ts', "import { App } from '../src-renderer/App';"],
  ['src-main/electron/x.ts', "import { startValidator } from '../../src-validator';"],
  ['src-main/cli/commands/x.ts', "import { app } from 'electron';"],
  ['src-main/compose/headless.ts', "import { app } from 'electron';"],
  ['src-main/compose/electron.ts', "import { App } from '../../src-renderer/App';"],
];

const allowed: [file: string, code: string][] = [
  ['src-shared/x.ts', "import { z } from 'zod';\nimport { CHANNELS } from './channels';"],
  ['src-node/x.ts', "import { rename } from 'node:fs/promises';\nimport { SS58_PREFIX } from '../src-shared/protocol';"],
  ['src-validator/x.ts', "import { createLogger } from '../src-node/log';\nimport { readFile } from 'node:fs/promises';"],
  ['src-renderer/x.tsx', "import { useState } from 'react';\nimport type { HistoryRange } from '../src-shared/ipc';"],
  [
    'src-main/miner/x.ts',
    "import { join } from 'node:path';\nimport { createLogger } from '../../src-node/log';\nimport updater from 'electron-updater';",
  ],
  ['src-main/compose/x.ts', "import { startValidator } from '../../src-validator';"],
  ['src-main/cli/commands/x.ts', "export const bench = () => import('../../../src-validator/bench');"],
  ['src-main/electron/x.ts', "import { app } from 'electron';\nexport type Electron = typeof import('electron');"],
  ['src-main/compose/electron.ts', "import { app } from 'electron';\nimport { startValidator } from '../../src-validator';"],
];

describe('layer rules (eslint.config.mjs)', () => {
  it.each(forbidden)('reports %s: %s', async (file, code) => {
    expect(await layerViolations(file, code)).toHaveLength(1);
  });

  it.each(allowed)('allows %s: %s', async (file, code) => {
    expect(await layerViolations(file, code)).toEqual([]);
  });
});
