import { BundleError, type BundleLimits, DEFAULT_LIMITS, type Entry } from '../bundle/entry.js';
import { LineSplitter } from '../bundle/lines.js';
import { ARCHIVE_NAME, archiveKind, type BundlePosition, openBundle, unreadCompression } from '../bundle/open.js';
import { gunzipChunks, gunzippedName, isGzip } from '../bundle/gunzip.js';
import { bomOf, dropUtf8Bom, utf16ToUtf8 } from '../bundle/text-encoding.js';
import type { Evidence, Fact } from '../model/facts.js';
import { lstat, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { buildHost, type ClockOptions, type HostInput } from '../model/build.js';
import { CniLedger } from '../model/ledger.js';
import type { Diagnostic, HostModel } from '../model/host.js';
import { commandContext } from '../recognise/command.js';
import { jsonObj, jsonStr } from '../recognise/json.js';
import { recogniseBlock, recogniseEntry } from '../recognise/index.js';
import { type CommandContext, fanOut, type LineSink, type ParseContext, type Parser } from '../recognise/parser.js';
import { parsers } from '../../parsers/index.js';
import { rules as allRules } from '../../rules/index.js';
import { type Finding, type Rule, SEVERITY_RANK } from './rule.js';
import { splitHosts, type EntryFacts } from './hosts.js';
import { builtWorker, type HelperResult, HelperSlot, READER_LIMITS, ShardRouter } from './helper.js';
import { flat, pushAll } from '../util.js';
import { collectGarbage } from './heap.js';

export interface AnalyseOptions extends ClockOptions {
  /** Threads (default: the cores): one per big bundle when there are several; one big bundle gets a helper for its
   * big CNI logs. Small bundles are read on the main thread. 1 reads everything on the main thread. */
  jobs?: number;
  limits?: Partial<BundleLimits>;
  /** Every CNI log line as a timeline event (the timeline export), beside the reduced ledger that reports read. */
  keepAllEvents?: boolean;
  rules?: readonly Rule[];
  /** Bytes read (uncompressed) and from which file; for an archive, also how far into it on disk. */
  onProgress?: Progress;
}

/** A progress report: bytes just read (uncompressed), the file they came from, and an archive's place on disk. */
export type Progress = (bytes: number, path: string, position?: BundlePosition) => void;

export interface Skip {
  rule: string;
  host: string;
  reason: string;
  collect: string;
}

export interface Analysis {
  hosts: HostModel[];
  findings: Finding[];
  diagnostics: Diagnostic[];
  skipped: Skip[];
}

const HEAD_BYTES = 4096;
const INNER_ARCHIVE = 'an archive inside the bundle';

export interface BundleResult {
  hosts: HostInput[];
  diagnostics: Diagnostic[];
  usable: boolean;
}

/** Reads one bundle into per-host facts; its own diagnostics, in order. Runs on the main thread or in a worker. */
export async function readBundle(path: string, limits: BundleLimits, deadline: number, keepAllEvents: boolean, onProgress?: Progress, secondThread = false): Promise<BundleResult> {
  const diagnostics: Diagnostic[] = [];
  let bundle;
  try {
    bundle = await openBundle(path, limits);
  } catch (e) {
    // The message names the path already; the diagnostic's source does, once.
    if (e instanceof BundleError) return { hosts: [], diagnostics: [{ level: 'error', source: path, message: e.message.startsWith(`${path}: `) ? e.message.slice(path.length + 2) : e.message }], usable: false };
    throw e;
  }
  const position = bundle.position;
  const progress: Progress | undefined = onProgress && position ? (n, source) => onProgress(n, source, position) : onProgress;
  const read: (EntryFacts | Later)[] = [];
  const sosManifest = new Map<string, string>(); // a sosreport's sos_commands/… file → the command line that made it
  const url = secondThread ? builtWorker('parse-worker.js') : undefined;
  // An archive of a few MiB can hold a 16 MiB log (logs compress ~10×); a smaller one, or a folder, starts it on demand.
  const helper = url ? new HelperSlot(url, bundle.kind !== 'dir' && (await stat(path)).size >= HEAVY_ARCHIVE_BYTES) : undefined;
  // The largest files read (of a megabyte or more), for a bundle too big for a limit: what to drop or cut.
  const largest: { path: string; size: number }[] = [];
  let stopped = false; // by a limit: what was not read is not said to be no evidence
  const dropHint = () =>
    largest.length
      ? ` The largest files it reached: ${largest.map((f) => `${f.path} (${(f.size / 1e6).toFixed(f.size < 1e7 ? 1 : 0)} MB)`).join(', ')}; leave them out of the bundle, or keep only their last lines (tail -c 200M), to read the rest.`
      : '';
  try {
    for await (const entry of bundle.entries) {
      if (read.length >= limits.maxEntries) {
        diagnostics.push({ level: 'error', source: path, message: `more than ${limits.maxEntries} entries; the rest were not read. Raise --max-entries if this is expected.` });
        break;
      }
      checkMemory(limits, `${bundle.name}/${entry.path}`);
      if (Date.now() > deadline) {
        stopped = true;
        diagnostics.push({ level: 'error', source: path, message: `time limit of ${Math.round(limits.timeLimitMs / 1000)} s reached; the rest of this bundle was not read. Raise --time-limit, or drop large logs from the bundle.${dropHint()}` });
        break;
      }
      if (entry.kind === 'file' && entry.size >= 1e6 && (largest.length < 3 || entry.size > largest[2].size)) {
        largest.push({ path: entry.path, size: entry.size });
        largest.sort((a, b) => b.size - a.size || a.path.localeCompare(b.path));
        largest.length = Math.min(largest.length, 3);
      }
      try {
        read.push(await readEntryWith(bundle.name, entry, limits, diagnostics, progress, keepAllEvents, sosManifest, helper));
      } catch (e) {
        // An unreadable file (EACCES, EIO) costs one warning; anything else is a broken archive or a bug.
        const code = (e as NodeJS.ErrnoException).code;
        if (e instanceof BundleError || typeof code !== 'string' || code.startsWith('ERR_')) throw e;
        diagnostics.push({ level: 'warning', source: `${bundle.name}/${entry.path}`, message: `cannot read (${code}); skipped` });
      }
    }
  } catch (e) {
    if (!(e instanceof BundleError)) {
      await helper?.close();
      throw e;
    }
    // The message names the path already; the diagnostic's source does, once.
    const message = e.message.startsWith(`${path}: `) ? e.message.slice(path.length + 2) : e.message;
    diagnostics.push({ level: 'error', source: path, message: `${message}${e.limit ? dropHint() : ''}` });
    stopped ||= e.limit;
  }
  // Entries read by the helper are put back in their place: the facts' order does not depend on who read what.
  const entries = await Promise.all(read.map((r) => ('later' in r ? r.later : r))).finally(() => helper?.close());
  for (const r of bundle.refused) diagnostics.push({ level: 'warning', source: `${bundle.name}/${r}`, message: 'entry path climbs out of the bundle (..); ignored' });
  for (const r of bundle.absolute) diagnostics.push({ level: 'info', source: `${bundle.name}/${r}`, message: 'absolute entry path; read as relative to the bundle' });
  if (entries.some((e) => e.facts.length)) return { hosts: splitHosts(bundle.name, entries), diagnostics, usable: true };
  if (bundle.kind === 'file') {
    // A loose file caught by a glob (a README next to the bundles) is not a host: one note, not two.
    const own = `${bundle.name}/`;
    return { hosts: [], diagnostics: [...diagnostics.filter((d) => !(d.level === 'info' && d.source.startsWith(own))), { level: 'info', source: path, message: 'not evidence; skipped' }], usable: false };
  }
  const inner = diagnostics.filter((d) => d.message.startsWith(INNER_ARCHIVE)).map((d) => d.source.slice(bundle.name.length + 1));
  if (inner.length)
    diagnostics.push({ level: 'error', source: path, message: `no evidence recognised in this bundle, which holds archives (${inner.slice(0, 3).join(', ')}${inner.length > 3 ? `, and ${inner.length - 3} more` : ''}): archives inside a bundle are not opened. Extract it and pass them: forensics report <folder>/*` });
  else if (!stopped) diagnostics.push({ level: 'error', source: path, message: 'no evidence recognised in this bundle. `forensics formats` lists what is read; run `forensics collect` on the host to gather it.' });
  return { hosts: [], diagnostics, usable: false };
}

function readInWorker(url: URL, path: string, limits: BundleLimits, deadline: number, keepAllEvents: boolean): Promise<BundleResult> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(url, { workerData: { path, limits, deadline, keepAllEvents }, resourceLimits: READER_LIMITS });
    worker.once('message', (m: { ok: true; result: BundleResult } | { ok: false; message: string; bundleError: boolean }) => {
      void worker.terminate();
      if (m.ok) resolve(m.result);
      else reject(m.bundleError ? new BundleError(m.message) : new Error(m.message));
    });
    worker.once('error', reject);
  });
}

