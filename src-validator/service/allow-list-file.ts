import { watch } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import { decodeAddress } from '@polkadot/util-crypto';
import { errorMessage } from '../../src-node/log';
import { toDisposable } from '../../src-node/event';
import type { MinerSource } from './miner-registry';

/** A change event arrives per write; an editor's save is several. One read after they settle. */
const CHANGE_SETTLE_MS = 200;

/** One SS58 address per line; blank lines and `#` comments (whole-line or trailing) are skipped. */
function parseAllowList(text: string, path: string): string[] {
  const addresses: string[] = [];
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.replace(/#.*/, '').trim();
    if (!line) return;
    const problem = ss58Problem(line);
    if (problem) throw new Error(`${path} line ${i + 1}: '${line.slice(0, 80)}' is not an SS58 address (${problem}).`);
    addresses.push(line);
  });
  return addresses;
}

/** Any network's prefix is accepted: the registry compares public keys. A hex public key is not an address. */
function ss58Problem(line: string): string | null {
  if (line.startsWith('0x')) return 'a hex public key; write its SS58 address';
  try {
    decodeAddress(line);
    return null;
  } catch (error) {
    return errorMessage(error);
  }
}

/**
 * An allow-list file. It is re-read on the registry's interval and when the folder says it
 * changed; the folder is watched, not the file, since editors save by replacing the file.
 */
export function allowListFile(path: string): MinerSource {
  return {
    description: `the allow-list ${path}`,
    mustLoadAtStart: true,
    load: async () => parseAllowList(await readFile(path, 'utf8'), path),
    watch(onChange) {
      let settle: ReturnType<typeof setTimeout> | null = null;
      const watcher = watch(dirname(path), (_event, name) => {
        if (name !== null && name !== basename(path)) return;
        if (settle) clearTimeout(settle);
        settle = setTimeout(onChange, CHANGE_SETTLE_MS);
      });
      // A folder that goes away stops the watch; the interval still re-reads.
      watcher.on('error', () => watcher.close());
      watcher.unref();
      return toDisposable(() => {
        if (settle) clearTimeout(settle);
        watcher.close();
      });
    },
  };
}
