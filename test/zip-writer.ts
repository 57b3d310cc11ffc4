// A minimal zip writer for tests: stored or deflated entries, unix modes (symlinks), and the faults a hostile or
// broken zip carries (data that does not inflate). Written here rather than shelling out to `zip`, which a CI machine may lack.
import { deflateRawSync } from 'node:zlib';

export interface ZipItem {
  name: string;
  data?: string | Buffer;
  /** Unix mode, e.g. 0o120777 for a symlink (its data is the target), 0o40755 for a folder. */
  mode?: number;
  deflate?: boolean;
  /** Deflated data that does not inflate (a reserved block type). */
  corrupt?: boolean;
}

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

function crc32(b: Buffer): number {
  let c = 0xffffffff;
  for (const x of b) c = CRC_TABLE[(c ^ x) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

export function makeZip(items: ZipItem[]): Buffer {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const it of items) {
    const data = typeof it.data === 'string' ? Buffer.from(it.data) : (it.data ?? Buffer.alloc(0));
    const body = it.corrupt ? Buffer.alloc(Math.max(8, data.length >> 1), 0xff) : it.deflate ? deflateRawSync(data) : data;
    const name = Buffer.from(it.name, 'utf8');
    const crc = crc32(data);
    const method = it.deflate || it.corrupt ? 8 : 0;
    // The fields both headers share, from "version needed" on: the local header has them at 4, the central at 6.
    const shared = (b: Buffer, at: number) => {
      b.writeUInt16LE(20, at);
      b.writeUInt16LE(0x800, at + 2); // names in UTF-8
      b.writeUInt16LE(method, at + 4);
      b.writeUInt16LE((13 << 11) | (41 << 5) | 10, at + 6); // 13:41:20
      b.writeUInt16LE(((2021 - 1980) << 9) | (10 << 5) | 19, at + 8); // 2021-10-19
      b.writeUInt32LE(crc, at + 10);
      b.writeUInt32LE(body.length, at + 14);
      b.writeUInt32LE(data.length, at + 18);
      b.writeUInt16LE(name.length, at + 22);
      return b;
    };
    const local = shared(Buffer.alloc(30), 4);
    local.writeUInt32LE(0x04034b50, 0);
    locals.push(local, name, body);
    const central = shared(Buffer.alloc(46), 6);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE((3 << 8) | 20, 4); // made on unix: the external attributes hold a mode
    central.writeUInt32LE(((it.mode ?? (it.name.endsWith('/') ? 0o40755 : 0o100644)) << 16) >>> 0, 38);
    central.writeUInt32LE(offset, 42);
    centrals.push(central, name);
    offset += local.length + name.length + body.length;
  }
  const cd = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(items.length, 8);
  end.writeUInt16LE(items.length, 10);
  end.writeUInt32LE(cd.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, cd, end]);
}
