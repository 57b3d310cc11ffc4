import type { Evidence, Fact } from './facts.js';
import { pushAll, pushTo, shortId } from '../util.js';

type CniFact = Extract<Fact, { kind: 'cniOp' }>;

/** Per IP, the released claims kept: enough for "the last holder and the ones before". */
export const CLAIMS_PER_IP = 6;
const FAILED_PER_CONTAINER = 5;

/**
 * A line the ledger keeps: the fact, or, when the parser can read the line again alone (see `reparse`), only its
 * evidence. A fact is about ten objects, its evidence two: at a million lines that is most of the GC's copying.
 */
type Held = CniFact | Evidence;
const isFact = (h: Held): h is CniFact => 'kind' in h;
const evOf = (h: Held): Evidence => (isFact(h) ? h.ev : h);

interface Claim {
  ip: string;
  add: Held;
  addAt: CniFact['at'];
  holder: Holder;
  del?: Held;
  delAt?: CniFact['at'];
}

/** Who held an older claim: shared by every compact claim of one container while its pod and netns stay the same. */
interface Holder {
  containerId: string; // short id
  pod?: string;
  podNamespace?: string;
  netnsPath?: string;
}

/** An older released claim: what "earlier holders" needs, without the log lines (which would keep every line alive). */
interface CompactClaim {
  ip: string;
  holder: Holder;
  source: string;
  addLine: number;
  addAt: CniFact['at'];
  delLine: number;
  delAt: CniFact['at'];
}

/** Of the released claims kept per IP, this many newest keep their full lines as evidence. */
export const FULL_CLAIMS_PER_IP = 2;

/** A copy that does not share memory with the log line it was sliced from (V8 keeps the parent of a slice alive). */
function own(s: string | undefined): string | undefined {
  // Concatenation then slicing flattens into a new string of this length only (shorter strings are copied anyway).
  return s === undefined || s.length < 13 ? s : `${s} `.slice(0, -1);
}

interface ContainerOps {
  lastAdd?: Held;
  delAfterLastAdd?: Held;
  failed: Held[];
  orphanDel?: Held; // a DEL whose ADD is in an earlier file
  failedAdd?: Held;
  open?: Claim[]; // claims of the last ADD not yet released
  holder?: Holder;
}

/** A ledger's content, as passed between threads. */
export interface LedgerState {
  containers: Map<string, ContainerOps>;
  ips: Map<string, IpState>;
  everything: CniFact[];
}

/** Which of `count` ledgers reads a container's lines: by its short id, as the ledger keys containers. */
export function shardOf(containerId: string, count: number): number {
  let h = 0;
  for (let i = 0; i < 12 && i < containerId.length; i++) h = (Math.imul(h, 31) + containerId.charCodeAt(i)) | 0;
  return (h >>> 0) % count;
}

/** Per IP: how many ADDs gave it, and a ring of its last released claims, written in place (no allocation per DEL). */
interface IpState {
  ip: string;
  firstSeen: number; // line * 64 + place in that ADD's list: the order IPs are reported in, whichever thread saw them
  adds: number;
  released: number; // claims ever released; the newest is at (released - 1) % CLAIMS_PER_IP
  ring: (Claim | CompactClaim | undefined)[];
}

/**
 * Reduces one file's CNI ADD/DEL lines while it is read, so that memory holds the model, not the log:
 * every claim never released (the leaks), the last claims of every IP with the DEL that released them, and
 * per container its last ADD, the DEL after it and its last failed DELs. A log is in time order, so "the last N"
 * of one file is exact, and the union over rotated files still holds the last N of all.
 *
 * A million lines pass through here, and whatever is still referenced at the next young-generation GC is copied to
 * the old one: so per line only the facts that stay are referenced, older claims share one Holder per container
 * instead of copies of its strings, and the state per container and per IP is one object updated in place.
 */
export class CniLedger {
  private readonly everything: CniFact[] = [];
  private readonly containers = new Map<string, ContainerOps>();
  private readonly ips = new Map<string, IpState>();

  /** Reads a kept line again into its fact; set when the file's parser keeps no state across lines. */
  private reparse: ((ev: Evidence) => CniFact | undefined) | undefined;

