import type { Evidence, Fact } from './facts.js';
import { flat, pushAll, pushTo, shortId } from '../util.js';
import { LineStore, NONE, type LineStoreState } from './line-store.js';
import { countOf, IdSet, type IdValues } from './id-set.js';

type CniFact = Extract<Fact, { kind: 'cniOp' }>;
type CniEvent = Extract<Fact, { kind: 'cniEvent' }>;

/** Per IP, the released claims kept: enough for "the last holder and the ones before". */
export const CLAIMS_PER_IP = 6;
const FAILED_PER_CONTAINER = 5;

/**
 * Who held a claim. Kept as a text record of the line store (see holderText), not an object: a busy node's log names
 * a new sandbox with every pod, and each holder lives as long as its IP's ring keeps the claim (thousands of ADDs), so
 * as objects they were most of what the reading threads' young generations copied and promoted. One thread reading the
 * bench's scale-1 log: 106 MB promoted in 390 ms of scavenges -> 1.3 MB in 229 ms; whole report at scale 4: 22.2 -> 19.0 s,
 * peak RSS 499 -> 457 MB (two runs each); scale 1: peak RSS 237 -> 204 MB (median of ten), time unchanged.
 */
interface Holder {
  containerId: string; // short id
  pod?: string;
  podNamespace?: string;
  netnsPath?: string;
}

/** A holder as one text: each field's length (or "-" for none), then the fields, so that any text round-trips. */
function holderText(containerId: string, pod: string | undefined, podNamespace: string | undefined, netnsPath: string | undefined): string {
  return `${containerId.length},${pod?.length ?? '-'},${podNamespace?.length ?? '-'},${netnsPath?.length ?? '-'};${containerId}${pod ?? ''}${podNamespace ?? ''}${netnsPath ?? ''}`;
}

function parseHolder(text: string): Holder {
  const head = text.indexOf(';');
  let at = head + 1;
  const fields = text
    .slice(0, head)
    .split(',')
    .map((n) => {
      if (n === '-') return undefined;
      const v = text.slice(at, at + Number(n));
      at += Number(n);
      return v;
    });
  return { containerId: fields[0]!, pod: fields[1], podNamespace: fields[2], netnsPath: fields[3] };
}

/**
 * The evidence text of an older claim's line: one string for all of them (a busy node has tens of thousands), since
 * the finding that shows it already names the address and the holder.
 */
const OLDER_CLAIM = { ADD: '(an older ADD of this address, kept without its log line)', DEL: '(the DEL that released an older claim, kept without its log line)' } as const;

/** Of the released claims kept per IP, this many newest keep their full lines as evidence; older ones a summary. */
export const FULL_CLAIMS_PER_IP = 2;

/**
 * Per container, records of the line store (NONE when unset), updated in place. The claims of its ADDs not yet
 * released are the first `openN` entries of three arrays that are reused, not reallocated, per ADD.
 */
interface ContainerOps {
  lastAdd: number;
  delAfterLastAdd: number;
  orphanDel: number; // a DEL whose ADD is in an earlier file
  failedAdd: number;
  failed: number[];
  hasOpen: boolean; // an ADD succeeded and no DEL released it yet (it may have given no IP)
  openN: number;
  openIp: IpState[];
  openAdd: number[];
  openHolder: number[];
  holder: number; // this container's holder record, NONE until its first ADD with an IP
}

/**
 * A container's lists before their first element: shared, and never pushed to (the first element replaces them with
 * an array of one). A busy node's log names a new sandbox with every pod, and most never fail.
 */
const NO_RECORDS: number[] = [];
const NO_IPS: IpState[] = [];

/** A ledger's content, as passed between threads. */
export interface LedgerState {
  containers: Map<string, ContainerOps>;
  ips: Map<string, IpState>;
  events: CniEvent[];
  store: LineStoreState<CniFact>;
  source: string | undefined;
  retired: IdValues[];
}

/**
 * A line as the timeline shows it: the fields its message and filters need, copied out of the line (a slice of it
 * would keep the whole line alive), and its place in the file without its text.
 */
function timelineEvent(f: CniFact): CniEvent {
  const ev = { source: f.ev.source, line: f.ev.line, text: '' };
  const pod = f.pod ? flat(f.podNamespace ? `${f.podNamespace}/${f.pod}` : f.pod) : undefined;
  return { kind: 'cniEvent', op: f.op, containerId: flat(f.containerId), pod, ips: f.ips.map((ip) => flat(ip)), err: flat(f.err), at: f.at, ev };
}

