import { parseNsTarget } from '../src/model/facts.js';
import { defineParser } from '../src/recognise/parser.js';

// `ls -l /proc/*/ns/net`, `ls -l /proc/<pid>/fd/`, `find /proc/*/fd -lname 'net:*' -printf '%p -> %l\n'`
const ARROW = ' -> ';
const DIR_HEADER = /^(\/proc\/\d+\/(?:ns|fd))\/?:$/;
const FULL = /^\/proc\/(\d+)\/(ns|fd)\/(\w+)$/;

function dirFromCommand(cmd: string | undefined): string | undefined {
  const m = cmd ? /\s(\/proc\/\d+\/(?:ns|fd))\/?(?:\s|$)/.exec(cmd) : null;
  return m?.[1];
}

export default defineParser({
  id: 'ns-listing',
  describe: '`ls -l /proc/*/ns/net` and `ls -l /proc/*/fd/` listings: namespace membership and namespace fds',
  collect: 'ls -l /proc/*/ns/net /proc/*/ns/mnt; ls -l /proc/*/fd/ | grep -B1000 "net:\\["',
  recognise: {
    command: /^(ls|find)\s.*\/proc\//,
    sniff: (h) => h.split('\n').some((l) => /(?:^|\s)\/proc\/\d+\/(?:ns|fd)\/\w+ -> '?\w+:\[\d+\]'?$/.test(l)),
  },
  open(ctx) {
    let dir = dirFromCommand(ctx.command?.inner);
    return {
      line(text, no) {
        const header = DIR_HEADER.exec(text.trim());
        if (header) {
          dir = header[1];
          return;
        }
        const at = text.indexOf(ARROW);
        if (at < 0) return;
        const target = parseNsTarget(text.slice(at + ARROW.length));
        if (!target) return;
        const before = text.slice(0, at).trimEnd();
        const name = before.slice(before.lastIndexOf(' ') + 1);
        const full = FULL.exec(name.startsWith('/') ? name : `${dir ?? ''}/${name}`);
        if (!full) return ctx.warn(no, 'namespace link without a /proc/<pid>/ path');
        const pid = Number(full[1]);
        const ev = ctx.evidence(no, text);
        if (full[2] === 'ns') ctx.emit({ kind: 'nsLink', pid, ns: full[3], inode: target.inode, ev });
        else ctx.emit({ kind: 'fdLink', pid, fd: Number(full[3]), ns: target.ns, inode: target.inode, ev });
      },
      end() {},
    };
  },
});