/**
 * A second thread costs about 0.2 s to start (it loads every module): an archive from this size on, or a folder from
 * HEAVY_FOLDER_BYTES on, takes longer than that to read. Smaller bundles are read on the main thread, in turn.
 */
const HEAVY_ARCHIVE_BYTES = 2 * 1024 * 1024;
const HEAVY_FOLDER_BYTES = 16 * 1024 * 1024;

/** Whether a bundle is worth a thread: its file size, or for a folder the sizes of its files, counted until enough. */
async function heavy(path: string): Promise<boolean> {
  const st = await stat(path).catch(() => undefined);
  if (!st) return false; // the reader says what is wrong with it
  if (!st.isDirectory()) return st.size >= HEAVY_ARCHIVE_BYTES;
  let total = 0;
  const folders = [path];
  while (folders.length) {
    const folder = folders.pop()!;
    for (const e of await readdir(folder, { withFileTypes: true }).catch(() => [])) {
      const p = join(folder, e.name);
      if (e.isDirectory()) folders.push(p);
      else if (e.isFile()) total += (await lstat(p).catch(() => undefined))?.size ?? 0;
      if (total >= HEAVY_FOLDER_BYTES) return true;
    }
  }
  return false;
}

/**
 * Stops a bundle's reading when the process holds more memory than --max-memory (resident, all threads): a node too
 * big for the machine gets a report of what was read and the files to leave out, rather than a crash out of memory.
 */
