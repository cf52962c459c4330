import { parseVdf, vdfGet } from './vdf';

/**
 * Steam records the game it is running as `RunningAppID` (0 when none): in the Windows registry
 * under HKCU\Software\Valve\Steam, on Linux in ~/.steam/registry.vdf. The game's name is in
 * `steamapps/appmanifest_<id>.acf` of whichever library holds it.
 */
export const STEAM_REG_KEY = 'HKCU\\Software\\Valve\\Steam';

/**
 * One value from `reg query <key> /v <name>` output:
 * `    RunningAppID    REG_DWORD    0x2da`. A missing value is an error exit, handled by the caller.
 */
export function parseRegQueryValue(stdout: string, name: string): string | number | null {
  for (const line of stdout.split(/\r?\n/)) {
    const match = line.match(/^\s+(.+?)\s{2,}(REG_\w+)\s{2,}(.*)$|^\s+(.+?)\s{2,}(REG_\w+)\s*$/);
    const valueName = match?.[1] ?? match?.[4];
    if (!match || valueName?.toLowerCase() !== name.toLowerCase()) continue;
    const type = match[2] ?? match[5];
    const data = (match[3] ?? '').trim();
    if (type === 'REG_DWORD' || type === 'REG_QWORD') return /^0x[0-9a-f]+$/i.test(data) ? Number.parseInt(data, 16) : null;
    return data;
  }
  return null;
}

/** RunningAppID from registry.vdf; 0 → null (no game). */
export function runningAppIdFromRegistryVdf(text: string): number | null {
  const value = vdfGet(parseVdf(text), ['Registry', 'HKCU', 'Software', 'Valve', 'Steam', 'RunningAppID']);
  return typeof value === 'string' ? positiveId(value) : null;
}

export function positiveId(value: string | number | null): number | null {
  const id = typeof value === 'number' ? value : Number(value);
  return Number.isInteger(id) && id > 0 ? id : null;
}

export function appNameFromManifest(text: string): string | null {
  const name = vdfGet(parseVdf(text), ['AppState', 'name']);
  return typeof name === 'string' && name.length > 0 ? name : null;
}

/** Library folders listed in steamapps/libraryfolders.vdf (both the old and the current layout). */
export function libraryFolders(text: string): string[] {
  const root = vdfGet(parseVdf(text), ['libraryfolders']);
  if (!root || typeof root === 'string') return [];
  return Object.entries(root)
    .filter(([key]) => /^\d+$/.test(key))
    .map(([, entry]) => (typeof entry === 'string' ? entry : vdfGet(entry, ['path'])))
    .filter((path): path is string => typeof path === 'string');
}
