import { normalisePath, parseNsTarget } from '../src/model/facts.js';
import { anyWord, defineParser, pidFromPath } from '../src/recognise/parser.js';

const NSFS = ' - nsfs ';
const PROC = ' - proc ';

// "36 35 98:0 /mnt1 /mnt2 rw,noatime master:1 - ext3 /dev/root rw" — man 5 proc_pid_mountinfo
const LINE = /^\d+ \d+ \d+:\d+ \S+ \S+ \S+(?: \S+)* - \S+ \S+/;
// `awk '… {print FILENAME,$0}' /proc/*/mountinfo` or `grep nsfs /proc/*/mountinfo`
const PREFIX = /^\/proc\/(\d+)\/mountinfo[: ]/;

export function unescapeMountPath(p: string): string {
  return p.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
}

export interface MountinfoNs {
  path: string;
  ns: string;
  inode?: string;
  fstype: string;
  propagation: string;
}

/** Parses one mountinfo line; returns only namespace mounts (nsfs, or pre-3.19 procfs netns bind mounts). */
export function parseNsMountLine(line: string): MountinfoNs | undefined | null {
  // Cheap filter first: most lines of a big mount table are neither.
  if (!line.includes(' nsfs ') && !line.includes(' proc ')) return null;
  const f = line.split(' ');
  let sep = -1;
  for (let i = 6; i < f.length; i++) {
    if (f[i] === '-') {
      sep = i;
      break;
    }
  }
  if (sep < 0 || sep + 1 >= f.length) return undefined;
  const fstype = f[sep + 1];
  const root = f[3];
  const path = normalisePath(unescapeMountPath(f[4]));
  const propagation = f.slice(6, sep).join(' ');
  if (fstype === 'nsfs') {
    const t = parseNsTarget(root);
    if (!t) return undefined;
    return { path, ns: t.ns, inode: t.inode, fstype, propagation };
  }
  // Before kernel 3.19 a bind-mounted ns file shows as fstype "proc"; its root may name the namespace, else only the mount point tells.
  if (fstype === 'proc' && path !== '/proc' && !path.startsWith('/proc/')) {
    const t = parseNsTarget(root);
    if (t) return { path, ns: t.ns, inode: t.inode, fstype, propagation };
    if (/\/netns\/[^/]+$/.test(path)) return { path, ns: 'net', fstype, propagation };
  }
  return null;
}

export default defineParser({
  id: 'mountinfo',
  describe: "/proc/<pid>/mountinfo, and `awk '$9 == \"nsfs\" {print FILENAME,$0}' /proc/*/mountinfo` / `grep nsfs /proc/*/mountinfo` outputs",
  collect: "awk '$9 == \"nsfs\" || $9 == \"proc\" {print FILENAME,$0}' /proc/*/mountinfo",
  recognise: {
    path: /(?:^|\/)mountinfo$/,
    head: (h) => LINE.test(h.split('\n')[0]),
    sniff: (h) => {
      const first = h.split('\n')[0];
      return PREFIX.test(first) && LINE.test(first.replace(PREFIX, ''));
    },
  },
  open(ctx) {
    const filePid = pidFromPath(ctx.command?.pathHint ?? ctx.path);
    return {
      // Thousands of lines per table, a handful of namespace mounts: test the bytes before decoding.
      accepts: anyWord([NSFS, PROC]),
      line(text, no) {
        let body = text;
        let pid = filePid;
        const m = PREFIX.exec(text);
        if (m) {
          pid = Number(m[1]);
          body = text.slice(m[0].length);
        }
        const mount = parseNsMountLine(body);
        if (mount === null) return;
        if (mount === undefined) return ctx.warn(no, 'malformed mountinfo line');
        if (mount.ns !== 'net') return;
        if (pid === undefined) return ctx.warn(no, 'nsfs mount with no pid: the file path or line prefix must name /proc/<pid>/mountinfo');
        ctx.emit({ kind: 'nsMount', pid, ...mount, ev: ctx.evidence(no, text) });
      },
      end() {},
    };
  },
});
