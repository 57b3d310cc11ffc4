import { defineParser, firstLineSink } from '../src/recognise/parser.js';

/** `getconf CLK_TCK`: the unit of /proc/<pid>/stat start times (usually 100). */
export default defineParser({
  id: 'clk-tck',
  describe: '`getconf CLK_TCK`: clock ticks per second, the unit of process start times in /proc/<pid>/stat',
  collect: 'getconf CLK_TCK',
  recognise: { command: /^getconf\s+CLK_TCK\s*$/ },
  open(ctx) {
    return firstLineSink((text, no) => {
      const hz = Number(text.trim());
      if (Number.isInteger(hz) && hz > 0 && hz <= 100000) ctx.emit({ kind: 'clockTicks', hz, ev: ctx.evidence(no, text) });
      else ctx.warn(no, `not a tick rate: ${text.trim()}`);
    });
  },
});
