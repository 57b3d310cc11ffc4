import type { Stamp } from './facts.js';
import { flat } from '../util.js';

/**
 * The log lines a ledger keeps, off the JavaScript heap: numbers in typed arrays and the text in one byte slab.
 *
 * A busy node's CNI log passes millions of lines through the ledger, and each one is kept for a while (a container's
 * last ADD, the DEL that released an IP). Kept as strings and objects, every line outlived the young generation and
 * was copied into the old one, to die there: at four times the bench's node that churned the old generation by
 * gigabytes and held hundreds of megabytes of garbage between collections. Here a kept line is a record number (a
 * small integer the ledger stores in place), its text is bytes in the slab, and its time a packed number. Records
 * nobody refers to any more are dropped by `compact`, which the owner calls when the store is full, with every record
 * it still refers to.
 */

/** What `add` returns when the store has no room: the owner compacts it and adds again. */
export const FULL = -1;
/** No record (a ledger's empty slot). */
export const NONE = -1;

// How a record's time is kept: packed local time (optionally with a zone from `zones`), UTC milliseconds, or the fact's own.
const TAG_FACT = -1;
const TAG_TEXT = -2; // text alone, no line or time (a ledger's holder of claims)
const TAG_LOCAL = 0;
const TAG_EXACT = 1;
const TAG_ZONE = 2; // TAG_ZONE + k: local time in zones[k]
const MAX_ZONES = 64;

const NO_F64 = new Float64Array(0);
const NO_I32 = new Int32Array(0);
const NO_U8 = new Uint8Array(0);
const NO_TEXT = Buffer.alloc(0);
const ok = (v: number, lo: number, hi: number) => Number.isInteger(v) && v >= lo && v <= hi;

/** A local time as one exact integer below 2^53 (year 0–9998 or none, month, day, h, m, s, ms), or -1 when it does not fit. */
function packLocal(at: Extract<Stamp, { kind: 'local' }>): number {
  const y = at.year === undefined ? 0 : ok(at.year, 0, 9998) ? at.year + 1 : -1;
  if (y < 0 || !ok(at.month, 1, 12) || !ok(at.day, 1, 31) || !ok(at.hour, 0, 23) || !ok(at.minute, 0, 59) || !ok(at.second, 0, 60) || !ok(at.millis, 0, 999)) return -1;
  return at.millis + 1000 * (at.second + 61 * (at.minute + 60 * (at.hour + 24 * (at.day + 32 * (at.month + 13 * y)))));
}

/** The stamp `packLocal` packed, with its keys in the order Stamp declares them (JSON output depends on it). */
function unpackLocal(v: number, zone: string | undefined): Stamp {
  const millis = v % 1000;
  v = (v - millis) / 1000;
  const second = v % 61;
  v = (v - second) / 61;
  const minute = v % 60;
  v = (v - minute) / 60;
  const hour = v % 24;
  v = (v - hour) / 24;
  const day = v % 32;
  v = (v - day) / 32;
  const month = v % 13;
  const y = (v - month) / 13;
  // `| 0`: arithmetic on a Float64Array's number gives doubles, which an object keeps boxed, 16 bytes each (a busy
  // node's ledger gives back a hundred thousand stamps); small integers are kept in place.
  const at: Stamp = y
    ? { kind: 'local', year: (y - 1) | 0, month: month | 0, day: day | 0, hour: hour | 0, minute: minute | 0, second: second | 0, millis: millis | 0 }
    : { kind: 'local', month: month | 0, day: day | 0, hour: hour | 0, minute: minute | 0, second: second | 0, millis: millis | 0 };
  if (zone !== undefined) at.zone = zone;
  return at;
}

/** A store's content, as passed between threads (structured-clonable; arrays cut to what is used). */
export interface LineStoreState<F> {
  count: number;
  line: Float64Array;
  stamp: Float64Array;
  tag: Int32Array;
  off: Int32Array;
  len: Int32Array;
  facts: (F | undefined)[];
  text: Uint8Array;
  zones: string[];
}

export class LineStore<F extends { at: Stamp }> {
  count = 0;
  private line: Float64Array;
  private stamp: Float64Array;
  private tag: Int32Array;
  private off: Int32Array; // text offset in the slab
  private len: Int32Array; // text length in bytes; -1 for a record without text
  private facts: (F | undefined)[] = []; // records kept as their fact (a line that cannot be read again alone)
  private text: Buffer;
  private textEnd = 0;
  private zones: string[] = [];
  private mark: Uint8Array; // compact's scratch: 0 dropped, 1 kept, 2 kept with its text
  private moved: Int32Array; // compact's scratch: new record numbers

