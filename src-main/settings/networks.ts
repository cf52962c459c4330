import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { NetworkFile, type Network, type NetworkList } from '../../src-shared/network';
import type { Settings } from '../../src-shared/state';
import { resourcePath } from '../../src-node/app-paths';

/**
 * The network a fresh install joins, chosen when the app is built: `NYA_DEFAULT_NETWORK=name npm
 * run build` (scripts/build.mjs writes it into the bundles; from sources, as in the tests, the
 * variable is read at run time). `local` keeps a fresh install on the embedded validator.
 */
export const BUILD_DEFAULT_NETWORK = process.env.NYA_DEFAULT_NETWORK || 'local';

export class NetworkFileError extends Error {
  override readonly name = 'NetworkFileError';
}

/** Parses a networks.json; throws a `NetworkFileError` that names the file and the bad field. */
export function parseNetworkFile(text: string, where: string): Network[] {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new NetworkFileError(`${where} is not JSON: ${(error as Error).message}`);
  }
  const parsed = NetworkFile.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new NetworkFileError(`${where} is malformed at ${issue.path.join('.') || 'the top'}: ${issue.message}`);
  }
  const names = parsed.data.networks.map((n) => n.name);
  const twice = names.find((n, i) => names.indexOf(n) !== i);
  if (twice) throw new NetworkFileError(`${where} names the network '${twice}' twice`);
  return parsed.data.networks;
}

/** The operator's networks over the bundled ones: same name replaces, a new name is added. */
export function mergeNetworks(bundled: readonly Network[], local: readonly Network[]): Network[] {
  const byName = new Map(bundled.map((n) => [n.name, n]));
  for (const n of local) byName.set(n.name, n);
  return [...byName.values()];
}

/**
 * The bundled `assets/networks.json` merged with `<dataDir>/networks.json` when there is one. A
 * malformed local file is reported (`problem`) and left out, so a typo never stops the miner;
 * a malformed bundled file is a build bug and throws.
 */
export function loadNetworks(dataDir: string, bundledPath = resourcePath('assets', 'networks.json')): NetworkList {
  const bundled = parseNetworkFile(readFileSync(bundledPath, 'utf8'), bundledPath);
  const localPath = join(dataDir, 'networks.json');
  let local: Network[] = [];
  let problem: string | null = null;
  if (existsSync(localPath)) {
    try {
      local = parseNetworkFile(readFileSync(localPath, 'utf8'), localPath);
    } catch (error) {
      problem = `${(error as Error).message}; using the bundled networks only`;
    }
  }
  return { networks: mergeNetworks(bundled, local), defaultNetwork: BUILD_DEFAULT_NETWORK, problem };
}

/** The network the settings choose (their own, or the build's default); null when no network has that name. */
export function chosenNetwork(settings: Pick<Settings, 'network'>, list: NetworkList): Network | null {
  const name = settings.network ?? list.defaultNetwork;
  return list.networks.find((n) => n.name === name) ?? null;
}

/**
 * The settings as the miner runs them: the chosen network's validator and RPC filled in where the
 * user set none. The settings file keeps the user's choices; only this view carries the network's.
 */
export function effectiveSettings(settings: Settings, list: NetworkList): Settings {
  const network = chosenNetwork(settings, list);
  return {
    ...settings,
    validatorUrl: settings.validatorUrl ?? network?.validators[0] ?? null,
    communeRpcUrl: settings.communeRpcUrl ?? network?.communeRpc ?? null,
  };
}
