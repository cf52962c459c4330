// Draws the app and tray icons (cat heads, one colour and face per miner state) and writes them as
// PNG, plus a Windows .ico, to assets/icons/. Reproducible: the pixels are a pure function of the
// code, and test/packaging/icons.test.ts checks the committed files decode to exactly these pixels.
// Run: node node_modules/esbuild/bin/esbuild scripts/gen-icons.ts --bundle --platform=node \
//        --outfile=dist/tools/gen-icons.cjs && node dist/tools/gen-icons.cjs
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { deflateSync } from 'node:zlib';

export type IconFace = 'mining' | 'paused' | 'error' | 'idle';
type Rgba = [number, number, number, number];

const COLOURS: Record<IconFace, Rgba> = {
  mining: [34, 197, 94, 255],
  paused: [245, 158, 11, 255],
  error: [239, 68, 68, 255],
  idle: [148, 163, 184, 255],
};
const WHITE: Rgba = [255, 255, 255, 255];
const APP_BACKGROUND: Rgba = [30, 27, 46, 255];
const APP_CAT: Rgba = [255, 111, 168, 255];

type Shape = (x: number, y: number) => boolean;
const circle =
  (cx: number, cy: number, r: number): Shape =>
  (x, y) =>
    (x - cx) ** 2 + (y - cy) ** 2 <= r * r;
const rect =
  (x0: number, y0: number, x1: number, y1: number): Shape =>
  (x, y) =>
    x >= x0 && x <= x1 && y >= y0 && y <= y1;
function triangle(ax: number, ay: number, bx: number, by: number, cx: number, cy: number): Shape {
  const side = (px: number, py: number, qx: number, qy: number, x: number, y: number) => (qx - px) * (y - py) - (qy - py) * (x - px);
  return (x, y) => {
    const d1 = side(ax, ay, bx, by, x, y);
    const d2 = side(bx, by, cx, cy, x, y);
    const d3 = side(cx, cy, ax, ay, x, y);
    return (d1 >= 0 && d2 >= 0 && d3 >= 0) || (d1 <= 0 && d2 <= 0 && d3 <= 0);
  };
}
const union =
  (...shapes: Shape[]): Shape =>
  (x, y) =>
    shapes.some((s) => s(x, y));

/** Head and ears in unit coordinates (0..1, y down). */
const HEAD = union(circle(0.5, 0.58, 0.38), triangle(0.14, 0.44, 0.2, 0.05, 0.47, 0.27), triangle(0.86, 0.44, 0.8, 0.05, 0.53, 0.27));
const FACES: Record<IconFace, Shape> = {
  mining: union(circle(0.36, 0.56, 0.07), circle(0.64, 0.56, 0.07)),
  paused: union(rect(0.35, 0.42, 0.45, 0.78), rect(0.55, 0.42, 0.65, 0.78)),
  error: union(rect(0.45, 0.36, 0.55, 0.64), circle(0.5, 0.76, 0.06)),
  idle: union(rect(0.27, 0.55, 0.45, 0.61), rect(0.55, 0.55, 0.73, 0.61)),
};

interface Layer {
  shape: Shape;
  colour: Rgba;
}

/** RGBA pixels, anti-aliased by 4×4 supersampling; later layers paint over earlier ones. */
export function rasterise(size: number, layers: Layer[]): Uint8Array {
  const out = new Uint8Array(size * size * 4);
  const n = 4;
  for (let py = 0; py < size; py++) {
    for (let px = 0; px < size; px++) {
      const acc = [0, 0, 0, 0];
      for (let sy = 0; sy < n; sy++) {
        for (let sx = 0; sx < n; sx++) {
          const x = (px + (sx + 0.5) / n) / size;
          const y = (py + (sy + 0.5) / n) / size;
          let c: Rgba = [0, 0, 0, 0];
          for (const layer of layers) if (layer.shape(x, y)) c = layer.colour;
          // Premultiplied accumulation keeps edges against transparency from darkening.
          acc[0]! += (c[0] * c[3]) / 255;
          acc[1]! += (c[1] * c[3]) / 255;
          acc[2]! += (c[2] * c[3]) / 255;
          acc[3]! += c[3];
        }
      }
      const a = acc[3]! / (n * n);
      const i = (py * size + px) * 4;
      out[i + 3] = Math.round(a);
      for (let k = 0; k < 3; k++) out[i + k] = a === 0 ? 0 : Math.round((acc[k]! / (n * n)) * (255 / a));
    }
  }
  return out;
}