function checkMemory(limits: BundleLimits, where: string): void {
  if (limits.maxMemoryBytes < Infinity && process.memoryUsage.rss() > limits.maxMemoryBytes)
    throw new BundleError(`memory use passed --max-memory (${Math.round(limits.maxMemoryBytes / 2 ** 20)} MiB) at ${where}; the rest of this bundle was not read. Raise --max-memory if the machine has room.`, { limit: true });
}

/** Reads every bundle, builds one model per host and runs the rules. Throws BundleError only when no bundle is usable. */
export async function analyse(bundlePaths: string[], opts: AnalyseOptions = {}): Promise<Analysis> {
  const { hosts, diagnostics } = await readHosts(bundlePaths, opts);
  collectGarbage(); // the parsed facts just died: the heap is sized from the model from here on (see there)
  uniqueNames(hosts);
  for (const h of hosts) for (const e of h.events) e.host = h.name; // events were stamped before the host had its final name
  for (const h of hosts)
    if (h.clock.zoneSource === 'assumed UTC')
      diagnostics.push({ level: 'info', source: h.name, message: 'no time zone in the bundle (etc/timezone or date -R): local times are read as UTC. Pass --timezone to correct.' });

  const findings: Finding[] = [];
  const skipped: Skip[] = [];
  const rules = opts.rules ?? allRules;
  const run = { hosts };
  for (const rule of rules) {
    const ready: HostModel[] = [];
    for (const h of hosts) {
      const missing = rule.needs.find((n) => !n.anyOf.some((k) => h.has.has(k)));
      if (missing) skipped.push({ rule: rule.id, host: h.name, reason: `no ${missing.what} in the bundle`, collect: missing.collect });
      else ready.push(h);
    }
    if (!ready.length) continue;
    try {
      // Titles and details are built from many pieces, which V8 keeps as a tree of them: flat, each is one copy (a busy
      // node has a finding per IP).
      for (const f of rule.evaluate(run, ready)) {
        f.title = flat(f.title);
        f.detail = flat(f.detail);
        findings.push(f);
      }
    } catch (e) {
      diagnostics.push({ level: 'error', source: `rule ${rule.id}`, message: `rule failed: ${(e as Error).stack ?? e}. This is a bug; the other rules still ran.` });
    }
  }
  findings.sort(compareFindings);
  diagnostics.sort((a, b) => SEVERITY_RANK[b.level] - SEVERITY_RANK[a.level] || a.source.localeCompare(b.source) || a.message.localeCompare(b.message));
  return { hosts, findings, diagnostics, skipped };
}

