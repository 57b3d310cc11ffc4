// The second core for one bundle: a worker thread that reads its share of a big CNI log, split by container, while the
// main thread reads the rest of it and then the rest of the archive. The main thread splits the lines and hands the
// helper its own (ShardRouter); the ledgers merge exactly (CniLedger.absorb), so the report does not depend on how many
// threads read it.
//
// Handing whole mid-sized files (mountinfo) to the helper was tried and dropped: collecting, copying and posting each
// file cost the main thread more than parsing it (the mountinfo phase went from 0.8 s to 1.4 s at bench scale 1).
import { existsSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import type { BundleLimits, Entry } from '../bundle/entry.js';
import type { Fact } from '../model/facts.js';
import type { Diagnostic } from '../model/host.js';
import type { LedgerState } from '../model/ledger.js';
import { type CommandContext, inShard, type LineSink, type Shard } from '../recognise/parser.js';
import type { WarningTally } from './analyse.js';

/** What the helper sends back for one entry. */
export interface HelperResult {
  facts: Fact[];
  parsers: string[];
  diagnostics: Diagnostic[];
  warnings: WarningTally;
  ledger: LedgerState;
}

export type HelperRequest =
  | { type: 'shard'; id: number; bundle: string; entry: EntryMeta; parserId: string; command?: CommandContext; limits: BundleLimits; shard: Shard }
  | ({ type: 'lines'; id: number } & Lines)
  | { type: 'end'; id: number };

/**
 * Lines handed to the helper, in file order: per line four numbers in `spans`: where it is (LINE_IN_EXTRA: in
 * `extra`, else in `chunk`; LINE_ASK: its shard was not told by its bytes, so the helper's prefilter decides), its
 * start and end there, and its number.
 */
export interface Lines {
  chunk?: Uint8Array;
  extra?: Uint8Array;
  spans: Float64Array;
}
export const LINE_IN_EXTRA = 1;
export const LINE_ASK = 2;

export type HelperReply = { type: 'ack'; bytes: number } | { type: 'done'; id: number; result: HelperResult } | { type: 'failed'; id: number; message: string };

export type EntryMeta = Pick<Entry, 'path' | 'size' | 'mtime'>;

/**
 * A built worker script of this folder (bundle-worker.js, parse-worker.js); absent when running from TypeScript sources
 * (tests), where one thread reads everything.
 */
export function builtWorker(file: string): URL | undefined {
  const url = new URL(`./${file}`, import.meta.url);
  return import.meta.url.endsWith('.js') && existsSync(url) ? url : undefined;
}

/** Bytes handed over and not yet read past which the main thread waits (bounds the memory of the queue). */
const MAX_QUEUED_BYTES = 16 * 1024 * 1024;

/**
 * The sink the main thread splits a big CNI log into: it reads the lines of its own containers (`mine`) and gathers the
 * others for the helper, which then neither splits the file nor looks at the main thread's lines. Both threads had
 * split every line and read every line's container from its bytes: a fifth of the helper's time (bench scale 1).
 * Lines are gathered per chunk as places in it, and the chunk handed over (see movable); a line that is not in the
 * chunk (one carried over from the last chunk, joined) is copied alone.
 */
export class ShardRouter implements LineSink {
  private chunk: Buffer | undefined;
  private inChunk = false;
  private spans = new Float64Array(4 * 4096);
  private n = 0;
  private extra: Buffer[] = [];
  private extraBytes = 0;

  constructor(
    private readonly mine: LineSink,
    private readonly shardOf: (buf: Buffer, from: number, to: number) => number,
    private readonly shard: Shard,
  ) {}

  /** The chunk the lines that follow are split from. */
  reading(chunk: Buffer): void {
    this.chunk = chunk;
  }

  accepts(buf: Buffer, from: number, to: number, no: number): boolean {
    const s = this.shardOf(buf, from, to);
    if (s >= 0) {
      if (inShard(this.shard, s)) return true; // its own prefilter would say so too
      this.offer(buf, from, to, no, false);
      return false;
    }
    // Its bytes do not tell whose it is: both threads read it, each keeping its own containers, when the prefilter (the
    // same for both: it is the shard that differs) takes it. Lines it refuses stay here: a log of blank or foreign
    // lines had filled a batch with a million of them a megabyte (32 MB of places), each refused again there.
    const wanted = !this.mine.accepts || this.mine.accepts(buf, from, to, no);
    if (wanted) this.offer(buf, from, to, no, true);
    return wanted;
  }

  line(text: string, no: number): void {
    this.mine.line(text, no);
  }

  end(): void {
    this.mine.end();
  }

  /** The lines gathered since the last call, ready to transfer; undefined when there are none. */
  take(): { lines: Lines; transfer: ArrayBuffer[] } | undefined {
    if (!this.n) return undefined;
    const spans = this.spans.slice(0, 4 * this.n);
    const lines: Lines = { spans };
    if (this.inChunk) lines.chunk = movable(this.chunk!);
    if (this.extra.length) lines.extra = new Uint8Array(Buffer.concat(this.extra, this.extraBytes)); // empty lines too (a CRLF blank line split at a chunk's end)
    this.n = 0;
    this.inChunk = false;
    this.extra = [];
    this.extraBytes = 0;
    return { lines, transfer: [spans.buffer, ...(lines.chunk ? [lines.chunk.buffer] : []), ...(lines.extra ? [lines.extra.buffer] : [])] as ArrayBuffer[] };
  }

  private offer(buf: Buffer, from: number, to: number, no: number, ask: boolean): void {
    if (4 * (this.n + 1) > this.spans.length) {
      const more = new Float64Array(this.spans.length * 2);
      more.set(this.spans);
      this.spans = more;
    }
    let flags = ask ? LINE_ASK : 0;
    if (buf === this.chunk) this.inChunk = true;
    else {
      flags |= LINE_IN_EXTRA;
      this.extra.push(Buffer.from(buf.subarray(from, to)));
      to = this.extraBytes + (to - from);
      from = this.extraBytes;
      this.extraBytes = to;
    }
    const k = 4 * this.n++;
    this.spans[k] = flags;
    this.spans[k + 1] = from;
    this.spans[k + 2] = to;
    this.spans[k + 3] = no;
  }
}

/**
 * The chunk's memory for the helper to own: the chunk's own when it is all of it, else a copy. Called once the main
 * thread is done with the chunk (its lines are read and the splitter keeps a copy of the partial last line). A chunk
 * that is all of its memory is one of zlib's full outputs (zlib writes its next output into new memory once one is
 * full) that the tar reader has let go of (it hands out part of a buffer it still holds as a view into it): nothing
 * else refers to that memory, and moving it spares a copy and a megabyte of garbage for each megabyte of the log.
 */
function movable(chunk: Buffer): Uint8Array {
  if (chunk.byteOffset === 0 && chunk.byteLength === chunk.buffer.byteLength && !(chunk.buffer instanceof SharedArrayBuffer)) return new Uint8Array(chunk.buffer);
  return new Uint8Array(chunk);
}

/** Reads lines handed over by a ShardRouter into `sink`, as the helper thread does. */
export function readLines(m: Lines, sink: LineSink): void {
  const chunk = m.chunk && Buffer.from(m.chunk.buffer, m.chunk.byteOffset, m.chunk.length);
  const extra = m.extra && Buffer.from(m.extra.buffer, m.extra.byteOffset, m.extra.length);
  const { spans } = m;
  for (let k = 0; k < spans.length; k += 4) {
    const flags = spans[k];
    const buf = flags & LINE_IN_EXTRA ? extra! : chunk!;
    const from = spans[k + 1];
    const to = spans[k + 2];
    const no = spans[k + 3];
    if (flags & LINE_ASK && sink.accepts && !sink.accepts(buf, from, to, no)) continue;
    sink.line(buf.toString('utf8', from, to), no);
  }
}

/** The bytes a batch of lines holds, for the queue's bound. */
export const linesBytes = (l: Lines) => l.spans.byteLength + (l.chunk?.length ?? 0) + (l.extra?.length ?? 0);

/**
 * A reading thread's young generation, capped: lines die young by the million, and V8 grew it to its default
 * 48 MB as the ledger's holders survived. At 12 MB peak RSS fell by 25-35 MB at bench scale 1 and 4, at no
 * measurable cost in time (three runs each). The main thread's can only be set before it starts (--max-semi-space-size).
 */
export const READER_LIMITS = { maxYoungGenerationSizeMb: 12 };

export class ParseHelper {
  private readonly worker: Worker;
  private nextId = 1;
  private queued = 0;
  private readonly waiting: (() => void)[] = [];
  private readonly pending = new Map<number, { resolve: (r: HelperResult) => void; reject: (e: Error) => void }>();
  private failure: Error | undefined;

  constructor(url: URL) {
    this.worker = new Worker(url, { resourceLimits: READER_LIMITS });
    this.worker.on('message', (m: HelperReply) => {
      if (m.type === 'ack') {
        this.queued -= m.bytes;
        if (this.queued < MAX_QUEUED_BYTES) for (const w of this.waiting.splice(0)) w();
        return;
      }
      const p = this.pending.get(m.id);
      this.pending.delete(m.id);
      if (m.type === 'done') p?.resolve(m.result);
      else p?.reject(new Error(`the helper thread reading part of a big CNI log failed: ${m.message}\nRun again with --jobs 1 to read it with one thread, and report this as a bug.`));
    });
    this.worker.on('error', (e) => this.fail(new Error(`the helper thread reading part of a big CNI log failed (${e.message}). Run again with --jobs 1 to read it with one thread.`)));
    this.worker.on('exit', (code) => this.fail(new Error(`the helper thread reading part of a big CNI log stopped (exit ${code}). Run again with --jobs 1 to read it with one thread.`)));
  }

  /** Reads one shard of a file there; every batch of its lines is passed to `push` (which waits while too much is queued). */
  shard(bundle: string, entry: EntryMeta, parserId: string, command: CommandContext | undefined, limits: BundleLimits, shard: Shard) {
    const id = this.nextId++;
    this.send({ type: 'shard', id, bundle, entry: { path: entry.path, size: entry.size, mtime: entry.mtime }, parserId, command, limits, shard });
    const result = this.result(id);
    result.catch(() => {}); // awaited by end(); a failure meanwhile also stops push()
    return {
      push: async (batch: { lines: Lines; transfer: ArrayBuffer[] } | undefined): Promise<void> => {
        while (this.queued >= MAX_QUEUED_BYTES && !this.failure) await new Promise<void>((r) => this.waiting.push(r));
        if (this.failure) throw this.failure;
        if (!batch) return;
        this.queued += linesBytes(batch.lines);
        this.send({ type: 'lines', id, ...batch.lines }, batch.transfer);
      },
      end: (): Promise<HelperResult> => {
        this.send({ type: 'end', id });
        return result;
      },
    };
  }

  async close(): Promise<void> {
    this.worker.removeAllListeners('exit');
    await this.worker.terminate();
  }

  private send(m: HelperRequest, transfer: ArrayBuffer[] = []): void {
    if (this.failure) throw this.failure;
    this.worker.postMessage(m, transfer);
  }

  private result(id: number): Promise<HelperResult> {
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => this.pending.set(id, { resolve, reject }));
  }

  private fail(e: Error): void {
    this.failure ??= e;
    for (const p of this.pending.values()) p.reject(e);
    this.pending.clear();
    for (const w of this.waiting.splice(0)) w();
  }
}

/**
 * The helper of one bundle: started with a big bundle, so that its start-up overlaps the first files (a small one
 * starts it only if it does hold a big log); stopped as soon as no log is being split, so that its heap (70-90 MB after
 * a big log) is not kept through the rest of the report; started again if another big log comes.
 */
export class HelperSlot {
  private current: ParseHelper | undefined;
  private users = 0;

  constructor(
    private readonly url: URL,
    startNow: boolean,
  ) {
    if (startNow) this.current = new ParseHelper(url);
  }

  acquire(): ParseHelper {
    this.users++;
    return (this.current ??= new ParseHelper(this.url));
  }

  release(): void {
    if (--this.users > 0 || !this.current) return;
    void this.current.close();
    this.current = undefined;
  }

  async close(): Promise<void> {
    await this.current?.close();
    this.current = undefined;
  }
}
