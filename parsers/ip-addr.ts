import type { IfAddr, Link, NetnsRef } from '../src/model/facts.js';
import { defineParser, type ParseContext } from '../src/recognise/parser.js';

// "4032: eth0@if4033: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc noqueue state UP …"
const LINK = /^(\d+): ([^:@\s]+)(?:@([^:\s]+))?: <([^>]*)>/;
const LINK_LAYER = /^\s+link\/(\S+)(?: (\S+))?(?: brd \S+)?(?: link-netns (\S+)| link-netnsid (\d+))?/;
// "inet 10.2.1.15/24 [peer P] [metric N] [brd B] scope global [dynamic …] label"
const ADDR = /^\s+inet(6?) ([0-9a-fA-F.:]+)(?:\/(\d+))?(?: (?:peer|metric|brd) \S+)* scope (\S+)(.*)$/;
// `ip -all netns exec …` prints this before each named namespace's output.
const NETNS_HEADING = /^netns: (\S+)\s*$/;
const DETAIL_KIND = /^\s+(veth|bridge|ipip|macvlan|ipvlan|vxlan|dummy|bond|vlan|tun|geneve|wireguard|bridge_slave)\b/;
// `ip -br addr` (-brief): "eth0@if10        UP             10.224.0.39/16 fe80::fc86:5dff:fe18:989/64", one line a link,
// no ifindex. `ip -br link` puts the MAC and flags where the addresses go.
const BRIEF = /^([^\s@]+)(?:@(\S+))?\s+(UP|DOWN|UNKNOWN|LOWERLAYERDOWN|DORMANT|NOTPRESENT|TESTING)\b\s*(.*)$/;
const BRIEF_ADDR = /^([0-9a-fA-F.:]+)(?:\/(\d+))?$/;

/** The scope `ip` would print for an address that `-br` shows without one. */
function briefScope(ip: string, family: 4 | 6): string {
  if (family === 4) return ip.startsWith('127.') ? 'host' : 'global';
  const low = ip.toLowerCase();
  return low === '::1' ? 'host' : /^fe[89ab]/.test(low) ? 'link' : 'global';
}

/** The namespace a view was taken in: the transcript's command prefix, a collector path, or the host. */
export function viewLocation(ctx: ParseContext): NetnsRef {
  if (ctx.command?.netns) return ctx.command.netns;
  const m = /(?:^|\/)netns\/(?:net:\[)?(\d{6,})\]?\//.exec(ctx.path);
  if (m) return { kind: 'inode', inode: m[1] };
  return { kind: 'host' };
}

export function peerIndex(at: string | undefined): number | undefined {
  const m = at ? /^if(\d+)$/.exec(at) : null;
  return m ? Number(m[1]) : undefined;
}