  /**
   * Empty by default: every file of a bundle has a ledger, and most never keep a line (the first add grows it).
   * Text offsets are 32-bit: past `maxTextBytes` (1 GiB, millions of kept lines: a log of millions of containers)
   * growing throws, and the file's parser reports the rest of the file as not read.
   */
  constructor(
    private cap = 0,
    textBytes = 0,
    private readonly maxTextBytes = 1 << 30,
  ) {
    // Empty, a store shares empty arrays (grow replaces them, never writes them): a bundle's 2,600 files each made eight
    // array buffers here, for nothing.
    this.line = cap ? new Float64Array(cap) : NO_F64;
    this.stamp = cap ? new Float64Array(cap) : NO_F64;
    this.tag = cap ? new Int32Array(cap) : NO_I32;
    this.off = cap ? new Int32Array(cap) : NO_I32;
    this.len = cap ? new Int32Array(cap) : NO_I32;
    this.mark = cap ? new Uint8Array(cap) : NO_U8;
    this.moved = cap ? new Int32Array(cap) : NO_I32;
    this.text = textBytes ? Buffer.allocUnsafeSlow(textBytes) : NO_TEXT;
  }

  /**
   * Keeps line `line`: as its text when `text` is given and its time packs, else as the fact. The record number, or
   * FULL when there is no room (compact, then add again).
   */
  add(line: number, f: F, text?: string): number {
    if (this.count === this.cap) return FULL;
    const r = this.count;
    let tag = TAG_FACT;
    let v = 0;
    if (text !== undefined) {
      const at = f.at;
      if (at.kind === 'exact') {
        if (Number.isFinite(at.utc)) {
          tag = TAG_EXACT;
          v = at.utc;
        }
      } else if (at.kind === 'local') {
        v = packLocal(at);
        if (v >= 0) tag = at.zone === undefined ? TAG_LOCAL : this.zoneTag(at.zone);
      }
    }
    if (tag !== TAG_FACT) {
      if (this.textEnd + text!.length * 3 > this.text.length) return FULL; // utf8: at most 3 bytes per UTF-16 unit
      this.off[r] = this.textEnd;
      this.len[r] = this.text.write(text!, this.textEnd, 'utf8');
      this.textEnd += this.len[r];
      this.stamp[r] = v;
    } else {
      this.len[r] = -1;
      this.facts[r] = f;
    }
    this.tag[r] = tag;
    this.line[r] = line;
    this.count++;
    return r;
  }

  /**
   * Keeps a text of the owner's own (no line, no time), read back by textOf: what the owner would otherwise keep as an
   * object on the heap, per line, for a while. FULL when there is no room.
   */
  addText(text: string): number {
    if (this.count === this.cap || this.textEnd + text.length * 3 > this.text.length) return FULL;
    const r = this.count;
    this.off[r] = this.textEnd;
    this.len[r] = this.text.write(text, this.textEnd, 'utf8');
    this.textEnd += this.len[r];
    this.tag[r] = TAG_TEXT;
    this.line[r] = 0;
    this.stamp[r] = 0;
    this.count++;
    return r;
  }

  /** Whether `records` more records with `chars` UTF-16 units of text in all fit without compacting. */
  hasRoom(records: number, chars: number): boolean {
    return this.count + records <= this.cap && this.textEnd + chars * 3 <= this.text.length;
  }

  /** The tag of a local time in `zone`; TAG_FACT past MAX_ZONES zones (a hostile log's lines then keep their facts), unless `always`. */
  private zoneTag(zone: string, always = false): number {
    let k = this.zones.indexOf(zone);
    if (k < 0) {
      if (this.zones.length >= MAX_ZONES && !always) return TAG_FACT;
      k = this.zones.push(flat(zone)) - 1; // its own copy, not a slice of a log line
    }
    return TAG_ZONE + k;
  }

  lineOf(r: number): number {
    return this.line[r] | 0; // a small integer: one double would box every Evidence's line (see unpackLocal)
  }

  stampOf(r: number): Stamp {
    const tag = this.tag[r];
    if (tag === TAG_FACT) return this.facts[r]!.at;
    if (tag === TAG_EXACT) return { kind: 'exact', utc: this.stamp[r] };
    return unpackLocal(this.stamp[r], tag >= TAG_ZONE ? this.zones[tag - TAG_ZONE] : undefined);
  }

  /** The record's fact, when it was kept as one. */
  factOf(r: number): F | undefined {
    return this.tag[r] === TAG_FACT ? this.facts[r] : undefined;
  }

  /** The record's text, when it was kept as text and `compact` kept the text. */
  textOf(r: number): string | undefined {
    const n = this.len[r];
    return n < 0 ? undefined : this.text.toString('utf8', this.off[r], this.off[r] + n);
  }

