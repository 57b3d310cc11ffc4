import type { Evidence, Fact, NetnsRef } from '../model/facts.js';

/** What the command line of a transcript block (or a collector manifest) says about its output. */
export interface CommandContext {
  command: string; // the command as typed, prompt removed
  inner: string; // the command after nsenter / ip netns exec prefixes
  netns?: NetnsRef; // the namespace the command ran in, when a prefix says so
  mountPid?: number; // `nsenter -t PID -m …`: the output is seen from PID's mount namespace
  eachNetns?: boolean; // `ip -all netns exec …`: the output says which named namespace each part is from ("netns: NAME")
  pathHint?: string; // e.g. `cat /proc/8581/mountinfo` → "proc/8581/mountinfo"
}

export interface ParseContext {
  /** Display path of the entry: "<bundle>/<path>". */
  source: string;
  /** Path inside the bundle (no bundle prefix), used for path-derived facts such as pids. */
  path: string;
  command?: CommandContext;
  emit(fact: Fact): void;
  warn(line: number, message: string): void;
  evidence(line: number, text: string): Evidence;
  /** Scratch shared by the parsers reading one file (the log family: the year of the latest full date). */
  fileState?: Map<string, unknown>;
  /** When several threads read one big file (a parser with `shardOfLine`): this thread keeps the containers whose
   * shardOf(id, count) is in [from, to), and returns early from the lines of the others. */
  shard?: Shard;
  /** Largest document a whole-text parser may hold. */
  maxDocumentBytes?: number;
  /** For transcripts: a sink for one command's output, chosen by its command line and first lines. */
  dispatch?(command: CommandContext, head: string, firstLine: number): LineSink | undefined;
}

/** Which containers' lines a thread reads: those whose shardOf(id, count) is in [from, to). */
export interface Shard {
  count: number;
  from: number;
  to: number;
}

export const inShard = (s: Shard, k: number) => k >= s.from && k < s.to;

/** Receives an entry's lines in order; `end` is called once after the last line. */
export interface LineSink {
  line(text: string, no: number): void;
  end(): void;
  /**
   * Optional test on the raw bytes of a line, before it is decoded: false skips it (most lines of a big file). `no` is
   * the line's number, for a sink that passes lines on (ShardRouter).
   */
  accepts?(buf: Buffer, from: number, to: number, no?: number): boolean;
  /**
   * Optional, with `accepts`: how far the lines of `buf` from `from` on are surely refused. No line [f, t) with
   * f >= from and t < horizon(buf, from) is accepted (Infinity: none in the rest of buf). Lets a reader that feeds
   * several sinks skip asking this one, line after line, in a chunk where its words do not occur.
   */
  horizon?(buf: Buffer, from: number): number;
}

/**
 * A byte prefilter for several words, for millions of lines: per word, the next place it occurs in the current chunk is
 * remembered, so each word's search runs through a chunk once instead of once per line, and no line is copied.
 * One instance per open file (it follows that file's chunks).
 *
 * Buffer.indexOf runs memchr on a needle's first byte, so a word starting with a common byte ("network", " - nsfs ")
 * stops at nearly every line. Each word is therefore searched from its rarest tail in the file's first chunk (see
 * plan) and its start checked around the hit: in a dockerd log that made the family's 25 absent words 4× cheaper to
 * rule out.
 */
export class Needles {
  private readonly words: Buffer[];
  private readonly next: number[];
  private chunk: Buffer | undefined;
  private nearest = -1; // the smallest of `next` after a miss of every word; -1 when unknown
  private anchors: number[] | undefined; // per word: offset of the byte its search starts from
  private tails: Buffer[] = [];
  private readonly column: number[]; // per word: where in its line it was last found (-1: not yet)

  constructor(words: readonly string[]) {
    this.words = words.map((w) => Buffer.from(w));
    this.next = this.words.map(() => -1);
    this.column = this.words.map(() => -1);
  }

  /** True when any word occurs in buf[from, to). */
  any(buf: Buffer, from: number, to: number): boolean {
    // Where the next word of any kind starts, once every word has been looked for: lines before it need no call per word.
    if (buf === this.chunk && this.nearest >= to && this.nearest >= from) return false;
    for (let i = 0; i < this.words.length; i++) if (this.at(i, buf, from, to)) return (this.nearest = -1), true;
    this.nearest = Math.min(...this.next);
    return false;
  }

  /** The end of the first occurrence of any word that starts at or after `from` (Infinity when none is left in buf). */
  horizon(buf: Buffer, from: number): number {
    this.follow(buf);
    let h = Infinity;
    for (let i = 0; i < this.words.length; i++) {
      let pos = this.next[i];
      if (pos === Infinity) continue;
      if (pos < from) this.next[i] = pos = this.find(i, buf, from);
      if (pos + this.words[i].length < h) h = pos + this.words[i].length;
    }
    return h;
  }

