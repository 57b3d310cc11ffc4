import { defineParser, pidFromPath } from '../src/recognise/parser.js';

export default defineParser({
  id: 'proc-pid-status',
  describe: '/proc/<pid>/status: Name, Pid and PPid',
  collect: 'cat /proc/<pid>/status',
  recognise: { path: /(?:^|\/)proc\/\d+\/status$/, head: (h) => /^Name:\s/m.test(h) && /^PPid:\s/m.test(h) },
  open(ctx) {
    let pid = pidFromPath(ctx.path);
    let comm: string | undefined;
    let ppid: number | undefined;
    let evLine = 1;
    let evText = '';
    return {
      line(text, no) {
        const m = /^(Name|Pid|PPid):\s*(.*)$/.exec(text);
        if (!m) return;
        if (m[1] === 'Name') comm = m[2].trim();
        else if (m[1] === 'Pid') pid = Number(m[2]);
        else {
          ppid = Number(m[2]);
          evLine = no;
          evText = text;
        }
      },
      end() {
        if (pid === undefined || !Number.isInteger(pid)) return;
        ctx.emit({ kind: 'process', pid, comm, ppid, ev: ctx.evidence(evLine, evText || `Name: ${comm ?? ''}`) });
      },
    };
  },
});
