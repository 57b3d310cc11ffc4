import { jsonObj as obj, parseFirstJson } from '../src/recognise/json.js';
import { defineParser, wholeText } from '../src/recognise/parser.js';

// `lsfd --json` (util-linux ≥ 2.38): {"lsfd":[{"command":"sleep","pid":8873,"assoc":"7","type":"REG","source":"nsfs",
//   "inode":4026532177,"name":"/run/netns/fxtest"}, …]}. A file on nsfs with a numeric assoc is an open fd on a namespace;
// "assoc":"net" is the process's own ns/net link. 2.38 prints the path (or "net:[N]"); newer versions add "ns.type".
export default defineParser({
  id: 'lsfd-json',
  describe: '`lsfd --json`: open fds on namespace files (who holds a netns open) and each process\'s own netns',
  collect: "lsfd --json -Q 'SOURCE == \"nsfs\"'",
  recognise: { command: /^lsfd\b/, sniff: (h) => /^\s*\{\s*"lsfd"\s*:\s*\[/.test(h) },
  open(ctx) {
    return wholeText(ctx, (text, first) => {
      const parsed = parseFirstJson(text);
      if ('error' in parsed) return ctx.warn(first, `lsfd output is not JSON: ${parsed.error}`);
      const list = obj(parsed.value)?.lsfd;
      if (!Array.isArray(list)) return ctx.warn(first, 'lsfd JSON has no "lsfd" array');
      for (const item of list) {
        const e = obj(item);
        if (!e) continue;
        const onNsfs = e.source === 'nsfs' || e.type === 'nsfs' || (typeof e.source === 'string' && e.source.startsWith('nsfs'));
        const pid = typeof e.pid === 'number' ? e.pid : undefined;
        const inode = typeof e.inode === 'number' || typeof e.inode === 'string' ? String(e.inode) : undefined;
        const assoc = typeof e.assoc === 'string' ? e.assoc : typeof e.assoc === 'number' ? String(e.assoc) : '';
        if (!onNsfs || pid === undefined || !inode || !/^\d+$/.test(inode)) continue;
        const name = typeof e.name === 'string' ? e.name : '';
        const nsType = typeof e['ns.type'] === 'string' ? (e['ns.type'] as string) : /^(\w+):\[\d+\]$/.exec(name)?.[1];
        const ev = ctx.evidence(first, `lsfd: pid ${pid} (${String(e.command ?? '?')}) ${assoc} -> ${name || `inode ${inode}`} [nsfs inode ${inode}]`);
        if (assoc === 'net') ctx.emit({ kind: 'nsLink', pid, ns: 'net', inode, ev });
        else if (assoc === 'mnt') ctx.emit({ kind: 'nsLink', pid, ns: 'mnt', inode, ev });
        // An fd whose namespace type lsfd did not print ("/run/netns/x"): "nsfs" until the model matches the inode to a netns.
        else if (/^\d+$/.test(assoc)) ctx.emit({ kind: 'fdLink', pid, fd: Number(assoc), ns: nsType ?? 'nsfs', inode, ev });
      }
    });
  },
});