/** Which of `count` ledgers reads a container's lines: by its short id, as the ledger keys containers. */
export function shardOf(containerId: string, count: number): number {
  let h = 0;
  for (let i = 0; i < 12 && i < containerId.length; i++) h = (Math.imul(h, 31) + containerId.charCodeAt(i)) | 0;
  return (h >>> 0) % count;
}

/**
 * Per IP: how many ADDs gave it, and a ring of its last released claims (the ADD and DEL records and the holder),
 * written in place: nothing is allocated per DEL.
 */
interface IpState {
  ip: string;
  firstSeen: number; // line * 64 + place in that ADD's list: the order IPs are reported in, whichever thread saw them
  adds: number;
  released: number; // claims ever released; the newest is at (released - 1) % CLAIMS_PER_IP
  add: number[];
  del: number[];
  holder: number[];
}

/** The ring slots of an IP's kept released claims, oldest first: the last FULL_CLAIMS_PER_IP keep their lines. */
function keptSlots(s: IpState): number[] {
  const n = Math.min(s.released, CLAIMS_PER_IP);
  const slots: number[] = [];
  for (let i = 0; i < n; i++) slots.push((s.released - n + i) % CLAIMS_PER_IP); // not Array.from({ length }): its generic path cost 0.1 s a run
  return slots;
}

/** Whether the i-th of `n` kept claims (oldest first) is among the newest FULL_CLAIMS_PER_IP. */
const isFull = (i: number, n: number) => i >= n - FULL_CLAIMS_PER_IP;

/** A released claim, as the ring holds it. */
interface Released {
  add: number;
  del: number;
  holder: number;
}

/**
 * Reduces one file's CNI ADD/DEL lines while it is read, so that memory holds the model, not the log:
 * every claim never released (the leaks), the last claims of every IP with the DEL that released them, and
 * per container its last ADD, the DEL after it and its last failed DELs. A log is in time order, so "the last N"
 * of one file is exact, and the union over rotated files still holds the last N of all.
 *
 * A million lines pass through here and most are kept for a while, so they are kept off the heap: as records of a
 * LineStore (see there), which the per-container and per-IP state, one object each, refers to by number.
 */
export class CniLedger {
  /** With keepAll: every line, as the timeline shows it. */
  private readonly events: CniEvent[] = [];
  private readonly containers = new Map<string, ContainerOps>();
  /** Containers released cleanly and dropped (short ids): a later DEL of one is a retry, not an orphan. */
  private retired = new IdSet();
  /** The retired ids of ledgers absorbed (the other thread's containers of the same file). */
  private readonly retiredElsewhere: IdValues[] = [];
  private readonly ips = new Map<string, IpState>();
  private store = new LineStore<CniFact>();
  /** The file every line kept as text comes from (a ledger reads one file). */
  private source: string | undefined;

  /** Reads a kept line again into its fact; set when the file's parser keeps no state across lines. */
  private reparse: ((ev: Evidence) => CniFact | undefined) | undefined;

  /** keepAll: also every line, as the timeline shows it (`forensics timeline`); the reduction is the same either way. */
  constructor(private readonly keepAll: boolean) {}

  /** From now on, lines are kept as their text and read again by `read` when the facts are asked for. */
  keepLinesOnly(read: (ev: Evidence) => CniFact | undefined): void {
    this.reparse = read;
  }