/**
 * Reads every bundle and builds one model per host. Its own function, so the parsed facts die when it returns: held in
 * the caller's frame, they stayed alive through the rules and the report (60 MB on a busy node).
 */
async function readHosts(bundlePaths: string[], opts: AnalyseOptions): Promise<{ hosts: HostModel[]; diagnostics: Diagnostic[] }> {
  const limits = { ...DEFAULT_LIMITS, ...opts.limits };
  const deadline = Date.now() + limits.timeLimitMs;
  const keepAll = opts.keepAllEvents ?? false;
  // Several big bundles: the first is read here, the others in worker threads, so several hosts use the second core.
  // Small ones (a loose README, a folder of command outputs) are read here in turn: a thread would cost more than them.
  // One big bundle, alone or among small ones, gets a helper thread for its big CNI logs instead.
  const threads = (opts.jobs ?? availableParallelism()) > 1;
  const big = threads && bundlePaths.length > 1 ? await Promise.all(bundlePaths.map(heavy)) : bundlePaths.map(() => threads);
  const bigCount = big.filter(Boolean).length;
  const first = big.indexOf(true);
  const url = bigCount > 1 ? builtWorker('bundle-worker.js') : undefined;
  const results: (Promise<BundleResult> | undefined)[] = [];
  let running = 0;
  const slots = Math.max(1, (opts.jobs ?? availableParallelism()) - 1);
  const queue: (() => void)[] = [];
  const inWorker = async (path: string) => {
    if (running >= slots) await new Promise<void>((r) => queue.push(r));
    running++;
    try {
      return await readInWorker(url!, path, limits, deadline, keepAll);
    } finally {
      running--;
      queue.shift()?.();
    }
  };
  for (const [i, path] of bundlePaths.entries()) results.push(url && big[i] && i !== first ? inWorker(path) : undefined);
  const diagnostics: Diagnostic[] = [];
  const hostInputs: HostInput[] = [];
  let usable = 0;
  for (const [i, path] of bundlePaths.entries()) {
    const r = results[i] ? await results[i]! : await readBundle(path, limits, deadline, keepAll, opts.onProgress, threads && bigCount <= 1 && (bundlePaths.length === 1 || i === first));
    pushAll(diagnostics, r.diagnostics);
    pushAll(hostInputs, r.hosts);
    if (r.usable) usable++;
  }
  if (!usable)
    throw new BundleError(
      diagnostics.filter((d) => d.level !== 'warning').map((d) => (d.message.startsWith(d.source) ? d.message : `${d.source}: ${d.message}`)).join('\n') ||
        'no evidence in the given bundles. `forensics formats` lists what is read; run `forensics collect` on the host to gather it.',
    );

  return { hosts: hostInputs.map((h) => buildHost(h, opts, diagnostics)), diagnostics };
}

export function compareFindings(a: Finding, b: Finding): number {
  return SEVERITY_RANK[b.severity] - SEVERITY_RANK[a.severity] || a.rule.localeCompare(b.rule) || a.host.localeCompare(b.host) || a.title.localeCompare(b.title, 'en', { numeric: true });
}

function uniqueNames(hosts: HostModel[]): void {
  const seen = new Map<string, number>();
  for (const h of hosts) {
    const n = (seen.get(h.name) ?? 0) + 1;
    seen.set(h.name, n);
    if (n > 1) h.name = `${h.name} (${h.sources.join(', ')})`;
  }
}

/** Warnings of one file, by message: the first lines are listed, the rest counted. */
export type WarningTally = Map<string, { lines: number[]; total: number }>;

/** Lines listed per warning message and file: a hostile file with a bad line on every line costs a few warnings, not the report. */
const WARNING_LINES_LISTED = 3;

