// The second core for one bundle: a worker thread that reads its share of a big CNI log, split by container, while the
// main thread reads the rest of it and then the rest of the archive. Both threads see every byte; the ledgers merge
// exactly (CniLedger.absorb), so the report does not depend on how many threads read it.
//
// Handing whole mid-sized files (mountinfo) to the helper was tried and dropped: collecting, copying and posting each
// file cost the main thread more than parsing it (the mountinfo phase went from 0.8 s to 1.4 s at bench scale 1).
import { existsSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import type { BundleLimits, Entry } from '../bundle/entry.js';
import type { Fact } from '../model/facts.js';
import type { Diagnostic } from '../model/host.js';
import type { LedgerState } from '../model/ledger.js';
import type { CommandContext, Shard } from '../recognise/parser.js';
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
  | { type: 'chunk'; id: number; data: Uint8Array }
  | { type: 'end'; id: number };

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

/** A copy the worker can own: transferring it costs nothing, and the main thread keeps reading its own chunk. */
function owned(b: Buffer): Uint8Array {
  return new Uint8Array(b);
}

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

  /** Reads one shard of a file there; every chunk is passed to `push` (which waits while too much is queued). */
  shard(bundle: string, entry: EntryMeta, parserId: string, command: CommandContext | undefined, limits: BundleLimits, shard: Shard) {
    const id = this.nextId++;
    this.send({ type: 'shard', id, bundle, entry: { path: entry.path, size: entry.size, mtime: entry.mtime }, parserId, command, limits, shard });
    const result = this.result(id);
    result.catch(() => {}); // awaited by end(); a failure meanwhile also stops push()
    return {
      push: async (chunk: Buffer): Promise<void> => {
        while (this.queued >= MAX_QUEUED_BYTES && !this.failure) await new Promise<void>((r) => this.waiting.push(r));
        if (this.failure) throw this.failure;
        const copy = owned(chunk);
        this.queued += copy.length;
        this.send({ type: 'chunk', id, data: copy }, [copy.buffer as ArrayBuffer]);
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