  constructor(private readonly keepAll: boolean) {}

  /** From now on, lines are kept as their evidence and read again by `read` when the facts are asked for. */
  keepLinesOnly(read: (ev: Evidence) => CniFact | undefined): void {
    this.reparse = read;
  }

  push(f: CniFact): void {
    if (this.keepAll) {
      this.everything.push(f);
      return;
    }
    // Evidence cut to 1000 characters could not be read again: such a line keeps its fact.
    const h: Held = this.reparse && !f.ev.text.endsWith('…') ? f.ev : f;
    const id = shortId(f.containerId);
    let c = this.containers.get(id);
    if (!c) this.containers.set(id, (c = { failed: [] }));
    if (f.op === 'ADD') {
      if (f.err) {
        c.failedAdd = h;
        return;
      }
      c.lastAdd = h;
      c.delAfterLastAdd = undefined;
      if (c.failed.length) c.failed = [];
      const claims = c.open ?? (c.open = []);
      const holder = this.holder(c, f);
      f.ips.forEach((ip, k) => {
        claims.push({ ip, add: h, addAt: f.at, holder });
        this.ip(ip, f.ev.line * 64 + Math.min(k, 63)).adds++;
      });
      return;
    }
    if (f.err) {
      c.failed.push(h);
      if (c.failed.length > FAILED_PER_CONTAINER) c.failed.shift();
      return;
    }
    c.delAfterLastAdd = h;
    const claims = c.open;
    if (!claims) {
      c.orphanDel = h;
      return;
    }
    c.open = undefined;
    for (const claim of claims) {
      claim.del = h;
      claim.delAt = f.at;
      const s = this.ip(claim.ip, 0);
      const evicted = s.ring[s.released % CLAIMS_PER_IP];
      s.ring[s.released % CLAIMS_PER_IP] = claim;
      s.released++;
      // The claim that just left the newest FULL_CLAIMS_PER_IP keeps only its summary, in the object of the summary
      // just evicted: a busy IP's ring allocates nothing once full.
      const older = s.released - 1 - FULL_CLAIMS_PER_IP;
      const slot = older % CLAIMS_PER_IP;
      const o = older >= 0 ? s.ring[slot] : undefined;
      if (o && 'add' in o) s.ring[slot] = this.compact(o, s.ip, evicted && !('add' in evicted) ? evicted : undefined);
    }
  }

  private ip(ip: string, seen: number): IpState {
    let s = this.ips.get(ip);
    if (!s) this.ips.set(ip, (s = { ip: own(ip)!, firstSeen: seen, adds: 0, released: 0, ring: new Array(CLAIMS_PER_IP).fill(undefined) }));
    return s;
  }

  /** What this ledger holds, for another thread's ledger to absorb (structured-clonable). */
  state(): LedgerState {
    return { containers: this.containers, ips: this.ips, everything: this.everything };
  }

  /**
   * Takes in the state of a ledger that read the same file's other lines, split by container (shardOf): the union is
   * exactly what one ledger reading every line would hold. Containers are disjoint; per IP the counts add up, and the
   * last CLAIMS_PER_IP releases of the union are the last of the two rings merged by their DEL line (the newest
   * FULL_CLAIMS_PER_IP of the union are among each ring's newest, which are still full).
   */
  absorb(other: LedgerState): void {
    pushAll(this.everything, other.everything);
    for (const [id, ops] of other.containers) {
      if (this.containers.has(id)) throw new Error(`CNI ledger shards overlap on container ${id}: lines were not split by container`);
      this.containers.set(id, ops);
    }
    for (const [ip, theirs] of other.ips) {
      const mine = this.ips.get(ip);
      if (!mine) {
        this.ips.set(ip, theirs);
        continue;
      }
      const kept = (s: IpState) => Array.from({ length: Math.min(s.released, CLAIMS_PER_IP) }, (_, i) => s.ring[(s.released - Math.min(s.released, CLAIMS_PER_IP) + i) % CLAIMS_PER_IP]!);
      const delLine = (c: Claim | CompactClaim) => ('add' in c ? evOf(c.del!).line : c.delLine);
      const merged = [...kept(mine), ...kept(theirs)].sort((a, b) => delLine(a) - delLine(b)).slice(-CLAIMS_PER_IP);
      mine.adds += theirs.adds;
      mine.firstSeen = Math.min(mine.firstSeen, theirs.firstSeen);
      mine.released += theirs.released;
      mine.ring.fill(undefined);
      merged.forEach((c, i) => {
        const k = mine.released - merged.length + i;
        mine.ring[k % CLAIMS_PER_IP] = 'add' in c && i < merged.length - FULL_CLAIMS_PER_IP ? this.compact(c, mine.ip) : c;
      });
    }
  }

