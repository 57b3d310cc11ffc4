import type { IfAddr, Link } from '../src/model/facts.js';
import { parseFirstJson } from '../src/recognise/json.js';
import { defineParser, wholeText } from '../src/recognise/parser.js';
import { viewLocation } from './ip-addr.js';

interface JsonAddr { family?: string; local?: string; prefixlen?: number; scope?: string; label?: string }
interface JsonLink {
  ifindex?: number; ifname?: string; link_index?: number; link_netnsid?: number; flags?: string[]; address?: string; link_type?: string;
  linkinfo?: { info_kind?: string }; addr_info?: JsonAddr[];
}

export default defineParser({
  id: 'ip-addr-json',
  locatesNetns: true,
  describe: '`ip -j addr` / `ip -j -d link`: the JSON form of the same views',
  collect: 'ip -j -d addr',
  recognise: {
    command: /^ip\s+(?:-\w+\s+)*-j(?:son)?\b/,
    sniff: (h) => /^\s*\[\s*\{\s*"ifindex"\s*:/.test(h),
  },
  open(ctx) {
    return wholeText(ctx, (text, firstLine) => {
      const parsed = parseFirstJson(text);
      if ('error' in parsed) return ctx.warn(firstLine, `invalid JSON from ip -j: ${parsed.error}`);
      if (parsed.trailing) ctx.warn(firstLine, 'text after the ip -j JSON document ignored');
      const doc = parsed.value;
      if (!Array.isArray(doc)) return ctx.warn(firstLine, 'ip -j output is not an array');
      const ev = ctx.evidence(firstLine, text.length > 200 ? `${text.slice(0, 200)}…` : text);
      const links: Link[] = [];
      for (const raw of doc as JsonLink[]) {
        if (!raw || typeof raw.ifindex !== 'number' || typeof raw.ifname !== 'string') continue;
        const addrs: IfAddr[] = [];
        for (const a of Array.isArray(raw.addr_info) ? raw.addr_info : []) {
          if (!a || typeof a !== 'object') continue;
          if (typeof a.local !== 'string' || (a.family !== 'inet' && a.family !== 'inet6')) continue;
          const family = a.family === 'inet' ? 4 : 6;
          addrs.push({ ip: a.local, prefix: typeof a.prefixlen === 'number' ? a.prefixlen : family === 4 ? 32 : 128, family, scope: typeof a.scope === 'string' ? a.scope : 'global', label: typeof a.label === 'string' ? a.label : undefined, ev: ctx.evidence(firstLine, `${raw.ifname}: ${a.family} ${a.local}/${a.prefixlen} scope ${a.scope}`) });
        }
        links.push({
          ifindex: raw.ifindex,
          name: raw.ifname,
          peerIfindex: typeof raw.link_index === 'number' ? raw.link_index : undefined,
          linkNetnsid: typeof raw.link_netnsid === 'number' ? raw.link_netnsid : undefined,
          flags: Array.isArray(raw.flags) ? raw.flags.filter((f): f is string => typeof f === 'string') : [],
          mac: raw.link_type === 'ether' && typeof raw.address === 'string' ? raw.address : undefined,
          type: typeof raw.linkinfo?.info_kind === 'string' ? raw.linkinfo.info_kind : undefined,
          addrs,
          ev: ctx.evidence(firstLine, `${raw.ifindex}: ${raw.ifname}`),
        });
      }
      if (links.length) ctx.emit({ kind: 'netnsView', where: viewLocation(ctx), links, ev });
    });
  },
});
