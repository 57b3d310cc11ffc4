import { jsonObj as obj, parseFirstJson } from '../src/recognise/json.js';
import { defineParser, mountReader, type ParseContext, wholeText } from '../src/recognise/parser.js';
import { type Evidence, normalisePath } from '../src/model/facts.js';

/**
 * The facts of one network namespace lsns lists, as JSON or as a table: a process in it, that process, and where
 * the namespace is bind-mounted, seen from lsns's own mount namespace (the host's from a host shell).
 */
export function lsnsRow(
  ctx: Pick<ParseContext, 'emit' | 'command'>,
  row: { inode: string; pid?: number; ppid?: number; command?: { comm: string } | { args: string }; nsfs: string[] },
  ev: Evidence,
): void {
  if (row.pid !== undefined && row.pid > 0) {
    ctx.emit({ kind: 'nsLink', pid: row.pid, ns: 'net', inode: row.inode, ev });
    if (row.command) ctx.emit({ kind: 'process', pid: row.pid, ppid: row.ppid, ...row.command, ev });
  }
  for (const path of row.nsfs.map((p) => p.trim()).filter((p) => p.startsWith('/')))
    ctx.emit({ kind: 'nsMount', pid: mountReader(ctx), path: normalisePath(path), ns: 'net', inode: row.inode, fstype: 'nsfs', propagation: '', ev });
}

// `lsns --json -t net` (util-linux): {"namespaces":[{"ns":4026531833,"type":"net","nprocs":66,"pid":2,"netnsid":…,"nsfs":…,"command":…}]}
// "ns" is a number (a string in some versions); "nsfs" is null, a path, or several paths separated by newlines; newer
// versions also list namespaces held only by a mount or fd, with nprocs 0 and pid null.
export default defineParser({
  id: 'lsns-json',
  describe: '`lsns --json -t net`: each network namespace with a process in it (pid), and where it is bind-mounted (nsfs)',
  collect: 'lsns --json -t net -o NS,TYPE,NPROCS,PID,PPID,COMMAND,NETNSID,NSFS',
  recognise: { command: /^lsns\b.*(?:\s-\w*J\w*\b|--json)/, sniff: (h) => /^\s*\{\s*"namespaces"\s*:\s*\[/.test(h) },
  open(ctx) {
    return wholeText(ctx, (text, first) => {
      const parsed = parseFirstJson(text);
      if ('error' in parsed) return ctx.warn(first, `lsns output is not JSON: ${parsed.error}`);
      const list = obj(parsed.value)?.namespaces;
      if (!Array.isArray(list)) return ctx.warn(first, 'lsns JSON has no "namespaces" array');
      const lines = text.split('\n');
      for (const item of list) {
        const e = obj(item);
        if (!e || (e.type !== undefined && e.type !== 'net')) continue;
        const inode = typeof e.ns === 'number' || typeof e.ns === 'string' ? String(e.ns) : undefined;
        if (!inode || !/^\d+$/.test(inode)) continue;
        const at = lines.findIndex((l) => l.includes(`"ns": ${inode}`) || l.includes(`"ns":${inode}`) || l.includes(`"ns": "${inode}"`));
        const ev = ctx.evidence(first + Math.max(at, 0), `lsns: net:[${inode}] nprocs=${String(e.nprocs ?? '?')} pid=${String(e.pid ?? '-')} command=${String(e.command ?? '-')} nsfs=${String(e.nsfs ?? '-')}`);
        const pid = typeof e.pid === 'number' ? e.pid : typeof e.pid === 'string' && /^\d+$/.test(e.pid) ? Number(e.pid) : undefined;
        const nsfs = typeof e.nsfs === 'string' ? e.nsfs.split('\n') : [];
        lsnsRow(ctx, { inode, pid, ppid: typeof e.ppid === 'number' ? e.ppid : undefined, command: typeof e.command === 'string' ? { comm: e.command } : undefined, nsfs }, ev);
      }
    });
  },
});