  /** The container's holder, new only when its pod or netns changed: older claims share it instead of copies of their strings. */
  private holder(c: ContainerOps, add: CniFact): Holder {
    const h = c.holder;
    if (h && h.pod === add.pod && h.podNamespace === add.podNamespace && h.netnsPath === add.netnsPath) return h;
    return (c.holder = { containerId: add.containerId.slice(0, 12), pod: own(add.pod), podNamespace: own(add.podNamespace), netnsPath: own(add.netnsPath) });
  }

  private compact(claim: Claim, ip: string, reuse?: CompactClaim): CompactClaim {
    const add = evOf(claim.add);
    const c = reuse ?? ({} as CompactClaim);
    c.ip = ip;
    c.holder = claim.holder;
    c.source = add.source;
    c.addLine = add.line;
    c.addAt = claim.addAt;
    c.delLine = evOf(claim.del!).line;
    c.delAt = claim.delAt!;
    return c;
  }

  /** A kept line as its fact. */
  private fact(h: Held): CniFact | undefined {
    return isFact(h) ? h : this.reparse!(h);
  }

  /** The kept lines, in file order. */
  facts(): CniFact[] {
    if (this.keepAll) return this.everything;
    // One fact per line: a line kept in full (an open claim, a container's last ADD) wins over an older claim's summary.
    const kept = new Map<string, CniFact>();
    const keep = (h: Held) => {
      const f = this.fact(h);
      if (!f) return;
      const key = `${f.op}${f.ev.line}`;
      const had = kept.get(key);
      if (!had || had.ev.text.startsWith('(')) kept.set(key, f);
    };
    for (const c of this.containers.values()) for (const k of c.open ?? []) keep(k.add);
    for (const c of this.containers.values()) for (const f of [c.lastAdd, c.delAfterLastAdd, c.orphanDel, c.failedAdd, ...c.failed]) if (f) keep(f);
    const summaries = new Map<string, CniFact>();
    const ips = [...this.ips.values()].sort((a, b) => a.firstSeen - b.firstSeen);
    for (const s of ips)
      for (let k = Math.max(0, s.released - CLAIMS_PER_IP); k < s.released; k++) {
        const c = s.ring[k % CLAIMS_PER_IP]!;
        if ('add' in c) {
          keep(c.add);
          if (c.del) keep(c.del);
          continue;
        }
        for (const op of ['ADD', 'DEL'] as const) {
          const no = op === 'ADD' ? c.addLine : c.delLine;
          const key = `${op}${no}`;
          if (kept.has(key) && !summaries.has(key)) continue;
          let f = summaries.get(key);
          if (!f) {
            f = {
              kind: 'cniOp', op, containerId: c.holder.containerId, pod: c.holder.pod, podNamespace: c.holder.podNamespace, netnsPath: c.holder.netnsPath, ips: [], at: op === 'ADD' ? c.addAt : c.delAt,
              ev: { source: c.source, line: no, text: `(${op} of ${c.ip} by ${c.holder.containerId}: an older claim of this address, kept without its log line)` },
            };
            summaries.set(key, f);
            kept.set(key, f);
          }
          if (op === 'ADD' && !f.ips.includes(c.ip)) f.ips.push(c.ip);
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
      kept.set(key, { ...cur, droppedBefore: { ...cur.droppedBefore, [ip]: total - list.length } });
    }
    return [...kept.values()].sort((a, b) => a.ev.line - b.ev.line || a.op.localeCompare(b.op));
  }
}