/** What reading one entry needs: its output, its CNI ledger, and parser contexts bound to it (the main thread and the helper share this). */
export function entryParsing(bundle: string, entry: Pick<Entry, 'path' | 'mtime' | 'shownPath'>, limits: BundleLimits, diagnostics: Diagnostic[], keepAllEvents: boolean) {
  const out: EntryFacts = { path: entry.path, mtime: entry.mtime, facts: [], parsers: new Set() };
  const ledger = new CniLedger(keepAllEvents);
  const warnings: WarningTally = new Map();
  const warn = (line: number, message: string) => {
    let w = warnings.get(message);
    if (!w) warnings.set(message, (w = { lines: [], total: 0 }));
    w.total++;
    if (w.lines.length < WARNING_LINES_LISTED) w.lines.push(line);
  };
  /** Another thread's warnings for the other lines of this file: listed are the first lines of both. */
  const absorbWarnings = (other: WarningTally) => {
    for (const [message, o] of other) {
      const w = warnings.get(message) ?? { lines: [], total: 0 };
      warnings.set(message, { lines: [...w.lines, ...o.lines].sort((a, b) => a - b).slice(0, WARNING_LINES_LISTED), total: w.total + o.total });
    }
  };
  const kept = () => {
    for (const f of ledger.facts()) out.facts.push(f);
    pushAll(out.facts, ledger.timeline());
    pushAll(out.facts, ledger.released(source));
    ledger.release();
    for (const [message, w] of warnings) {
      for (const line of w.lines) diagnostics.push({ level: 'warning', source: `${source}:${line}`, message });
      if (w.total > w.lines.length) diagnostics.push({ level: 'warning', source, message: `${message} (on ${w.total - w.lines.length} more lines of this file besides the ${w.lines.length} listed)` });
    }
    warnings.clear();
    return out;
  };
  const source = `${bundle}/${entry.shownPath ?? entry.path}`;
  const fileState = new Map<string, unknown>();
  const ctxFor = (path: string, command: CommandContext | undefined): ParseContext => ({
    source,
    path,
    command,
    fileState,
    emit: (f: Fact) => (f.kind === 'cniOp' ? ledger.push(f) : out.facts.push(f)),
    warn,
    evidence: (line: number, text: string): Evidence => ({ source, line, text: text.length > 1000 ? `${text.slice(0, 1000)}…` : text }),
    maxDocumentBytes: limits.maxDocumentBytes,
    dispatch(cmd, head, firstLine) {
      const p = recogniseBlock(cmd, head);
      if (p && cmd.netns?.kind === 'container' && !p.locatesNetns) {
        diagnostics.push({ level: 'info', source: `${source}:${firstLine}`, message: `\`${cmd.command}\` ran inside container ${cmd.netns.ref}: only network views (ip addr) are read from inside a container; its ${p.id} output describes the container, not the host, and is not read` });
        return undefined;
      }
      if (p) out.parsers.add(p.id);
      return p ? openParser(p, ctxFor(cmd.pathHint ?? path, cmd)) : undefined;
    },
  });
  // A log file is read by every parser of the log family; the others are recorded once they find something.
  const openParser = (p: Parser, ctx: ParseContext): LineSink => {
    if (readAlone(p, ctx.path)) {
      if (p.shardOfLine) {
        // The parser keeps no state across lines: the ledger keeps lines, not facts, and reads the few it keeps again at the end.
        let got = undefined as Fact | undefined;
        const again = p.open({ ...ctx, shard: undefined, emit: (f) => (got = f), warn: () => {} });
        ledger.keepLinesOnly((ev) => {
          got = undefined;
          again.line(ev.text, ev.line);
          const f = got as Fact | undefined; // assigned by emit, which TypeScript does not follow
          return f?.kind === 'cniOp' ? f : undefined;
        });
      }
      return guarded(p, ctx, diagnostics);
    }
    return fanOut(
      parsers
        .filter((q) => q.family === p.family)
        .map((q) => guarded(q, q === p ? ctx : { ...ctx, emit: (f: Fact) => (out.parsers.add(q.id), ctx.emit(f)) }, diagnostics)),
    );
  };
  const splitter = (sink: LineSink) => new LineSplitter(sink, limits.maxLineBytes, (line) => warn(line, `line longer than ${limits.maxLineBytes} bytes; cut`));
  return { out, ledger, kept, source, ctxFor, openParser, splitter, warnings, absorbWarnings };
}

/** True when no other parser reads the file: not a log, or a program's own log file (cni.log), which holds only its lines. */
function readAlone(p: Parser, path: string): boolean {
  return !p.family || (!!p.recognise.ownLogFile && !!p.recognise.path?.test(path));
}

/** An entry handed to the helper thread: its facts arrive later, so the main thread reads on. */
export interface Later {
  later: Promise<EntryFacts>;
}

