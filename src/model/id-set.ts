const NO_TABLE = new Float64Array(0);

/**
 * A set of short container ids (12 hex digits: 48 bits, exact in a double), in an open-addressing table of doubles:
 * 16 bytes an id where a Set of strings takes about 50. A busy node's CNI log names hundreds of thousands of
 * sandboxes. Other ids (not 12 hex digits) go to a plain Set. Ids are only added.
 */
export class IdSet {
  // 0: empty; else the id's value + 1. Empty until the first id: every file of a bundle has a ledger, and with it a set,
  // and most never retire an id (8 KiB each for a node's thousands of /proc files had churned 20 MB a run).
  private table = NO_TABLE;
  private count = 0;
  private readonly other = new Set<string>();

  has(id: string): boolean {
    const v = idValue(id);
    if (v < 0) return this.other.has(id);
    if (!this.count) return false;
    const mask = this.table.length - 1;
    for (let i = slotOf(v, mask); ; i = (i + 1) & mask) {
      const x = this.table[i];
      if (x === 0) return false;
      if (x === v + 1) return true;
    }
  }

  add(id: string): void {
    const v = idValue(id);
    if (v < 0) {
      this.other.add(id);
      return;
    }
    if (this.table === NO_TABLE) this.table = new Float64Array(1 << 10);
    if (this.insert(this.table, v)) this.count++;
    if (this.count * 4 > this.table.length * 3) this.grow(); // up to three quarters full: linear probing stays short
  }

  /** The ids, as exact-size arrays that can cross threads: 12-hex-digit ids by value (idValue), the others as text. */
  values(): IdValues {
    const ids = new Float64Array(this.count);
    let n = 0;
    for (const x of this.table) if (x !== 0) ids[n++] = x - 1;
    return { ids, others: [...this.other] };
  }

  get size(): number {
    return this.count + this.other.size;
  }

  private insert(table: Float64Array, v: number): boolean {
    const mask = table.length - 1;
    for (let i = slotOf(v, mask); ; i = (i + 1) & mask) {
      const x = table[i];
      if (x === v + 1) return false;
      if (x === 0) {
        table[i] = v + 1;
        return true;
      }
    }
  }

  private grow(): void {
    const old = this.table;
    this.table = new Float64Array(old.length * 2);
    for (const x of old) if (x !== 0) this.insert(this.table, x - 1);
  }
}

/** Ids as IdSet.values gives them. */
export interface IdValues {
  ids: Float64Array;
  others: string[];
}

/** The id's 48-bit value, or -1 when it is not 12 lowercase hex digits. */
export function idValue(id: string): number {
  if (id.length !== 12) return -1;
  let v = 0;
  for (let i = 0; i < 12; i++) {
    const c = id.charCodeAt(i);
    const d = c >= 48 && c <= 57 ? c - 48 : c >= 97 && c <= 102 ? c - 87 : -1;
    if (d < 0) return -1;
    v = v * 16 + d;
  }
  return v;
}

function slotOf(v: number, mask: number): number {
  const lo = v % 4294967296 | 0;
  const hi = Math.floor(v / 4294967296) | 0;
  return Math.imul(lo ^ Math.imul(hi, 0x85ebca6b), 0x9e3779b1) >>> Math.clz32(mask); // the product's high bits: its best mixed
}
