import type { Fact } from './facts.js';
import { pushTo, shortId } from '../util.js';

type CniFact = Extract<Fact, { kind: 'cniOp' }>;

/** Per IP, the released claims kept: enough for "the last holder and the ones before". */
export const CLAIMS_PER_IP = 6;
const FAILED_PER_CONTAINER = 5;

interface Claim {
  ip: string;
  add: CniFact;
  del?: CniFact;
}

/** An older released claim: what "earlier holders" needs, without the log lines (which would keep every line alive). */
interface CompactClaim {
  ip: string;
  containerId: string;
  pod?: string;
  podNamespace?: string;
  netnsPath?: string;
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

function compact(c: Claim): CompactClaim {
  return {
    ip: own(c.ip)!,
    containerId: c.add.containerId.slice(0, 12),
    pod: own(c.add.pod),
    podNamespace: own(c.add.podNamespace),
    netnsPath: own(c.add.netnsPath),
    source: c.add.ev.source,
    addLine: c.add.ev.line,
    addAt: c.add.at,
    delLine: c.del!.ev.line,
    delAt: c.del!.at,
  };
}

interface ContainerOps {
  lastAdd?: CniFact;
  delAfterLastAdd?: CniFact;
  failed: CniFact[];
  orphanDel?: CniFact; // a DEL whose ADD is in an earlier file
  failedAdd?: CniFact;
}

/**
 * Reduces one file's CNI ADD/DEL lines while it is read, so that memory holds the model, not the log:
 * every claim never released (the leaks), the last claims of every IP with the DEL that released them, and
 * per container its last ADD, the DEL after it and its last failed DELs. A log is in time order, so "the last N"
 * of one file is exact, and the union over rotated files still holds the last N of all.
 */
export class CniLedger {
  private readonly everything: CniFact[] = [];
  private readonly open = new Map<string, Claim[]>();
  private readonly released = new Map<string, (Claim | CompactClaim)[]>();
  private readonly containers = new Map<string, ContainerOps>();
  private readonly adds = new Map<string, number>(); // per IP: every successful ADD that gave it

  constructor(private readonly keepAll: boolean) {}

  push(f: CniFact): void {
    if (this.keepAll) {
      this.everything.push(f);
      return;
    }
    const id = shortId(f.containerId);
    let c = this.containers.get(id);
    if (!c) this.containers.set(id, (c = { failed: [] }));
    if (f.op === 'ADD') {
      if (f.err) {
        c.failedAdd = f;
        return;
      }
      c.lastAdd = f;
      c.delAfterLastAdd = undefined;
      if (c.failed.length) c.failed = [];
      const claims = this.open.get(id) ?? [];
      for (const ip of f.ips) {
        claims.push({ ip, add: f });
        this.adds.set(ip, (this.adds.get(ip) ?? 0) + 1);
      }
      this.open.set(id, claims);
      return;
    }
    if (f.err) {
      c.failed.push(f);
      if (c.failed.length > FAILED_PER_CONTAINER) c.failed.shift();
      return;
    }
    c.delAfterLastAdd = f;
    const claims = this.open.get(id);
    if (!claims) {
      c.orphanDel = f;
      return;
    }
    this.open.delete(id);
    for (const claim of claims) {
      claim.del = f;
      let ring = this.released.get(claim.ip);
      if (!ring) this.released.set(claim.ip, (ring = []));
      ring.push(claim);
      if (ring.length > CLAIMS_PER_IP) ring.shift();
      const older = ring.length - 1 - FULL_CLAIMS_PER_IP;
      if (older >= 0 && 'add' in ring[older]) ring[older] = compact(ring[older] as Claim);
    }
  }

  /** The kept lines, in file order. */
  facts(): CniFact[] {
    if (this.keepAll) return this.everything;
    // One fact per line: a line kept in full (an open claim, a container's last ADD) wins over an older claim's summary.
    const kept = new Map<string, CniFact>();
    const keep = (f: CniFact) => {
      const key = `${f.op}${f.ev.line}`;
      const had = kept.get(key);
      if (!had || had.ev.text.startsWith('(')) kept.set(key, f);
    };
    for (const claims of this.open.values()) for (const c of claims) keep(c.add);
    for (const c of this.containers.values()) for (const f of [c.lastAdd, c.delAfterLastAdd, c.orphanDel, c.failedAdd, ...c.failed]) if (f) keep(f);
    const summaries = new Map<string, CniFact>();
    for (const ring of this.released.values())
      for (const c of ring) {
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
              kind: 'cniOp', op, containerId: c.containerId, pod: c.pod, podNamespace: c.podNamespace, netnsPath: c.netnsPath, ips: [], at: op === 'ADD' ? c.addAt : c.delAt,
              ev: { source: c.source, line: no, text: `(${op} of ${c.ip} by ${c.containerId}: an older claim of this address, kept without its log line)` },
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
    for (const [ip, total] of this.adds) {
      const list = keptAdds.get(ip);
      if (!list || total <= list.length) continue;
      const key = `ADD${list.reduce((a, b) => (b.ev.line < a.ev.line ? b : a)).ev.line}`;
      const cur = kept.get(key)!; // an ADD of several IPs gets one count per IP
      kept.set(key, { ...cur, droppedBefore: { ...cur.droppedBefore, [ip]: total - list.length } });
    }
    return [...kept.values()].sort((a, b) => a.ev.line - b.ev.line || a.op.localeCompare(b.op));
  }
}