export function trayPixels(face: IconFace, size: number): Uint8Array {
  return rasterise(size, [
    { shape: HEAD, colour: COLOURS[face] },
    { shape: FACES[face], colour: WHITE },
  ]);
}

const roundedSquare =
  (r: number): Shape =>
  (x, y) => {
    const dx = Math.max(Math.abs(x - 0.5) - (0.5 - r), 0);
    const dy = Math.max(Math.abs(y - 0.5) - (0.5 - r), 0);
    return dx * dx + dy * dy <= r * r;
  };
const inset =
  (s: Shape, m: number): Shape =>
  (x, y) =>
    s((x - m) / (1 - 2 * m), (y - m) / (1 - 2 * m));

export function appPixels(size: number): Uint8Array {
  return rasterise(size, [
    { shape: roundedSquare(0.18), colour: APP_BACKGROUND },
    { shape: inset(HEAD, 0.14), colour: APP_CAT },
    { shape: inset(FACES.mining, 0.14), colour: WHITE },
  ]);
}

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

function crc32(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (const b of bytes) c = CRC_TABLE[(c ^ b) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function chunk(type: string, data: Uint8Array): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(data.length, 0);
  head.write(type, 4, 'ascii');
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), data])), 0);
  return Buffer.concat([head, data, crc]);
}

/** An 8-bit RGBA PNG, filter 0 on every row. */
export function encodePng(size: number, rgba: Uint8Array): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(size, 0);
  ihdr.writeUInt32BE(size, 4);
  ihdr[8] = 8;
  ihdr[9] = 6;
  const raw = Buffer.alloc(size * (size * 4 + 1));
  for (let y = 0; y < size; y++) raw.set(rgba.subarray(y * size * 4, (y + 1) * size * 4), y * (size * 4 + 1) + 1);
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(raw, { level: 9 })),
    chunk('IEND', new Uint8Array(0)),
  ]);
}

/** A .ico holding PNG images (Windows Vista and later read PNG entries; NSIS needs the 256 px one). */
export function encodeIco(images: { size: number; png: Buffer }[]): Buffer {
  const header = Buffer.alloc(6 + 16 * images.length);
  header.writeUInt16LE(0, 0);
  header.writeUInt16LE(1, 2);
  header.writeUInt16LE(images.length, 4);
  let offset = header.length;
  images.forEach(({ size, png }, i) => {
    const e = 6 + 16 * i;
    header[e] = size >= 256 ? 0 : size;
    header[e + 1] = size >= 256 ? 0 : size;
    header.writeUInt16LE(1, e + 4);
    header.writeUInt16LE(32, e + 6);
    header.writeUInt32LE(png.length, e + 8);
    header.writeUInt32LE(offset, e + 12);
    offset += png.length;
  });
  return Buffer.concat([header, ...images.map((i) => i.png)]);
}

/** Every icon file: name under assets/icons → its size and pixels. */
export function iconSpecs(): { name: string; size: number; pixels: () => Uint8Array }[] {
  const specs: { name: string; size: number; pixels: () => Uint8Array }[] = [];
  for (const face of ['mining', 'paused', 'error', 'idle'] as const) {
    // Electron picks `@2x` on high-DPI screens by itself when given the 1x path.
    specs.push({ name: `tray-${face}.png`, size: 16, pixels: () => trayPixels(face, 16) });
    specs.push({ name: `tray-${face}@2x.png`, size: 32, pixels: () => trayPixels(face, 32) });
  }
  for (const size of [16, 32, 48, 256, 512]) specs.push({ name: `icon-${size}.png`, size, pixels: () => appPixels(size) });
  return specs;
}

export const ICO_SIZES = [16, 32, 48, 256];

export function writeIcons(dir: string): string[] {
  mkdirSync(dir, { recursive: true });
  const written: string[] = [];
  const pngs = new Map<number, Buffer>();
  for (const spec of iconSpecs()) {
    const png = encodePng(spec.size, spec.pixels());
    if (spec.name.startsWith('icon-')) pngs.set(spec.size, png);
    writeFileSync(join(dir, spec.name), png);
    written.push(spec.name);
  }
  writeFileSync(join(dir, 'icon.ico'), encodeIco(ICO_SIZES.map((size) => ({ size, png: pngs.get(size)! }))));
  written.push('icon.ico');
  return written;
}

if (process.argv[1]?.endsWith('gen-icons.cjs')) {
  const dir = resolve(process.argv[2] ?? 'assets/icons');
  console.log(`gen-icons: wrote ${writeIcons(dir).length} files to ${dir}`);
}
