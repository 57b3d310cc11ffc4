import { parseNsTarget } from '../src/model/facts.js';
import { defineParser } from '../src/recognise/parser.js';

const NS_PATH = /(?:^|\/)proc\/(\d+)\/(ns|fd)\/([\w]+)$/;

// A /proc/<pid>/ns/<type> or /proc/<pid>/fd/<n> link, stored as a symlink (its target is the text) or as a small file.
export default defineParser({
  id: 'ns-link',
  describe: '/proc/<pid>/ns/{net,mnt,pid} and /proc/<pid>/fd/<n>: which namespace a process is in or holds open',
  collect: 'readlink /proc/<pid>/ns/net /proc/<pid>/ns/mnt; find /proc/<pid>/fd -lname "net:*"',
  recognise: { path: NS_PATH, head: (h) => parseNsTarget(h.split('\n')[0]) !== undefined },
  open(ctx) {
    const m = NS_PATH.exec(ctx.path);
    let done = false;
    return {
      line(text, no) {
        if (done || !m || !text.trim()) return;
        done = true;
        const target = parseNsTarget(text);
        if (!target) return; // fd links to files, sockets, pipes: not namespaces
        const pid = Number(m[1]);
        const ev = ctx.evidence(no, `${ctx.path} -> ${text.trim()}`);
        if (m[2] === 'ns') ctx.emit({ kind: 'nsLink', pid, ns: m[3] === 'net' || m[3] === 'mnt' || m[3] === 'pid' ? m[3] : target.ns, inode: target.inode, ev });
        else ctx.emit({ kind: 'fdLink', pid, fd: Number(m[3]), ns: target.ns, inode: target.inode, ev });
      },
      end() {},
    };
  },
});