  push(f: CniFact): void {
    if (this.keepAll) this.events.push(timelineEvent(f));
    const id = shortId(f.containerId);
    let c = this.containers.get(id);
    // Another DEL of a container already released (kubelet tears a sandbox down more than once): nothing left to tell.
    if (!c && f.op === 'DEL' && this.retired.has(id)) return;
    // A successful ADD with an IP keeps two records: the line and, unless this container's holder is the same, a new holder.
    const text = this.keptText(f);
    const newHolder = f.op === 'ADD' && !f.err && f.ips.length > 0 && !(c && c.holder !== NONE && this.sameHolder(c.holder, f)) ? holderText(shortId(f.containerId), f.pod, f.podNamespace, f.netnsPath) : undefined;
    const chars = (text?.length ?? 0) + (newHolder?.length ?? 0);
    if (!this.store.hasRoom(2, chars)) this.compact(2, chars * 3);
    const r = this.store.add(f.ev.line, f, text);
    if (!c) this.containers.set(id, (c = { lastAdd: NONE, delAfterLastAdd: NONE, orphanDel: NONE, failedAdd: NONE, failed: NO_RECORDS, hasOpen: false, openN: 0, openIp: NO_IPS, openAdd: NO_RECORDS, openHolder: NO_RECORDS, holder: NONE }));
    if (newHolder !== undefined) c.holder = this.store.addText(newHolder);
    if (f.op === 'ADD') {
      if (f.err) {
        c.failedAdd = r;
        return;
      }
      c.lastAdd = r;
      c.delAfterLastAdd = NONE;
      if (c.failed.length) c.failed = NO_RECORDS;
      c.hasOpen = true;
      const holder = c.holder;
      for (let k = 0; k < f.ips.length; k++) {
        const s = this.ip(f.ips[k], f.ev.line * 64 + Math.min(k, 63));
        s.adds++;
        const n = c.openN++;
        if (n < c.openIp.length) {
          c.openIp[n] = s;
          c.openAdd[n] = r;
          c.openHolder[n] = holder;
        } else if (n === 0) {
          // One element, exact size: pushing onto an empty array reserves 17 slots, three arrays per sandbox.
          c.openIp = [s];
          c.openAdd = [r];
          c.openHolder = [holder];
        } else {
          c.openIp.push(s);
          c.openAdd.push(r);
          c.openHolder.push(holder);
        }
      }
      return;
    }
    if (f.err) {
      if (c.failed === NO_RECORDS) c.failed = [r];
      else c.failed.push(r);
      if (c.failed.length > FAILED_PER_CONTAINER) c.failed.shift();
      return;
    }
    c.delAfterLastAdd = r;
    if (!c.hasOpen) {
      c.orphanDel = r;
      return;
    }
    for (let k = 0; k < c.openN; k++) {
      const s = c.openIp[k];
      const slot = s.released % CLAIMS_PER_IP;
      s.add[slot] = c.openAdd[k];
      s.del[slot] = r;
      s.holder[slot] = c.openHolder[k];
      s.released++;
    }
    c.hasOpen = false;
    c.openN = 0;
    // Released cleanly: its claims live on in its IPs' rings, and nothing else about it is worth its memory (a busy
    // node's log names a new sandbox with every pod). One with a failed ADD or DEL on record stays, for the report.
    if (c.failedAdd === NONE && !c.failed.length && c.orphanDel === NONE) {
      this.containers.delete(id);
      this.retired.add(id);
    }
  }

  /** The text a line is kept as, when it can be read again alone (not cut at 1000 characters); else it keeps its fact. */
  private keptText(f: CniFact): string | undefined {
    if (!this.reparse || f.ev.text.endsWith('…')) return undefined;
    if (this.source === undefined) this.source = f.ev.source;
    return f.ev.source === this.source ? f.ev.text : undefined;
  }

  /** Whether holder record `h` is this ADD's container, pod and netns (a sandbox set up again keeps its holder). */
  private sameHolder(h: number, add: CniFact): boolean {
    return this.store.textOf(h) === holderText(shortId(add.containerId), add.pod, add.podNamespace, add.netnsPath);
  }

  private holderOf(h: number): Holder {
    return parseHolder(this.store.textOf(h)!);
  }

  /**
   * Drops the records nothing refers to. Lines that facts() gives in full keep their text: the containers' lines, open
   * claims and each IP's newest FULL_CLAIMS_PER_IP released claims; older claims keep only their line and time.
   */
  private compact(room = 1, roomBytes = 0): void {
    this.store.compact(
      (move) => {
        for (const c of this.containers.values()) {
          c.lastAdd = move(c.lastAdd, true);
          c.delAfterLastAdd = move(c.delAfterLastAdd, true);
          c.orphanDel = move(c.orphanDel, true);
          c.failedAdd = move(c.failedAdd, true);
          for (let k = 0; k < c.failed.length; k++) c.failed[k] = move(c.failed[k], true);
          for (let k = 0; k < c.openN; k++) {
            c.openAdd[k] = move(c.openAdd[k], true);
            c.openHolder[k] = move(c.openHolder[k], true);
          }
          c.holder = move(c.holder, true);
        }
        // Loops, not keptSlots(): this runs for every IP at every compaction (a hundred times a million lines).
        for (const s of this.ips.values()) {
          const n = Math.min(s.released, CLAIMS_PER_IP);
          for (let i = 0; i < n; i++) {
            const slot = (s.released - n + i) % CLAIMS_PER_IP;
            const full = isFull(i, n);
            s.add[slot] = move(s.add[slot], full);
            s.del[slot] = move(s.del[slot], full);
            s.holder[slot] = move(s.holder[slot], true);
          }
        }
      },
      room,
      roomBytes,
    );
  }