/** Files this size and larger, read alone by a parser that can shard them (shardOfLine), are read by both threads, split by container. */
const SHARD_MIN_BYTES = 16 * 1024 * 1024;
/**
 * Of SHARDS shards of the containers, the main thread reads MAIN_SHARDS, the helper the others. The main thread also
 * inflates and untars the archive, splits every line and hands the helper its own: at 1:1 the helper idled a fifth of
 * the CNI log's time (0.68 s of 3.0 in a profile of the bench's scale-1 log); at 2:3 both are busy. 2:3 against 1:1,
 * twelve alternating runs of that log: 0.943 of the time (paired median); 3:4 and 4:5 were no better.
 */
const SHARDS = 5;
const MAIN_SHARDS = 2;

export async function readEntry(bundle: string, entry: Entry, limits: BundleLimits, diagnostics: Diagnostic[], onProgress?: Progress, keepAllEvents = false, sosManifest?: Map<string, string>): Promise<EntryFacts> {
  return (await readEntryWith(bundle, entry, limits, diagnostics, onProgress, keepAllEvents, sosManifest)) as EntryFacts;
}

/** Reads one entry; with a helper thread, a big CNI log is split with it. */
async function readEntryWith(bundle: string, entry: Entry, limits: BundleLimits, diagnostics: Diagnostic[], onProgress?: Progress, keepAllEvents = false, sosManifest?: Map<string, string>, helper?: HelperSlot): Promise<EntryFacts | Later> {
  const { out, ledger, kept, source, ctxFor, openParser, splitter: newSplitter, absorbWarnings } = entryParsing(bundle, entry, limits, diagnostics, keepAllEvents);
  if (entry.kind === 'dir') return out;
  if (entry.kind === 'other') {
    diagnostics.push({ level: 'info', source, message: 'not a regular file or symlink (device, fifo or hard link); skipped' });
    return out;
  }
  if (entry.kind === 'symlink') {
    // A symlink is evidence (its target text, e.g. net:[4026532177]); it is never followed.
    const target = entry.linkTarget ?? '';
    const parser = recogniseEntry(entry.path, target);
    if (!parser) return out;
    out.parsers.add(parser.id);
    const sink = guarded(parser, { ...ctxFor(entry.path, undefined), evidence: (_l, text) => ({ source, line: 0, text }) }, diagnostics);
    sink.line(target, 1);
    sink.end();
    return kept();
  }
  const it = entry.chunks()[Symbol.asyncIterator]();
  const head: Buffer[] = [];
  let headBytes = 0;
  let done = false;
  while (headBytes < HEAD_BYTES) {
    const r = await it.next();
    if (r.done) {
      done = true;
      break;
    }
    head.push(r.value);
    headBytes += r.value.length;
  }
  // The entry's bytes from the start; the progress line counts what parsers read, not what a decoder (below) reads.
  const rest = async function* (count = true) {
    yield* head;
    if (!done)
      for (let r = await it.next(); !r.done; r = await it.next()) {
        if (count) onProgress?.(r.value.length, source);
        checkMemory(limits, source);
        yield r.value;
      }
  };
  if (isGzip(head) && entry.shownPath === undefined) {
    // A compressed file (a rotated cni.log.1.gz) is read as what it holds, under its name without ".gz"; one layer deep.
    const raw = rest(false);
    const note = (message: string) => diagnostics.push({ level: 'warning', source, message });
    const inner: Entry = { ...entry, path: gunzippedName(entry.path), shownPath: entry.path, chunks: () => gunzipChunks(raw, limits.maxBundleBytes, note) };
    return readEntryWith(bundle, inner, limits, diagnostics, onProgress, keepAllEvents, sosManifest); // not shared with the helper: it would inflate it too
  }
  const bom = bomOf(head);
  if (bom === 'utf8') headBytes -= dropUtf8Bom(head);
  else if (bom) {
    // UTF-16 (PowerShell 5's `>`), read again as UTF-8; what comes out carries no UTF-16 mark, so this happens once.
    const raw = rest(false);
    const inner: Entry = { ...entry, shownPath: entry.shownPath ?? entry.path, chunks: () => utf16ToUtf8(raw, bom) };
    return readEntryWith(bundle, inner, limits, diagnostics, onProgress, keepAllEvents, sosManifest);
  }
  // Only the head is joined: a whole first chunk (up to 1 MiB of a tar stream) was copied per file, 270 MB for 600 mount tables.
  // Line ends as the splitter gives them: a file saved on Windows (CRLF) is recognised as the same file with LF.
  const headText = Buffer.concat(head, Math.min(headBytes, HEAD_BYTES)).toString('utf8').replace(/\r\n/g, '\n');
  // sosreport: sos_commands/<plugin>/<command with spaces as "_">; a ".tailed" file keeps only the end of the output.
  if (sosManifest && /(?:^|\/)sos_reports\/manifest\.json$/.test(entry.path) && entry.size <= limits.maxDocumentBytes) {
    const chunks: Buffer[] = [...head];
    if (!done) for (let r = await it.next(); !r.done; r = await it.next()) chunks.push(r.value);
    readSosManifest(Buffer.concat(chunks).toString('utf8'), sosManifest, (m) => diagnostics.push({ level: 'warning', source, message: m }));
    return out;
  }
  const sos = sosCommand(entry.path, sosManifest);
  if (sos?.tailed) diagnostics.push({ level: 'info', source, message: 'sosreport kept only the tail of this output (.tailed): earlier lines are missing' });
  const parser = sos ? recogniseBlock(sos.context, headText) : recogniseEntry(entry.path, headText);
  if (!parser) {
    // An archive inside a bundle (a zip of node archives) is not opened: one level of archive is read, as one bundle.
    const magic = Buffer.concat(head, Math.min(headBytes, 512));
    const archive = ARCHIVE_NAME.test(entry.shownPath ?? entry.path) || archiveKind(magic) !== undefined;
    // A rotated log compressed by another logrotate compresscmd (cni.log.1.zst, messages-20240101.bz2) may be the evidence.
    const packed = archive ? undefined : unreadCompression(magic);
    if (archive) diagnostics.push({ level: 'warning', source, message: `${INNER_ARCHIVE}; not opened. Extract it and pass it as a bundle of its own (one per host).` });
    else if (packed) diagnostics.push({ level: 'warning', source, message: `compressed with ${packed.name}, which is not read (gzip is); decompress it (${packed.undo}) and pass the bundle again` });
    else if (headBytes > 0) diagnostics.push({ level: 'info', source, message: 'not recognised as any evidence format; skipped (`forensics formats` lists what is read)' });
    if (entry.shownPath !== undefined) await it.return?.(); // a compressed file: its bytes are drained, not inflated
    else if (!done) for (let r = await it.next(); !r.done; r = await it.next()); // drain
    return out;
  }
  out.parsers.add(parser.id);
  const shardOfLine = parser.shardOfLine;
  if (helper && !keepAllEvents && shardOfLine && readAlone(parser, entry.path) && entry.size >= SHARD_MIN_BYTES) {
    // The main thread splits the lines, reads those of its containers and hands the helper the others; each parses
    // its own, and the ledgers merge exactly.
    const [mine, theirs] = [{ count: SHARDS, from: 0, to: MAIN_SHARDS }, { count: SHARDS, from: MAIN_SHARDS, to: SHARDS }];
    const part = helper.acquire().shard(bundle, entry, parser.id, sos?.context, limits, theirs);
    const router = new ShardRouter(openParser(parser, { ...ctxFor(entry.path, sos?.context), shard: mine }), (buf, from, to) => shardOfLine(buf, from, to, SHARDS), mine);
    const splitter = newSplitter(router);
    for await (const c of rest()) {
      router.reading(c);
      splitter.push(c);
      await part.push(router.take());
    }
    splitter.end(); // its last line may be the helper's
    await part.push(router.take());
    return {
      later: part.end().then((r: HelperResult) => {
        helper.release();
        ledger.absorb(r.ledger);
        pushAll(out.facts, r.facts);
        for (const p of r.parsers) out.parsers.add(p);
        absorbWarnings(r.warnings);
        // A line whose shard its bytes do not tell is read by both threads: a parser failing there is said once.
        const said = new Set(diagnostics.map((d) => `${d.level}\0${d.source}\0${d.message}`));
        pushAll(diagnostics, r.diagnostics.filter((d) => !said.has(`${d.level}\0${d.source}\0${d.message}`)));
        return kept();
      }),
    };
  }
  const splitter = newSplitter(openParser(parser, ctxFor(entry.path, sos?.context)));
  for await (const c of rest()) splitter.push(c);
  splitter.end();
  return kept();
}