  /**
   * True when word i occurs in buf[from, to). A word found in most lines (dockerd's "level=info") is looked for first
   * where it was in the last line it was in, by bytes, before a search (a call per line: 0.1 s a million lines).
   * Such a hit may not be the first in the line, which holds it either way: no answer and no horizon changes.
   */
  at(i: number, buf: Buffer, from: number, to: number): boolean {
    this.follow(buf);
    let pos = this.next[i];
    if (pos === Infinity) return false; // not in the rest of this chunk
    const word = this.words[i];
    if (pos < from) {
      const col = this.column[i];
      this.next[i] = pos = col >= 0 && from + col + word.length <= to && this.isAt(word, buf, from + col) ? from + col : this.find(i, buf, from);
    }
    if (pos + word.length > to) return false;
    this.column[i] = pos - from;
    return true;
  }

  private isAt(word: Buffer, buf: Buffer, at: number): boolean {
    for (let k = 0; k < word.length; k++) if (buf[at + k] !== word[k]) return false;
    return true;
  }

  /** Starts following a new chunk: what was found in the last one no longer holds. */
  private follow(buf: Buffer): void {
    if (buf === this.chunk) return;
    this.chunk = buf;
    this.nearest = -1;
    this.next.fill(-1);
    if (!this.anchors) this.plan(buf);
  }

  /** Start of the next occurrence of word i at or after `from`, or Infinity. */
  private find(i: number, buf: Buffer, from: number): number {
    const word = this.words[i];
    const k = this.anchors![i];
    for (let p = buf.indexOf(this.tails[i], from + k); p >= 0; p = buf.indexOf(this.tails[i], p + 1)) {
      let j = 0;
      while (j < k && buf[p - k + j] === word[j]) j++;
      if (j === k) return p - k;
    }
    return Infinity;
  }

  /**
   * Picks where each word's search starts from the first 16 KiB the file shows: the tail (the word from that byte on)
   * that occurs least there, the rarest first byte first (the search runs memchr on it), stopping at a tail that does
   * not occur. By the rarest byte alone, "cmdDel" was searched as "Del", which every dockerd line holds
   * ("TaskDelete"): a call per line, a tenth of a second a million lines. Tails are counted up to four, and up to the
   * best so far (more than four in 16 KiB is common whatever the count): a bundle of 600 mount tables plans 600 times.
   */
  private plan(sample: Buffer): void {
    const head = sample.subarray(0, Math.min(sample.length, 16384));
    const counts = new Uint32Array(256);
    for (let i = 0; i < head.length; i++) counts[head[i]]++;
    const occurrences = (tail: Buffer, limit: number) => {
      let n = 0;
      for (let p = head.indexOf(tail); p >= 0 && n <= limit; p = head.indexOf(tail, p + 1)) n++;
      return n;
    };
    this.anchors = this.words.map((w) => {
      const byRarity = Array.from(w.keys()).sort((a, b) => counts[w[a]] - counts[w[b]] || a - b);
      let best = byRarity[0];
      let bestTail = 5;
      for (const k of byRarity) {
        const n = occurrences(w.subarray(k), bestTail);
        if (n < bestTail) [best, bestTail] = [k, n];
        if (bestTail === 0) break;
      }
      return best;
    });
    this.tails = this.words.map((w, i) => w.subarray(this.anchors![i]));
  }
}

/** An `accepts` prefilter: the line holds at least one of the words. */
export function anyWord(words: readonly string[]): (buf: Buffer, from: number, to: number) => boolean {
  return wordFilter(words).accepts;
}

/** `accepts` and `horizon` for a sink that wants the lines holding at least one of the words. */
export function wordFilter(words: readonly string[]): Required<Pick<LineSink, 'accepts' | 'horizon'>> {
  const n = new Needles(words);
  return { accepts: (buf, from, to) => n.any(buf, from, to), horizon: (buf, from) => n.horizon(buf, from) };
}

export interface Recogniser {
  /** Path test, cheap; applied to the entry path (or the transcript's path hint). */
  path?: RegExp;
  /** Test on the command of a transcript block (after nsenter prefixes). */
  command?: RegExp;
  /** Confirms a path match on the first few KiB; without it a path match is enough. */
  head?: (head: string) => boolean;
  /** A content signature strong enough to recognise a file whatever it is called. */
  sniff?: (head: string) => boolean;
  /** For the log family: a file matched by `path` is the program's own log and holds only its lines (cni.log, multus.log),
   * so the rest of the family need not read it. Journals and syslog files are read by all. */
  ownLogFile?: boolean;
}