  /**
   * Keeps only the records `visit` passes to `move` (with their text when asked), in place and in their order, and
   * renumbers them. `visit` is called twice: first `move` marks and returns its argument, then it returns the new
   * number (NONE for NONE), which the caller stores. Afterwards there is room for `room` more records and `roomBytes`
   * more bytes of text.
   */
  compact(visit: (move: (r: number, withText: boolean) => number) => void, room = 1, roomBytes = 0): void {
    const n0 = this.count;
    const mark = this.mark;
    mark.fill(0, 0, n0);
    visit((r, withText) => {
      if (r >= 0 && mark[r] < (withText ? 2 : 1)) mark[r] = withText ? 2 : 1;
      return r;
    });
    // Slide the kept records and their text down: text lies in record order, so a copy never overwrites what is still to move.
    const to = this.moved;
    let n = 0;
    let textEnd = 0;
    for (let r = 0; r < n0; r++) {
      const m = mark[r];
      if (m === 0) continue;
      to[r] = n;
      this.line[n] = this.line[r];
      this.stamp[n] = this.stamp[r];
      this.tag[n] = this.tag[r];
      if (this.tag[r] === TAG_FACT) this.facts[n] = this.facts[r];
      else if (n < this.facts.length) this.facts[n] = undefined;
      const len = this.len[r];
      if (m === 2 && len >= 0) {
        const off = this.off[r];
        if (off !== textEnd) this.text.copyWithin(textEnd, off, off + len);
        this.off[n] = textEnd;
        this.len[n] = len;
        textEnd += len;
      } else this.len[n] = -1;
      n++;
    }
    if (this.facts.length > n) this.facts.length = n;
    visit((r) => (r < 0 ? NONE : to[r]));
    this.count = n;
    this.textEnd = textEnd;
    // Records are small: three quarters free at least, so compacting costs a third of what was kept per record added.
    // Text is most of the memory: half free, so that the slab is at most twice what the ledger keeps.
    let cap = Math.max(this.cap, 256);
    while (cap < 4 * n || cap - n < room) cap *= 2;
    if (cap !== this.cap) this.grow(cap);
    let bytes = Math.max(this.text.length, 64 * 1024);
    while (bytes < 2 * textEnd || bytes - textEnd < roomBytes) bytes *= 2;
    if (bytes !== this.text.length) this.growText(bytes);
  }

  private growText(bytes: number): void {
    if (bytes > this.maxTextBytes) throw new Error(`the CNI ledger's kept log lines outgrew its ${this.maxTextBytes} byte store (${this.count} lines kept): too many containers to follow`);
    const text = Buffer.allocUnsafeSlow(bytes);
    this.text.copy(text, 0, 0, this.textEnd);
    this.text = text;
  }

  private grow(cap: number): void {
    const more = <T extends Float64Array | Int32Array>(a: T, make: new (n: number) => T): T => {
      const b = new make(cap);
      b.set(a.subarray(0, this.count));
      return b;
    };
    this.line = more(this.line, Float64Array);
    this.stamp = more(this.stamp, Float64Array);
    this.tag = more(this.tag, Int32Array);
    this.off = more(this.off, Int32Array);
    this.len = more(this.len, Int32Array);
    this.mark = new Uint8Array(cap);
    this.moved = new Int32Array(cap);
    this.cap = cap;
  }

  /** The records, copied to send to another thread. */
  state(): LineStoreState<F> {
    const n = this.count;
    return {
      count: n,
      line: this.line.slice(0, n),
      stamp: this.stamp.slice(0, n),
      tag: this.tag.slice(0, n),
      off: this.off.slice(0, n),
      len: this.len.slice(0, n),
      facts: this.facts.slice(0, n),
      text: Uint8Array.prototype.slice.call(this.text, 0, this.textEnd),
      zones: this.zones,
    };
  }

  /**
   * Appends another store's records (from `state`); theirs number `r` is ours `r + base`, for the returned base. Grown
   * to fit exactly, not doubled: this merges a file's two halves once it is read, and nothing is added after (the
   * doubled store of the bench's scale 4 was 97 MB for 21 MB of records, at the report's peak of memory).
   */
  append(other: LineStoreState<F>): number {
    const base = this.count;
    if (this.cap < base + other.count) this.grow(base + other.count);
    if (this.text.length < this.textEnd + other.text.length) this.growText(this.textEnd + other.text.length);
    this.text.set(other.text, this.textEnd);
    for (let i = 0; i < other.count; i++) {
      const r = base + i;
      let tag = other.tag[i];
      if (tag >= TAG_ZONE) tag = this.zoneTag(other.zones[tag - TAG_ZONE], true);
      this.line[r] = other.line[i];
      this.stamp[r] = other.stamp[i];
      this.tag[r] = tag;
      this.len[r] = other.len[i];
      this.off[r] = other.off[i] + this.textEnd;
      if (other.tag[i] === TAG_FACT) this.facts[r] = other.facts[i];
    }
    this.textEnd += other.text.length;
    this.count = base + other.count;
    return base;
  }
}