/**
 * The command a sosreport file holds the output of: from sos_reports/manifest.json when it was read first, else from
 * the file's name (sos writes spaces as "_" and "/" as "."). Output cut to its tail lives in sos_strings/…/X.tailed.
 */
export function sosCommand(path: string, manifest?: Map<string, string>): { context: CommandContext; tailed: boolean } | undefined {
  const m = /(?:^|\/)(sos_(?:commands|strings)\/[^/]+\/([^/]+))$/.exec(path);
  if (!m) return undefined;
  const tailed = m[2].endsWith('.tailed');
  const exec = manifest?.get(m[1]) ?? manifest?.get(m[1].replace(/^sos_strings\//, 'sos_commands/').replace(/\.tailed$/, ''));
  if (exec) return { context: commandContext(exec), tailed };
  if (m[1].startsWith('sos_strings/') && !tailed) return undefined; // other sos_strings files are strings, not command output
  const name = tailed ? m[2].slice(0, -'.tailed'.length) : m[2];
  return { context: commandContext(name.replace(/_/g, ' ').replace(/ \.(?=[\w-])/g, ' /').replace(/(\w)\.(?=[\w-]+\.)/g, '$1/')), tailed };
}

/** sos ≥ 4: {"components": {"report": {"plugins": {"<plugin>": {"commands": [{"exec": "ip -d address", "filepath": "sos_commands/…"}]}}}}}. */
export function readSosManifest(text: string, into: Map<string, string>, warn: (message: string) => void): void {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    return warn(`sosreport manifest is not JSON (${(e as Error).message}); command names are taken from file names`);
  }
  const plugins = jsonObj(jsonObj(jsonObj(jsonObj(doc)?.components)?.report)?.plugins) ?? {};
  for (const plugin of Object.values(plugins)) {
    const commands = jsonObj(plugin)?.commands;
    for (const c of Array.isArray(commands) ? commands : []) {
      const exec = jsonStr(jsonObj(c)?.exec);
      const file = jsonStr(jsonObj(c)?.filepath);
      if (exec && file) into.set(file.replace(/^\/+/, ''), exec);
    }
  }
}

/** Wraps a parser's sink so that an exception costs one warning naming the file and line, not the report. */
export function guarded(parser: Parser, ctx: ParseContext, diagnostics: Diagnostic[]): LineSink {
  let sink: LineSink | undefined;
  let failed = false;
  const fail = (no: number, e: unknown) => {
    failed = true;
    diagnostics.push({ level: 'warning', source: `${ctx.source}:${no}`, message: `${parser.id} parser failed here (${(e as Error).message}); the rest of this file is skipped` });
  };
  try {
    sink = parser.open(ctx);
  } catch (e) {
    fail(1, e);
  }
  let last = 0;
  const accepts = sink?.accepts?.bind(sink);
  const horizon = sink?.horizon?.bind(sink);
  return {
    horizon: horizon
      ? (buf, from) => {
          if (failed) return Infinity;
          try {
            return horizon(buf, from);
          } catch {
            return 0; // unknown: every line is asked
          }
        }
      : undefined,
    accepts: accepts
      ? (buf, from, to) => {
          if (failed) return false;
          try {
            return accepts(buf, from, to);
          } catch {
            return true; // let line() meet the problem and report it
          }
        }
      : undefined,
    line(text, no) {
      if (failed || !sink) return;
      last = no;
      try {
        sink.line(text, no);
      } catch (e) {
        fail(no, e);
      }
    },
    end() {
      if (failed || !sink) return;
      try {
        sink.end();
      } catch (e) {
        fail(last, e);
      }
    },
  };
}

/** Parses one piece of text as if it were a bundle file at `path` (for tests and tools). */
export async function parseText(path: string, text: string | Buffer): Promise<{ facts: Fact[]; parsers: string[]; diagnostics: Diagnostic[] }> {
  const diagnostics: Diagnostic[] = [];
  const data = typeof text === 'string' ? Buffer.from(text) : text;
  const entry: Entry = { path, kind: 'file', size: data.length, chunks: async function* () { yield data; } };
  const out = await readEntry('test', entry, DEFAULT_LIMITS, diagnostics);
  return { facts: out.facts, parsers: [...out.parsers], diagnostics };
}
