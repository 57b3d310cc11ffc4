/** Slots of the table of recent ids (a power of two): 512 KiB, which stays in the CPU's cache. */
const RECENT_SLOTS = 1 << 16;
/** Ids the recent table takes before they are sorted into a run (three quarters full: linear probing stays short). */
const RECENT_MAX = (RECENT_SLOTS * 3) / 4;
/** Runs are merged while both are about the same size, up to this many ids (4 MiB): a merge never copies more. */
const RUN_MAX = 1 << 19;

/**
 * A set of short container ids (12 hex digits: 48 bits, exact in a double); other ids (not 12 hex digits) go to a plain
 * Set. Ids are only added. A busy node's CNI log names a new sandbox with every pod, and every one released cleanly is
 * kept here, so that a later DEL of it is known for a retry: this is the one part of a CNI ledger that grows with the
 * log rather than with the node.
 *
 * The newest ids are in a small hash table; when it fills they are sorted into a run, and runs of about the same size
 * are merged (up to RUN_MAX). Adding costs no cache miss, and a retry, which comes soon after its release, is found in
 * the recent table; an older id takes a binary search per run (a handful). It was one hash table of doubles, doubled
 * when three quarters full: a cache miss an id (0.3 µs; 2 million sandboxes cost a reading thread 0.7 s), 16-43 bytes an
 * id and 48 MB at the moment it grew past 1.6 million. Now 8 bytes an id, and the runs are handed over as they are.
 */
export class IdSet {
  // Allocated at the first id: every file of a bundle has a ledger, and with it a set, and most never retire an id.
  private recent: Float64Array | undefined; // 0: empty; else the id's value + 1
  private recentCount = 0;
  private runs: Float64Array[] = []; // sorted ascending, no value twice within one
  private readonly other = new Set<string>();

  has(id: string): boolean {
    const v = idValue(id);
    if (v < 0) return this.other.has(id);
    if (this.recentCount && this.inRecent(v)) return true;
    for (const run of this.runs) if (inRun(run, v)) return true;
    return false;
  }

  add(id: string): void {
    const v = idValue(id);
    if (v < 0) {
      this.other.add(id);
      return;
    }
    const table = (this.recent ??= new Float64Array(RECENT_SLOTS));
    const mask = RECENT_SLOTS - 1;
    for (let i = slotOf(v, mask); ; i = (i + 1) & mask) {
      const x = table[i];
      if (x === v + 1) return;
      if (x === 0) {
        table[i] = v + 1;
        break;
      }
    }
    if (++this.recentCount >= RECENT_MAX) this.flush();
  }

  /**
   * The ids, as arrays that can cross threads: 12-hex-digit ids by value (idValue), in sorted runs, and the others as
   * text. The runs are this set's own, which are never changed once made. An id added again long after its first
   * release (a sandbox set up again under the same id) may be in two runs.
   */
  values(): IdValues {
    this.flush();
    return { runs: this.runs.slice(), others: [...this.other] };
  }

  /** Ids held (an id added again after its run was merged away from the recent table counts twice). */
  get size(): number {
    return countOf(this.runs) + this.recentCount + this.other.size;
  }

  private inRecent(v: number): boolean {
    const table = this.recent!;
    const mask = RECENT_SLOTS - 1;
    for (let i = slotOf(v, mask); ; i = (i + 1) & mask) {
      const x = table[i];
      if (x === 0) return false;
      if (x === v + 1) return true;
    }
  }

  /** Sorts the recent ids into a run, then merges the newest runs while they are about the same size. */
  private flush(): void {
    if (!this.recentCount) return;
    const run = new Float64Array(this.recentCount);
    let n = 0;
    const table = this.recent!;
    for (let i = 0; i < table.length; i++) if (table[i] !== 0) run[n++] = table[i] - 1;
    table.fill(0);
    this.recentCount = 0;
    this.runs.push(run.sort());
    for (let k = this.runs.length; k >= 2; k = this.runs.length) {
      const [a, b] = [this.runs[k - 2], this.runs[k - 1]];
      if (a.length > 2 * b.length || a.length + b.length > RUN_MAX) break;
      this.runs.splice(k - 2, 2, merge(a, b));
    }
  }
}

/** Ids as IdSet.values gives them. */
export interface IdValues {
  runs: Float64Array[];
  others: string[];
}

/** How many values the runs hold. */
export function countOf(runs: readonly Float64Array[]): number {
  let n = 0;
  for (const r of runs) n += r.length;
  return n;
}

/** Whether sorted `run` holds `v`. */
export function inRun(run: Float64Array, v: number): boolean {
  let lo = 0;
  let hi = run.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    const x = run[mid];
    if (x === v) return true;
    if (x < v) lo = mid + 1;
    else hi = mid - 1;
  }
  return false;
}

/** Two sorted runs as one, each value once. */
function merge(a: Float64Array, b: Float64Array): Float64Array {
  const out = new Float64Array(a.length + b.length);
  let i = 0;
  let j = 0;
  let n = 0;
  while (i < a.length && j < b.length) {
    const x = a[i];
    const y = b[j];
    if (x < y) out[n++] = a[i++];
    else if (y < x) out[n++] = b[j++];
    else {
      out[n++] = x;
      i++;
      j++;
    }
  }
  while (i < a.length) out[n++] = a[i++];
  while (j < b.length) out[n++] = b[j++];
  return n === out.length ? out : out.slice(0, n);
}

/** Each ASCII character's hex digit, or -1: lowercase only, as runtimes write ids. */
const HEX_DIGIT = new Int8Array(128).fill(-1);
for (let c = 48; c <= 57; c++) HEX_DIGIT[c] = c - 48;
for (let c = 97; c <= 102; c++) HEX_DIGIT[c] = c - 87;

/**
 * The id's 48-bit value, or -1 when it is not 12 lowercase hex digits. Two halves of 24 bits, each in a small integer,
 * and a table, not a branch per character: 33 ns an id where the digit-by-digit double took 75-90 (once per sandbox).
 */
export function idValue(id: string): number {
  if (id.length !== 12) return -1;
  let hi = 0;
  let lo = 0;
  let bad = 0;
  for (let i = 0; i < 6; i++) {
    const c = id.charCodeAt(i);
    const d = c < 128 ? HEX_DIGIT[c] : -1;
    bad |= d;
    hi = (hi << 4) | d;
  }
  for (let i = 6; i < 12; i++) {
    const c = id.charCodeAt(i);
    const d = c < 128 ? HEX_DIGIT[c] : -1;
    bad |= d;
    lo = (lo << 4) | d;
  }
  return bad < 0 ? -1 : hi * 16777216 + lo;
}

function slotOf(v: number, mask: number): number {
  const lo = v % 4294967296 | 0;
  const hi = Math.floor(v / 4294967296) | 0;
  return Math.imul(lo ^ Math.imul(hi, 0x85ebca6b), 0x9e3779b1) >>> Math.clz32(mask); // the product's high bits: its best mixed
}
