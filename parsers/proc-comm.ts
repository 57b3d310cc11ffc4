import { defineParser, pidFromPath } from '../src/recognise/parser.js';

export default defineParser({
  id: 'proc-pid-comm',
  describe: '/proc/<pid>/comm: the process name',
  collect: 'cat /proc/<pid>/comm',
  recognise: { path: /(?:^|\/)proc\/\d+\/comm$/ },
  open(ctx) {
    const pid = pidFromPath(ctx.path);
    let done = false;
    return {
      line(text, no) {
        if (done || pid === undefined || !text.trim()) return;
        done = true;
        ctx.emit({ kind: 'process', pid, comm: text.trim(), ev: ctx.evidence(no, text) });
      },
      end() {},
    };
  },
});
