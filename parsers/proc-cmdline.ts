import { defineParser, pidFromPath } from '../src/recognise/parser.js';

export default defineParser({
  id: 'proc-pid-cmdline',
  describe: '/proc/<pid>/cmdline: the command line, NUL-separated',
  collect: 'cat /proc/<pid>/cmdline',
  recognise: { path: /(?:^|\/)proc\/\d+\/cmdline$/ },
  open(ctx) {
    const pid = pidFromPath(ctx.path);
    const parts: string[] = [];
    let first = 0;
    return {
      line(text, no) {
        if (!first) first = no;
        parts.push(text);
      },
      end() {
        if (pid === undefined) return;
        const args = parts.join('\n').split('\0').filter((a) => a.length > 0).join(' ').trim();
        if (args) ctx.emit({ kind: 'process', pid, args, ev: ctx.evidence(first || 1, args) });
      },
    };
  },
});