export interface Parser {
  id: string;
  describe: string;
  /** How to collect this evidence by hand, shown by `forensics formats`. */
  collect: string;
  recognise: Recogniser;
  /** Daemon logs: one journal export interleaves kubelet, containerd, dockerd and plugin lines, so a file recognised
   * by one log parser is read by every log parser (each skips foreign lines by its byte prefilter). */
  family?: 'log';
  /**
   * Set when every fact is a CNI operation of one container and the parser keeps no state across lines: a big file can
   * be read by several threads at once, each honouring ctx.shard, their ledgers merged after (CniLedger.absorb). It
   * gives the shard (shardOf of the container's short id, among `count`) of a line from its bytes, or -1 when the bytes
   * do not tell. The thread that splits the file hands each other thread its lines (ShardRouter); a line whose shard
   * its bytes do not tell goes to every thread, whose parser and prefilter then decide, as for a file read alone.
   */
  shardOfLine?(buf: Buffer, from: number, to: number, count: number): number;
  /** Its facts say which network namespace they describe (a view of links and addresses): the output of a command run
   * inside a container (`docker exec X ip addr`) is read, as a view of that container's namespace. Other output from
   * inside a container (its processes, mounts, files) is the container's, not the host's, and is not read. */
  locatesNetns?: boolean;
  open(ctx: ParseContext): LineSink;
}

export function defineParser(p: Parser): Parser {
  return p;
}

/** Helper for parsers that need the whole text (JSON documents); bounded by maxBytes. */
/** Whose mount table a command printed: the pid whose mount namespace `nsenter -t PID -m` entered, else the host's (pid 1). */
export function mountReader(ctx: Pick<ParseContext, 'command'>): number {
  return ctx.command?.mountPid ?? 1;
}

export function wholeText(ctx: ParseContext, done: (text: string, firstLine: number) => void): LineSink {
  const maxBytes = ctx.maxDocumentBytes ?? 256 * 1024 * 1024;
  const parts: string[] = [];
  let size = 0;
  let first = 0;
  let overflow = false;
  return {
    line(text, no) {
      if (overflow) return;
      if (!first) first = no;
      size += text.length + 1;
      if (size > maxBytes) {
        overflow = true;
        ctx.warn(no, `document larger than ${maxBytes} bytes; skipped (raise --max-document-bytes)`);
        return;
      }
      parts.push(text);
    },
    end() {
      if (!overflow && parts.length) done(parts.join('\n'), first || 1);
    },
  };
}

/** Finds the first non-empty line of a text. */
export function firstLine(text: string): string {
  for (const l of text.split('\n')) {
    const t = l.trim();
    if (t) return t;
  }
  return '';
}

/** Pid from a path such as `proc/8581/mountinfo` (any prefix). */
export function pidFromPath(path: string): number | undefined {
  const m = /(?:^|\/)proc\/(\d+)\//.exec(path);
  return m ? Number(m[1]) : undefined;
}

/** For one-value outputs (`hostname`, `date -R`, `uname -r`…): calls `read` with the first non-empty line only. */
export function firstLineSink(read: (text: string, no: number) => void): LineSink {
  let done = false;
  return {
    line(text, no) {
      if (done || !text.trim()) return;
      done = true;
      read(text, no);
    },
    end() {},
  };
}

/** One sink feeding several: each sees the lines its own prefilter accepts. */
export function fanOut(sinks: LineSink[]): LineSink {
  if (sinks.length === 1) return sinks[0];
  const wanted = new Uint8Array(sinks.length); // per line, reused: millions of lines must not allocate
  // Per sink with a horizon: lines of `chunk` ending before refusedUntil[i] are refused without asking it. A journal is
  // read by every parser of the log family, and most of them find none of their words in a chunk: asking each one
  // about each line had cost a dockerd log of a million lines a fifth of its reading time.
  const refusedUntil = new Float64Array(sinks.length);
  let chunk: Buffer | undefined;
  let decided = false;
  return {
    accepts(buf, from, to) {
      if (buf !== chunk) {
        chunk = buf;
        refusedUntil.fill(0);
      }
      let any = 0;
      for (let i = 0; i < sinks.length; i++) {
        if (to < refusedUntil[i]) {
          wanted[i] = 0;
          continue;
        }
        const s = sinks[i];
        const w = !s.accepts || s.accepts(buf, from, to) ? 1 : 0;
        wanted[i] = w;
        any |= w;
        if (!w && s.horizon) refusedUntil[i] = s.horizon(buf, to);
      }
      decided = true;
      return any === 1;
    },
    line(text, no) {
      for (let i = 0; i < sinks.length; i++) if (!decided || wanted[i]) sinks[i].line(text, no);
      decided = false;
    },
    end() {
      for (const s of sinks) s.end();
    },
  };
}
