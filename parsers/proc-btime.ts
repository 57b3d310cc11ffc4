import { defineParser } from '../src/recognise/parser.js';

export default defineParser({
  id: 'proc-stat-btime',
  describe: '/proc/stat: boot time (btime), to turn process start ticks into wall-clock times',
  collect: 'cat /proc/stat',
  recognise: { path: /(?:^|\/)proc\/stat$/, head: (h) => /^btime \d+$/m.test(h) },
  open(ctx) {
    return {
      line(text, no) {
        const m = /^btime (\d+)$/.exec(text.trim());
        if (m) ctx.emit({ kind: 'btime', epoch: Number(m[1]), ev: ctx.evidence(no, text) });
      },
      end() {},
    };
  },
});