export default defineParser({
  id: 'ip-addr',
  locatesNetns: true,
  describe: '`ip addr`, `ip -d addr`, `ip -br addr`, `ip link`: interfaces, addresses and veth peers of one network namespace (or of each, from `ip -all netns exec ip -d addr`)',
  collect: 'ip -d addr   (inside a namespace: nsenter -t <pid> -n ip -d addr)',
  recognise: {
    command: /^ip\s+(?:-\w+\s+)*(?:a|ad|addr|address|l|li|link)\b/,
    // Its first line, or the first of `ip -all netns exec ip addr` ("netns: NAME", then the links).
    sniff: (h) => {
      const lines = h.split('\n').filter((l) => l.trim());
      const at = NETNS_HEADING.test(lines[0] ?? '') ? 1 : 0;
      return /^\d+: [^:\s]+: <[A-Z0-9_,-]*> mtu \d+/.test(lines[at] ?? '') || /^lo\s+UNKNOWN\s+(?:127\.0\.0\.1\/8|00:00:00:00:00:00)\b/.test(lines[at] ?? '');
    },
  },
  open(ctx) {
    let links: Link[] = [];
    let cur: Link | undefined;
    let brief = false; // this part is `ip -br` output
    let sawLinkLayer = false;
    let first = 0;
    let firstText = '';
    // `ip -all netns exec ip addr` heads each namespace's part with "netns: NAME"; before the first, nothing is known.
    let where: NetnsRef | undefined = ctx.command?.eachNetns ? undefined : viewLocation(ctx);
    const flush = () => {
      if (links.length && where) ctx.emit({ kind: 'netnsView', where, links, ev: ctx.evidence(first, firstText) });
      links = [];
      cur = undefined;
      brief = false;
      first = 0;
    };
    return {
      line(text, no) {
        const named = NETNS_HEADING.exec(text);
        if (named) {
          flush();
          where = { kind: 'path', path: `/run/netns/${named[1]}`, viaPid: ctx.command?.netns?.kind === 'path' ? ctx.command.netns.viaPid : undefined };
          return;
        }
        const l = LINK.exec(text);
        if (l) {
          if (!first) {
            first = no;
            firstText = text;
          }
          cur = { ifindex: Number(l[1]), name: l[2], peerIfindex: peerIndex(l[3]), flags: l[4].split(',').filter(Boolean), addrs: [], ev: ctx.evidence(no, text) };
          links.push(cur);
          sawLinkLayer = false;
          brief = false;
          return;
        }
        if (!cur || brief) {
          // Not the long form: a `-br` line, when nothing of the long form came before it in this part.
          const b = BRIEF.exec(text);
          if (!b) return;
          brief = true;
          if (!first) {
            first = no;
            firstText = text;
          }
          const addrs: IfAddr[] = [];
          for (const word of b[4].split(/\s+/)) {
            const a = BRIEF_ADDR.exec(word);
            if (!a || !/[.:]/.test(a[1]) || (!a[1].includes('.') && !a[2] && !a[1].includes('::'))) continue; // a MAC is not an address
            const f = a[1].includes(':') ? 6 : 4;
            addrs.push({ ip: a[1], prefix: a[2] ? Number(a[2]) : f === 4 ? 32 : 128, family: f, scope: briefScope(a[1], f), ev: ctx.evidence(no, text) });
          }
          const flags = b[3] === 'UP' ? ['UP', 'LOWER_UP'] : b[3] === 'UNKNOWN' ? ['UP'] : [];
          // -br prints no ifindex: 0 matches no peer's "@ifN" (N >= 1), so no veth pair is made up from it.
          cur = { ifindex: 0, name: b[1], peerIfindex: peerIndex(b[2]), flags, addrs, ev: ctx.evidence(no, text) };
          links.push(cur);
          return;
        }
        const ll = sawLinkLayer ? null : LINK_LAYER.exec(text);
        if (ll) {
          sawLinkLayer = true;
          if (ll[1] === 'ether') cur.mac = ll[2];
          else if (!cur.type && ll[1] !== 'loopback') cur.type = ll[1];
          if (ll[3]) cur.linkNetns = ll[3];
          if (ll[4]) cur.linkNetnsid = Number(ll[4]);
          return;
        }
        const a = ADDR.exec(text);
        if (a) {
          const family = a[1] ? 6 : 4;
          const rest = a[5].trim().split(/\s+/).filter((w) => !['secondary', 'dynamic', 'noprefixroute', 'tentative', 'deprecated', 'dadfailed', 'temporary', 'mngtmpaddr', 'nodad', 'optimistic', 'home', 'stable-privacy'].includes(w));
          const addr: IfAddr = { ip: a[2], prefix: a[3] ? Number(a[3]) : family === 4 ? 32 : 128, family, scope: a[4], ev: ctx.evidence(no, text) };
          if (rest.length && family === 4) addr.label = rest[rest.length - 1];
          cur.addrs.push(addr);
          return;
        }
        const d = DETAIL_KIND.exec(text);
        if (d && d[1] !== 'bridge_slave') cur.type = d[1];
      },
      end() {
        flush();
      },
    };
  },
});