  private ip(ip: string, seen: number): IpState {
    let s = this.ips.get(ip);
    if (!s) this.ips.set(ip, (s = { ip: flat(ip)!, firstSeen: seen, adds: 0, released: 0, add: new Array(CLAIMS_PER_IP).fill(NONE), del: new Array(CLAIMS_PER_IP).fill(NONE), holder: new Array(CLAIMS_PER_IP).fill(NONE) }));
    return s;
  }

  /** Drops everything the ledger holds, once its facts are taken: a busy node's file held tens of megabytes here. */
  release(): void {
    this.containers.clear();
    this.ips.clear();
    this.events.length = 0;
    this.store = new LineStore<CniFact>();
    this.retired = new IdSet();
    this.retiredElsewhere.length = 0;
  }

  /** How many lines the ledger holds (after dropping those nothing refers to): what its memory grows with. */
  held(): number {
    this.compact();
    return this.store.count;
  }

  /** What this ledger holds, for another thread's ledger to absorb (structured-clonable). */
  state(): LedgerState {
    this.compact();
    return { containers: this.containers, ips: this.ips, events: this.events, store: this.store.state(), source: this.source, retired: [this.retired.values(), ...this.retiredElsewhere] };
  }

  /**
   * Takes in the state of a ledger that read the same file's other lines, split by container (shardOf): the union is
   * exactly what one ledger reading every line would hold. Containers are disjoint; per IP the counts add up, and the
   * last CLAIMS_PER_IP releases of the union are the last of the two rings merged by their DEL line (the newest
   * FULL_CLAIMS_PER_IP of the union are among each ring's newest, whose lines are still kept in full).
   */
  absorb(other: LedgerState): void {
    pushAll(this.events, other.events);
    pushAll(this.retiredElsewhere, other.retired);
    if (other.store.count === 0 && other.containers.size === 0) return;
    if (this.source !== undefined && other.source !== undefined && other.source !== this.source) throw new Error(`CNI ledgers of two files cannot merge: ${this.source} and ${other.source}`);
    this.source ??= other.source;
    const base = this.store.append(other.store);
    const ours = (r: number) => (r < 0 ? NONE : r + base);
    for (const [id, ops] of other.containers) {
      if (this.containers.has(id)) throw new Error(`CNI ledger shards overlap on container ${id}: lines were not split by container`);
      ops.lastAdd = ours(ops.lastAdd);
      ops.delAfterLastAdd = ours(ops.delAfterLastAdd);
      ops.orphanDel = ours(ops.orphanDel);
      ops.failedAdd = ours(ops.failedAdd);
      // Empty lists come back from the other thread as one shared copy: this ledger's own shared ones replace them.
      ops.failed = ops.failed.length ? ops.failed.map(ours) : NO_RECORDS;
      ops.openAdd = ops.openAdd.length ? ops.openAdd.map(ours) : NO_RECORDS;
      ops.openHolder = ops.openHolder.length ? ops.openHolder.map(ours) : NO_RECORDS;
      ops.holder = ours(ops.holder);
      if (!ops.openIp.length) ops.openIp = NO_IPS;
      this.containers.set(id, ops);
    }
    const released = (s: IpState): Released[] => keptSlots(s).map((slot) => ({ add: s.add[slot], del: s.del[slot], holder: s.holder[slot] }));
    for (const [ip, theirs] of other.ips) {
      theirs.add = theirs.add.map(ours);
      theirs.del = theirs.del.map(ours);
      theirs.holder = theirs.holder.map(ours);
      const mine = this.ips.get(ip);
      if (!mine) {
        this.ips.set(ip, theirs);
        continue;
      }
      const merged = [...released(mine), ...released(theirs)].sort((a, b) => this.store.lineOf(a.del) - this.store.lineOf(b.del)).slice(-CLAIMS_PER_IP);
      mine.adds += theirs.adds;
      mine.firstSeen = Math.min(mine.firstSeen, theirs.firstSeen);
      mine.released += theirs.released;
      mine.add.fill(NONE);
      mine.del.fill(NONE);
      mine.holder.fill(NONE);
      merged.forEach((c, i) => {
        const slot = (mine.released - merged.length + i) % CLAIMS_PER_IP;
        mine.add[slot] = c.add;
        mine.del[slot] = c.del;
        mine.holder[slot] = c.holder;
      });
    }
    // Their open claims point at their IpState: from now on at ours, where both had the IP.
    for (const ops of other.containers.values()) for (let k = 0; k < ops.openN; k++) ops.openIp[k] = this.ips.get(ops.openIp[k].ip)!;
    // Not compacted: the claims the merged rings dropped are records nothing refers to, which facts() never reads, and
    // compacting would make room for four times what is kept, for lines that no longer come.
  }

