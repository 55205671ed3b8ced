import { deflateSync } from 'node:zlib';
import { decodePng, pixelStats } from '../../support/report-png';

/** A PNG written by hand: each row filtered with the given filter type (0..4), CRCs left 0 (the decoder does not read them). */
function encodePng(width: number, height: number, channels: 3 | 4, pixels: number[], filters: number[]): Buffer {
  const stride = width * channels;
  const at = (y: number, i: number): number => (y < 0 || i < 0 ? 0 : pixels[y * stride + i]!);
  const rows: number[] = [];
  for (let y = 0; y < height; y++) {
    const f = filters[y % filters.length]!;
    rows.push(f);
    for (let i = 0; i < stride; i++) {
      const [x, a, b, c] = [at(y, i), at(y, i - channels), at(y - 1, i), at(y - 1, i - channels)];
      const p = a + b - c;
      const paeth = Math.abs(p - a) <= Math.abs(p - b) && Math.abs(p - a) <= Math.abs(p - c) ? a : Math.abs(p - b) <= Math.abs(p - c) ? b : c;
      const predicted = [0, a, b, (a + b) >> 1, paeth][f]!;
      rows.push((x - predicted) & 0xff);
    }
  }
  const chunk = (type: string, data: Buffer): Buffer => {
    const head = Buffer.alloc(8);
    head.writeUInt32BE(data.length, 0);
    head.write(type, 4, 'latin1');
    return Buffer.concat([head, data, Buffer.alloc(4)]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr.set([8, channels === 4 ? 6 : 2, 0, 0, 0], 8);
  const signature = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  return Buffer.concat([signature, chunk('IHDR', ihdr), chunk('IDAT', deflateSync(Buffer.from(rows))), chunk('IEND', Buffer.alloc(0))]);
}

describe('decodePng', () => {
  const width = 3;
  const height = 5;
  const rgba = Array.from({ length: width * height * 4 }, (_, i) => (i * 37 + 11) % 256);

  it('reads back RGBA pixels through every filter type', () => {
    const png = decodePng(encodePng(width, height, 4, rgba, [0, 1, 2, 3, 4]));
    expect([png.width, png.height]).toEqual([width, height]);
    expect(Array.from(png.rgba)).toEqual(rgba);
  });

  it('reads RGB as opaque RGBA', () => {
    const rgb = rgba.filter((_, i) => i % 4 !== 3);
    const png = decodePng(encodePng(width, height, 3, rgb, [4, 3, 2, 1, 0]));
    expect(Array.from(png.rgba)).toEqual(rgba.map((v, i) => (i % 4 === 3 ? 255 : v)));
  });

  it('says what is wrong with a file it cannot read', () => {
    expect(() => decodePng(Buffer.from('<html>'))).toThrow(/not a PNG/);
    const bad = encodePng(1, 1, 4, [0, 0, 0, 255], [0]);
    bad[8 + 8 + 8] = 16; // IHDR bit depth
    expect(() => decodePng(bad)).toThrow(/bit depth 16/);
  });
});

describe('pixelStats', () => {
  it('counts distinct colours, ink (neither white nor background) and exact colours', () => {
    const px = [0xff, 0xff, 0xff, 255, 0xf8, 0xfa, 0xfc, 255, 0x1e, 0x29, 0x3b, 255, 0x1e, 0x29, 0x3b, 255];
    const stats = pixelStats(decodePng(encodePng(2, 2, 4, px, [1])), ['#f8fafc'], ['#1e293b', '#dc2626']);
    expect(stats).toEqual({ pixels: 4, distinctColours: 3, inkFraction: 0.5, counts: { '#1e293b': 2, '#dc2626': 0 } });
  });
});
