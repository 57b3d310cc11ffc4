import { jsonObj as obj, parseFirstJson } from '../src/recognise/json.js';
import { defineParser, wholeText } from '../src/recognise/parser.js';

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
        if (pid !== undefined && pid > 0) ctx.emit({ kind: 'nsLink', pid, ns: 'net', inode, ev });
        if (pid !== undefined && pid > 0 && typeof e.command === 'string') ctx.emit({ kind: 'process', pid, ppid: typeof e.ppid === 'number' ? e.ppid : undefined, comm: e.command, ev });
        // Seen from lsns's own mount namespace, which is the host's when it ran from a host shell.
        if (typeof e.nsfs === 'string')
          for (const path of e.nsfs.split('\n').map((p) => p.trim()).filter((p) => p.startsWith('/')))
            ctx.emit({ kind: 'nsMount', pid: 1, path, ns: 'net', inode, fstype: 'nsfs', propagation: '', ev });
      }
    });
  },
});
