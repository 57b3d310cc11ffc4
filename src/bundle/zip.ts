import type { Readable } from 'node:stream';
import { promisify } from 'node:util';
import type { Entry as ZipEntry, ZipFile } from 'yauzl';
import { BundleError, type BundleLimits, type Entry, safeEntryPath } from './entry.js';
import type { BundlePosition } from './open.js';

const S_IFMT = 0o170000;
const S_IFLNK = 0o120000;
const MAX_LINK_BYTES = 4096;

/** The zip's next entry, or undefined at its end (yauzl's lazy mode: one entry per readEntry()). */
function nextEntry(zip: ZipFile): Promise<ZipEntry | undefined> {
  return new Promise((resolve, reject) => {
    const done = (e?: ZipEntry) => {
      zip.off('entry', done).off('end', done).off('error', fail);
      resolve(e);
    };
    const fail = (e: Error) => {
      zip.off('entry', done).off('end', done).off('error', fail);
      reject(e);
    };
    zip.on('entry', done).on('end', done).on('error', fail);
    zip.readEntry();
  });
}

/**
 * A .zip bundle (what a ticket system or a Windows hand sends): its entries in the order of its central directory,
 * each file inflated as it is read, never to disk. Names climbing out ('..') are refused; symlinks are read as their
 * target text, never followed; at most `maxBundleBytes` come out in all (a zip bomb stops there). yauzl reads the zip
 * by position, so a file's bytes need no draining.
 */
export async function* zipEntries(file: string, limits: BundleLimits, refused: string[], absolute: string[], position: BundlePosition): AsyncIterable<Entry> {
  const yauzl = await import('yauzl'); // loaded when a zip comes, as the xz reader is
  let zip: ZipFile;
  try {
    // Names are decoded here, not by yauzl, which rejects the whole zip for one absolute or '..' name.
    zip = await promisify<string, import('yauzl').Options, ZipFile>(yauzl.open)(file, { lazyEntries: true, autoClose: false, decodeStrings: false, validateEntrySizes: true });
  } catch (e) {
    throw new BundleError(`${file}: not a readable zip (${(e as Error).message}). A zip is read from its end (its directory), so a cut or partly copied one cannot be read at all: copy it again, or send a .tar.gz.`);
  }
  let inflated = 0;
  let compressedDone = 0;
  position.read = () => compressedDone;
  const open = (entry: ZipEntry) => promisify<ZipEntry, Readable>(zip.openReadStream.bind(zip))(entry);
  async function* chunks(entry: ZipEntry): AsyncIterable<Buffer> {
    let stream: Readable;
    try {
      stream = await open(entry);
    } catch (e) {
      throw Object.assign(new Error((e as Error).message), { code: entry.isEncrypted() ? 'encrypted' : 'corrupt zip entry' });
    }
    try {
      for await (const c of stream as AsyncIterable<Buffer>) {
        inflated += c.length;
        if (inflated > limits.maxBundleBytes) throw new BundleError(`${file}: more than ${limits.maxBundleBytes} bytes once decompressed; raise --max-bundle-bytes if this is expected.`, { limit: true });
        yield c;
      }
    } catch (e) {
      if (e instanceof BundleError) throw e;
      // A size or CRC that does not match, or bad deflate data: this file is lost, the others are not.
      throw Object.assign(new Error((e as Error).message), { code: 'corrupt zip entry' });
    } finally {
      stream.destroy();
      compressedDone += entry.compressedSize;
    }
  }
  try {
    for (let entry = await nextEntry(zip); entry; entry = await nextEntry(zip)) {
      const raw = yauzl.getFileNameLowLevel(entry.generalPurposeBitFlag, entry.fileNameRaw, entry.extraFields, false);
      const path = safeEntryPath(raw);
      if (!path) {
        if (!/^[./\\]*$/.test(raw)) refused.push(raw);
        continue;
      }
      if (/^[/\\]/.test(raw) || /^[a-z]:/i.test(raw)) absolute.push(raw);
      const mtime = entry.getLastModDate({ timezone: 'UTC' }).getTime(); // a DOS time has no zone: read as UTC, the same on every machine
      const mode = entry.externalFileAttributes >>> 16;
      const e = entry;
      if (raw.endsWith('/') || raw.endsWith('\\')) yield { path, kind: 'dir', size: 0, mtime, chunks: async function* () {} };
      else if ((mode & S_IFMT) === S_IFLNK && entry.uncompressedSize <= MAX_LINK_BYTES) {
        let target = '';
        try {
          for await (const c of chunks(e)) target += c.toString('utf8');
        } catch (err) {
          if (err instanceof BundleError) throw err;
          target = ''; // a link whose bytes do not inflate: kept, with no target, like an unreadable link in a folder
        }
        yield { path, kind: 'symlink', size: 0, mtime, linkTarget: target, chunks: async function* () {} };
      } else yield { path, kind: 'file', size: entry.uncompressedSize, mtime, chunks: () => chunks(e) };
    }
  } catch (e) {
    if (e instanceof BundleError) throw e;
    throw new BundleError(`${file}: corrupt zip (${(e as Error).message}); entries read so far are kept.`);
  } finally {
    zip.close();
  }
}
