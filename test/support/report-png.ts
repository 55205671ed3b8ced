import { inflateSync } from 'node:zlib';

/**
 * Just enough PNG decoding to look at a browser's screenshot (no dependency): 8-bit RGB or RGBA,
 * not interlaced, which is what Chromium writes. Anything else is an error saying what was found.
 */

export interface DecodedPng {
  readonly width: number;
  readonly height: number;
  /** RGBA, 4 bytes a pixel, row by row. */
  readonly rgba: Uint8Array;
}

const SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

export function decodePng(file: Buffer): DecodedPng {
  if (file.length < 8 || !file.subarray(0, 8).equals(SIGNATURE)) throw new Error('not a PNG file (no PNG signature)');
  let width = 0;
  let height = 0;
  let channels = 0;
  const idat: Buffer[] = [];
  for (let at = 8; at + 8 <= file.length; ) {
    const length = file.readUInt32BE(at);
    const type = file.toString('latin1', at + 4, at + 8);
    const data = file.subarray(at + 8, at + 8 + length);
    if (type === 'IHDR') {
      width = data.readUInt32BE(0);
      height = data.readUInt32BE(4);
      const [bitDepth, colourType, , , interlace] = [data[8], data[9], data[10], data[11], data[12]];
      if (bitDepth !== 8 || (colourType !== 2 && colourType !== 6) || interlace !== 0) {
        throw new Error(`unsupported PNG: bit depth ${bitDepth}, colour type ${colourType}, interlace ${interlace} (only 8-bit RGB/RGBA, not interlaced)`);
      }
      channels = colourType === 6 ? 4 : 3;
    } else if (type === 'IDAT') {
      idat.push(data);
    } else if (type === 'IEND') {
      break;
    }
    at += 12 + length;
  }
  if (channels === 0) throw new Error('PNG without an IHDR chunk');
  const raw = inflateSync(Buffer.concat(idat));
  const stride = width * channels;
  if (raw.length < height * (stride + 1)) throw new Error(`PNG data too short: ${raw.length} bytes for ${width}x${height}`);
  const pixels = new Uint8Array(height * stride);
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (stride + 1)];
    const src = y * (stride + 1) + 1;
    const row = y * stride;
    for (let i = 0; i < stride; i++) {
      const a = i >= channels ? pixels[row + i - channels]! : 0;
      const b = y > 0 ? pixels[row - stride + i]! : 0;
      const c = y > 0 && i >= channels ? pixels[row - stride + i - channels]! : 0;
      const x = raw[src + i]!;
      let value: number;
      switch (filter) {
        case 0: value = x; break;
        case 1: value = x + a; break;
        case 2: value = x + b; break;
        case 3: value = x + ((a + b) >> 1); break;
        case 4: value = x + paeth(a, b, c); break;
        default: throw new Error(`PNG row ${y} has filter type ${filter}, which does not exist (0 to 4)`);
      }
      pixels[row + i] = value & 0xff;
    }
  }
  if (channels === 4) return { width, height, rgba: pixels };
  const rgba = new Uint8Array(width * height * 4);
  for (let p = 0; p < width * height; p++) {
    rgba.set(pixels.subarray(p * 3, p * 3 + 3), p * 4);
    rgba[p * 4 + 3] = 255;
  }
  return { width, height, rgba };
}

function paeth(a: number, b: number, c: number): number {
  const p = a + b - c;
  const pa = Math.abs(p - a);
  const pb = Math.abs(p - b);
  const pc = Math.abs(p - c);
  return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
}

export interface PixelStats {
  readonly pixels: number;
  readonly distinctColours: number;
  /** Pixels that are neither white nor the page background, as a fraction of all. */
  readonly inkFraction: number;
  /** How many pixels have exactly each of the asked colours (`#rrggbb`). */
  readonly counts: Readonly<Record<string, number>>;
}

/** What is on the screenshot: how many colours, how much is not blank, and how often some exact colours occur. */
export function pixelStats(png: DecodedPng, background: readonly string[], colours: readonly string[] = []): PixelStats {
  const rgbOf = (hex: string): number => Number.parseInt(hex.replace('#', ''), 16);
  const blank = new Set(['#ffffff', ...background].map(rgbOf));
  const wanted = new Map(colours.map((c) => [rgbOf(c), c]));
  const counts: Record<string, number> = Object.fromEntries(colours.map((c) => [c, 0]));
  const distinct = new Set<number>();
  let ink = 0;
  const n = png.width * png.height;
  for (let p = 0; p < n; p++) {
    const rgb = (png.rgba[p * 4]! << 16) | (png.rgba[p * 4 + 1]! << 8) | png.rgba[p * 4 + 2]!;
    distinct.add(rgb);
    if (!blank.has(rgb)) ink++;
    const name = wanted.get(rgb);
    if (name !== undefined) counts[name] = (counts[name] ?? 0) + 1;
  }
  return { pixels: n, distinctColours: distinct.size, inkFraction: n === 0 ? 0 : ink / n, counts };
}