  /** The containers released cleanly and dropped: a fact of the file `source` per thread that read it (none when none). */
  released(source: string): Extract<Fact, { kind: 'cniReleased' }>[] {
    return [this.retired.values(), ...this.retiredElsewhere]
      .filter((r) => r.runs.length || r.others.length)
      .map((released) => ({ kind: 'cniReleased', released, ev: { source, line: 0, text: `(${countOf(released.runs) + released.others.length} releases of containers by a clean DEL, their lines not kept)` } }));
  }

  /** A kept record as its fact. */
  private fact(r: number): CniFact | undefined {
    const f = this.store.factOf(r);
    if (f) return f;
    const text = this.store.textOf(r);
    return text === undefined ? undefined : this.reparse!({ source: this.source!, line: this.store.lineOf(r), text });
  }

  /** With keepAll, every line as the timeline shows it, in file order; else none. */
  timeline(): CniEvent[] {
    return this.events;
  }

  /** The kept lines, in file order. */
  facts(): CniFact[] {
    // One fact per line: a line kept in full (an open claim, a container's last ADD) wins over an older claim's summary.
    const kept = new Map<string, CniFact>();
    const keep = (r: number) => {
      if (r < 0) return;
      const f = this.fact(r);
      if (!f) return;
      const key = `${f.op}${f.ev.line}`;
      const had = kept.get(key);
      if (!had || had.ev.text.startsWith('(')) kept.set(key, f);
    };
    for (const c of this.containers.values()) for (let k = 0; k < c.openN; k++) keep(c.openAdd[k]);
    for (const c of this.containers.values()) for (const r of [c.lastAdd, c.delAfterLastAdd, c.orphanDel, c.failedAdd, ...c.failed]) keep(r);
    const summaries = new Map<string, CniFact>();
    const ips = [...this.ips.values()].sort((a, b) => a.firstSeen - b.firstSeen);
    for (const s of ips) {
      const slots = keptSlots(s);
      for (const [i, slot] of slots.entries()) {
        if (isFull(i, slots.length)) {
          keep(s.add[slot]);
          keep(s.del[slot]);
          continue;
        }
        const holder = this.holderOf(s.holder[slot]);
        for (const op of ['ADD', 'DEL'] as const) {
          const r = op === 'ADD' ? s.add[slot] : s.del[slot];
          const no = this.store.lineOf(r);
          const key = `${op}${no}`;
          if (kept.has(key) && !summaries.has(key)) continue;
          let f = summaries.get(key);
          if (!f) {
            const source = this.store.factOf(r)?.ev.source ?? this.source!;
            f = {
              kind: 'cniOp', op, containerId: holder.containerId, pod: holder.pod, podNamespace: holder.podNamespace, netnsPath: holder.netnsPath, ips: [], at: this.store.stampOf(r),
              ev: { source, line: no, text: OLDER_CLAIM[op] },
            };
            summaries.set(key, f);
            kept.set(key, f);
          }
          if (op === 'ADD' && !f.ips.includes(s.ip)) f.ips = f.ips.concat(s.ip); // exact size: an array pushed or spread into keeps 17+ slots
        }
      }
    }
    // How many ADDs of each IP were not kept travels on the oldest kept ADD of that IP ("5 of 255", not "5 of 6").
    const keptAdds = new Map<string, CniFact[]>();
    for (const f of kept.values()) if (f.op === 'ADD' && !f.err) for (const ip of f.ips) pushTo(keptAdds, ip, f);
    for (const { ip, adds: total } of ips) {
      const list = keptAdds.get(ip);
      if (!list || total <= list.length) continue;
      const key = `ADD${list.reduce((a, b) => (b.ev.line < a.ev.line ? b : a)).ev.line}`;
      const cur = kept.get(key)!; // an ADD of several IPs gets one count per IP
      const droppedBefore = cur.droppedBefore?.slice() ?? cur.ips.map(() => 0);
      droppedBefore[cur.ips.indexOf(ip)] = total - list.length;
      kept.set(key, { ...cur, droppedBefore });
    }
    return [...kept.values()].sort((a, b) => a.ev.line - b.ev.line || a.op.localeCompare(b.op));
  }
}
