import { defineParser } from '../src/recognise/parser.js';
import { viewLocation } from './ip-addr.js';

// The neighbour (ARP/NDP) table: which MAC answered last for an address, as this namespace sees it.
//   ip neigh:  10.88.0.7 dev podman0 lladdr ba:41:7f:02:e9:c6 STALE      (router, PERMANENT, FAILED without lladdr…)
//   arp -an:   ? (10.88.0.7) at ba:41:7f:02:e9:c6 [ether] on podman0      (<incomplete> when unanswered)
const NEIGH = /^(\S+)\s+dev\s+(\S+)(?:\s+lladdr\s+([0-9a-fA-F:]{11,}))?(?:\s+(?:router|proxy|extern_learn))*(?:\s+([A-Z_]+(?:,[A-Z_]+)*))?\s*$/;
const ARP = /^\S+ \(([^)]+)\) at (\S+)(?: \[\w+\])?(?: \S+)* on (\S+)\s*$/;
const ADDR = /^(?:\d{1,3}(?:\.\d{1,3}){3}|[0-9a-fA-F:]*:[0-9a-fA-F:.]+)$/;

function looksLikeNeighbors(head: string): boolean {
  const lines = head.split('\n').filter((l) => l.trim()).slice(0, 5);
  return lines.length > 0 && lines.every((l) => (NEIGH.test(l) && ADDR.test(l.split(/\s/)[0])) || ARP.test(l));
}

export default defineParser({
  id: 'ip-neigh',
  locatesNetns: true,
  describe: '`ip neigh` and `arp -an`: the MAC each address last answered from, in the namespace the table was taken in',
  collect: 'ip neigh   (inside a namespace: nsenter -t <pid> -n ip neigh; forensics collect takes every namespace\'s)',
  recognise: {
    path: /(?:^|\/)(?:ip-neigh(?:bou?r)?|arp)[^/]*$/,
    command: /^(?:ip\s+(?:-\w+\s+)*n(?:e(?:i(?:gh(?:bou?r)?)?)?)?(?:\s+(?:show|list|ls)\b.*)?\s*$|arp\s+-\w*n)/,
    head: (h) => looksLikeNeighbors(h),
    sniff: (h) => looksLikeNeighbors(h),
  },
  open(ctx) {
    const where = viewLocation(ctx);
    return {
      line(text, no) {
        const n = NEIGH.exec(text);
        const a = n ? undefined : ARP.exec(text);
        const ip = n?.[1] ?? a?.[1];
        if (!ip || !ADDR.test(ip)) return;
        const mac = (n ? n[3] : a && /^[0-9a-fA-F:]{11,}$/.test(a[2]) ? a[2] : undefined)?.toLowerCase();
        ctx.emit({ kind: 'neighbor', ip, mac, dev: (n?.[2] ?? a?.[3])!, state: n ? n[4] : mac ? undefined : 'INCOMPLETE', where, ev: ctx.evidence(no, text) });
      },
      end() {},
    };
  },
});
