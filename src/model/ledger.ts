import type { Fact } from './facts.js';
import { shortId } from '../util.js';

type CniFact = Extract<Fact, { kind: 'cniOp' }>;

/** Per IP, the released claims kept: enough for "the last holder and the ones before". */
export const CLAIMS_PER_IP = 6;
const FAILED_PER_CONTAINER = 5;

interface Claim {
  ip: string;
  add: CniFact;
  del?: CniFact;
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
  private readonly released = new Map<string, Claim[]>();
  private readonly containers = new Map<string, ContainerOps>();

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
      for (const ip of f.ips) claims.push({ ip, add: f });
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
      const ring = this.released.get(claim.ip) ?? [];
      ring.push(claim);
      if (ring.length > CLAIMS_PER_IP) ring.shift();
      this.released.set(claim.ip, ring);
    }
  }

  /** The kept lines, in file order. */
  facts(): CniFact[] {
    if (this.keepAll) return this.everything;
    const kept = new Set<CniFact>();
    for (const claims of this.open.values()) for (const c of claims) kept.add(c.add);
    for (const ring of this.released.values())
      for (const c of ring) {
        kept.add(c.add);
        if (c.del) kept.add(c.del);
      }
    for (const c of this.containers.values()) for (const f of [c.lastAdd, c.delAfterLastAdd, c.orphanDel, c.failedAdd, ...c.failed]) if (f) kept.add(f);
    return [...kept].sort((a, b) => a.ev.line - b.ev.line);
  }
}
