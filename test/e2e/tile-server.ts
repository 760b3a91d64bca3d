/**
 * A tile server for the end-to-end tests: 127.0.0.1 on a free port, answering `/{z}/{x}/{y}.png` with
 * 256 × 256 PNGs it draws itself (a pale checkerboard with a grid, so a screenshot shows where tiles
 * are), and remembering every path it was asked for. Nothing leaves the machine.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { deflateSync } from 'node:zlib';

export interface TileServer {
  /** `http://127.0.0.1:PORT` */
  origin: string;
  /** The template to configure: `${origin}/{z}/{x}/{y}.png`. */
  template: string;
  /** Paths asked for, in order. */
  requests: string[];
  close(): Promise<void>;
}

const SIZE = 256;

/** Starts the server; `close()` stops it. */
export async function startTileServer(): Promise<TileServer> {
  const requests: string[] = [];
  const cache = new Map<number, Buffer>();
  const server: Server = createServer((req, res) => {
    requests.push(req.url ?? '');
    const m = /^\/(\d{1,2})\/(\d+)\/(\d+)\.png$/.exec(req.url ?? '');
    if (!m || req.method !== 'GET') {
      res.writeHead(404).end();
      return;
    }
    const shade = (Number(m[2]) + Number(m[3])) % 2;
    if (!cache.has(shade)) cache.set(shade, tilePng(shade));
    res.writeHead(200, { 'Content-Type': 'image/png', 'Cache-Control': 'no-store' }).end(cache.get(shade));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    origin,
    template: `${origin}/{z}/{x}/{y}.png`,
    requests,
    close: () => new Promise((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}

/** One tile: two pale greens alternating by tile, a grid line every 64 px, a darker edge. */
export function tilePng(shade: number): Buffer {
  const ground = shade ? [0xe4, 0xee, 0xdc] : [0xee, 0xf3, 0xe6];
  const grid = [0xc9, 0xd6, 0xc0];
  const edge = [0x9f, 0xb3, 0x95];
  const rows: Buffer[] = [];
  for (let y = 0; y < SIZE; y++) {
    const row = Buffer.alloc(1 + SIZE * 3); // filter byte 0, then RGB
    for (let x = 0; x < SIZE; x++) {
      const colour = x === 0 || y === 0 ? edge : x % 64 === 0 || y % 64 === 0 ? grid : ground;
      row.set(colour, 1 + x * 3);
    }
    rows.push(row);
  }
  const header = Buffer.alloc(13);
  header.writeUInt32BE(SIZE, 0);
  header.writeUInt32BE(SIZE, 4);
  header.set([8, 2, 0, 0, 0], 8); // 8 bits, truecolour, deflate, no filter, no interlace
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', header), chunk('IDAT', deflateSync(Buffer.concat(rows))), chunk('IEND', Buffer.alloc(0)),
  ]);
}

function chunk(type: string, data: Buffer): Buffer {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([length, body, crc]);
}

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

function crc32(bytes: Buffer): number {
  let c = 0xffffffff;
  for (const b of bytes) c = CRC_TABLE[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}
