import { defineParser } from '../src/recognise/parser.js';
import { monthIndex } from '../src/timeline/time.js';

// `ps -eo pid,ppid,lstart,args`: lstart is local time, "Thu Feb  6 10:01:02 2020".
const LSTART_ROW = /^\s*(\d+)\s+(\d+)\s+[A-Z][a-z]{2}\s+([A-Z][a-z]{2})\s+(\d{1,2})\s+(\d{2}):(\d{2}):(\d{2})\s+(\d{4})\s+(.*)$/;
const LSTART_HEADER = /^\s*PID\s+PPID\s+STARTED\s+(COMMAND|CMD|ARGS)\s*$/;
// `ps -ef`: UID PID PPID C STIME TTY TIME CMD (STIME is too coarse to order processes; not used as a start time)
const EF_HEADER = /^UID\s+PID\s+PPID\s+C\s+STIME\s+TTY\s+TIME\s+CMD\s*$/;
const EF_ROW = /^(\S+)\s+(\d+)\s+(\d+)\s+\d+\s+(\S+)\s+(\S+)\s+([\d:-]+)\s+(.*)$/;

export default defineParser({
  id: 'ps',
  describe: '`ps -eo pid,ppid,lstart,args` (start times to the second) and `ps -ef`',
  collect: 'ps -eo pid,ppid,lstart,args',
  recognise: {
    command: /^ps\s+-(eo\s+pid,ppid,lstart|ef\b)/,
    sniff: (h) => {
      const first = h.split('\n')[0];
      return LSTART_HEADER.test(first) || EF_HEADER.test(first);
    },
  },
  open(ctx) {
    let form: 'lstart' | 'ef' | undefined;
    return {
      line(text, no) {
        if (!text.trim()) return;
        if (LSTART_HEADER.test(text)) return void (form = 'lstart');
        if (EF_HEADER.test(text)) return void (form = 'ef');
        if (form === 'lstart' || (!form && LSTART_ROW.test(text))) {
          const m = LSTART_ROW.exec(text);
          if (!m) return ctx.warn(no, 'not a `ps -eo pid,ppid,lstart,args` row');
          const month = monthIndex(m[3]);
          if (!month) return ctx.warn(no, `unknown month ${m[3]}`);
          ctx.emit({
            kind: 'process',
            pid: Number(m[1]),
            ppid: Number(m[2]),
            args: m[9].trim(),
            started: { kind: 'local', year: Number(m[8]), month, day: Number(m[4]), hour: Number(m[5]), minute: Number(m[6]), second: Number(m[7]), millis: 0 },
            ev: ctx.evidence(no, text),
          });
          return;
        }
        const m = EF_ROW.exec(text);
        if (!m) return ctx.warn(no, 'not a `ps -ef` row');
        ctx.emit({ kind: 'process', pid: Number(m[2]), ppid: Number(m[3]), args: m[7].trim(), ev: ctx.evidence(no, text) });
      },
      end() {},
    };
  },
});
