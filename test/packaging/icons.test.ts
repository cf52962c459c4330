import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { inflateSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { TRAY_ICONS } from '../../src-main/desktop/tray-model';
import { ICO_SIZES, iconSpecs } from '../../scripts/gen-icons';

const dir = join(__dirname, '../../assets/icons');

/** Reads an RGBA PNG as written by gen-icons (filter 0 rows), checking every chunk's CRC. */
function decodePng(bytes: Buffer): { width: number; height: number; rgba: Buffer } {
  expect(bytes.subarray(0, 8)).toEqual(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
  let offset = 8;
  let width = 0;
  let height = 0;
  const idat: Buffer[] = [];
  while (offset < bytes.length) {
    const length = bytes.readUInt32BE(offset);
    const type = bytes.toString('ascii', offset + 4, offset + 8);
    const data = bytes.subarray(offset + 8, offset + 8 + length);
    const crc = bytes.readUInt32BE(offset + 8 + length);
    expect(crc, `${type} CRC`).toBe(zlibCrc(bytes.subarray(offset + 4, offset + 8 + length)));
    if (type === 'IHDR') {
      width = data.readUInt32BE(0);
      height = data.readUInt32BE(4);
      expect([data[8], data[9]], 'bit depth 8, colour type RGBA').toEqual([8, 6]);
    }
    if (type === 'IDAT') idat.push(data);
    offset += 12 + length;
  }
  const raw = inflateSync(Buffer.concat(idat));
  const rgba = Buffer.alloc(width * height * 4);
  for (let y = 0; y < height; y++) {
    const row = y * (width * 4 + 1);
    expect(raw[row], 'row filter').toBe(0);
    raw.copy(rgba, y * width * 4, row + 1, row + 1 + width * 4);
  }
  return { width, height, rgba };
}

function zlibCrc(bytes: Buffer): number {
  let c = 0xffffffff;
  for (const b of bytes) {
    c ^= b;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  }
  return (c ^ 0xffffffff) >>> 0;
}

describe('icons in assets/icons', () => {
  it.each(iconSpecs().map((s) => [s.name, s] as const))('%s is what gen-icons draws', (name, spec) => {
    const png = decodePng(readFileSync(join(dir, name)));
    expect([png.width, png.height]).toEqual([spec.size, spec.size]);
    expect(png.rgba.equals(Buffer.from(spec.pixels())), `${name} differs from scripts/gen-icons.ts; regenerate`).toBe(true);
  });

  it('has a 1x and 2x tray icon for every tray state', () => {
    for (const face of TRAY_ICONS) {
      expect(existsSync(join(dir, `tray-${face}.png`))).toBe(true);
      expect(existsSync(join(dir, `tray-${face}@2x.png`))).toBe(true);
    }
  });

  it('has a Windows .ico with PNG images up to 256 px', () => {
    const ico = readFileSync(join(dir, 'icon.ico'));
    expect([ico.readUInt16LE(0), ico.readUInt16LE(2), ico.readUInt16LE(4)]).toEqual([0, 1, ICO_SIZES.length]);
    const sizes: number[] = [];
    for (let i = 0; i < ico.readUInt16LE(4); i++) {
      const e = 6 + 16 * i;
      const size = ico[e] === 0 ? 256 : ico[e]!;
      const png = decodePng(ico.subarray(ico.readUInt32LE(e + 12), ico.readUInt32LE(e + 12) + ico.readUInt32LE(e + 8)));
      expect(png.width).toBe(size);
      sizes.push(size);
    }
    expect(sizes).toEqual(ICO_SIZES);
  });
});
