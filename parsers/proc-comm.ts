import { defineParser, firstLineSink, pidFromPath } from '../src/recognise/parser.js';

export default defineParser({
  id: 'proc-pid-comm',
  describe: '/proc/<pid>/comm: the process name',
  collect: 'cat /proc/<pid>/comm',
  recognise: { path: /(?:^|\/)proc\/\d+\/comm$/ },
  open(ctx) {
    const pid = pidFromPath(ctx.path);
    return firstLineSink((text, no) => {
      if (pid !== undefined) ctx.emit({ kind: 'process', pid, comm: text.trim(), ev: ctx.evidence(no, text) });
    });
  },
});
