import { describe, expect, it } from 'vitest';
import { defaultDataDir } from '../../src-node/data-dir';

describe('defaultDataDir', () => {
  it('follows XDG on Linux, ignoring a relative XDG_DATA_HOME', () => {
    expect(defaultDataDir({ XDG_DATA_HOME: '/data/me' }, 'linux', '/home/me')).toBe('/data/me/nya-miner');
    expect(defaultDataDir({}, 'linux', '/home/me')).toBe('/home/me/.local/share/nya-miner');
    expect(defaultDataDir({ XDG_DATA_HOME: 'relative' }, 'linux', '/home/me')).toBe('/home/me/.local/share/nya-miner');
  });

  it('uses APPDATA on Windows and Application Support on macOS', () => {
    expect(defaultDataDir({ APPDATA: 'C:\\Users\\me\\AppData\\Roaming' }, 'win32', 'C:\\Users\\me')).toMatch(/Roaming[\\/]nya-miner$/);
    expect(defaultDataDir({}, 'darwin', '/Users/me')).toBe('/Users/me/Library/Application Support/nya-miner');
  });
});
