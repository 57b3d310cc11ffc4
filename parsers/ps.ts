import { defineParser } from '../src/recognise/parser.js';
import { monthIndex } from '../src/timeline/time.js';
import type { Stamp } from '../src/model/facts.js';

// `ps -eo pid,ppid,lstart,args`: lstart is local time, "Thu Feb  6 10:01:02 2020".
const LSTART_ROW = /^\s*(\d+)\s+(\d+)\s+[A-Z][a-z]{2}\s+([A-Z][a-z]{2})\s+(\d{1,2})\s+(\d{2}):(\d{2}):(\d{2})\s+(\d{4})\s+(.*)$/;
const LSTART_HEADER = /^\s*PID\s+PPID\s+STARTED\s+(COMMAND|CMD|ARGS)\s*$/;
// `ps -ef`: UID PID PPID C STIME TTY TIME CMD (STIME is too coarse to order processes; not used as a start time)
const EF_HEADER = /^UID\s+PID\s+PPID\s+C\s+STIME\s+TTY\s+TIME\s+CMD\s*$/;
const EF_ROW = /^(\S+)\s+(\d+)\s+(\d+)\s+\d+\s+(\S+)\s+(\S+)\s+([\d:-]+)\s+(.*)$/;

// Any other column set, read by its header (`ps aux`, `ps auxf`, `ps -eo pid,ppid,user,args`): every column is one
// word but STARTED (lstart, five) and the last, the command, which takes the rest of the line.
const COLUMNS = new Set(['USER', 'UID', 'RUSER', 'PID', 'PPID', '%CPU', '%MEM', 'VSZ', 'RSS', 'TTY', 'TT', 'STAT', 'S', 'START', 'STARTED', 'TIME', 'C', 'STIME', 'NI', 'PRI', 'PGID', 'SID', 'ETIME', 'ELAPSED', 'ETIMES', 'LWP', 'NLWP', 'F', 'WCHAN', 'ADDR', 'SZ', 'PSR', 'CLS', 'LABEL', 'COMMAND', 'CMD', 'ARGS', 'COMM']);
const LAST = new Set(['COMMAND', 'CMD', 'ARGS', 'COMM']);

/** The columns of a ps header line, when it is one this parser can read by them (a PID, and the command last). */
function columnsOf(line: string): string[] | undefined {
  const cols = line.trim().split(/\s+/);
  return cols.includes('PID') && LAST.has(cols[cols.length - 1]) && cols.every((c) => COLUMNS.has(c)) && cols.slice(0, -1).every((c) => !LAST.has(c)) ? cols : undefined;
}

export default defineParser({
  id: 'ps',
  describe: '`ps -eo pid,ppid,lstart,args` (start times to the second), `ps -ef`, `ps aux`, and other column sets by their header',
  collect: 'ps -eo pid,ppid,lstart,args',
  recognise: {
    command: /^ps\s+(?:-(?:eo\s+pid,ppid,lstart|ef\b)|-?aux|-e?o\s+\S*pid)/,
    sniff: (h) => {
      const first = h.split('\n')[0];
      return LSTART_HEADER.test(first) || EF_HEADER.test(first) || columnsOf(first) !== undefined;
    },
  },
  open(ctx) {
    let form: 'lstart' | 'ef' | string[] | undefined;
    return {
      line(text, no) {
        if (!text.trim()) return;
        if (LSTART_HEADER.test(text)) return void (form = 'lstart');
        if (EF_HEADER.test(text)) return void (form = 'ef');
        const cols = columnsOf(text);
        if (cols) return void (form = cols);
        if (Array.isArray(form)) return byColumns(form, text, no);
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

    function byColumns(cols: string[], text: string, no: number): void {
      const word = /\S+/g;
      const take = () => word.exec(text)?.[0];
      let pid: number | undefined;
      let ppid: number | undefined;
      let started: Extract<Stamp, { kind: 'local' }> | undefined;
      for (const col of cols.slice(0, -1)) {
        if (col === 'STARTED') {
          const [, mon, day, time, year] = [take(), take(), take(), take(), take()];
          const month = mon ? monthIndex(mon) : undefined;
          const t = /^(\d{2}):(\d{2}):(\d{2})$/.exec(time ?? '');
          if (month && t && /^\d{1,2}$/.test(day ?? '') && /^\d{4}$/.test(year ?? '')) started = { kind: 'local', year: Number(year), month, day: Number(day), hour: Number(t[1]), minute: Number(t[2]), second: Number(t[3]), millis: 0 };
          continue;
        }
        const v = take();
        if (v === undefined) return ctx.warn(no, `not a ps row under the header ${cols.join(' ')}`);
        if (col === 'PID') pid = /^\d+$/.test(v) ? Number(v) : undefined;
        if (col === 'PPID') ppid = /^\d+$/.test(v) ? Number(v) : undefined;
      }
      if (pid === undefined) return ctx.warn(no, `not a ps row under the header ${cols.join(' ')}`);
      // The command: the rest of the line, without the tree `ps f` draws before it.
      const command = text.slice(word.lastIndex).trim().replace(/^(?:[|\\_]\s*)+/, '') || undefined;
      const last = cols[cols.length - 1];
      ctx.emit({ kind: 'process', pid, ppid, ...(last === 'COMM' ? { comm: command } : { args: command }), started, ev: ctx.evidence(no, text) });
    }
  },
});
