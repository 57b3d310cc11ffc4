import { defineParser } from '../src/recognise/parser.js';

// /proc/<pid>/stat: comm is "(…)" and may hold spaces and parens, so split after the LAST ')'.
export function parseStatLine(text: string): { pid: number; comm: string; ppid: number; startTicks: number } | undefined {
  const open = text.indexOf('(');
  const close = text.lastIndexOf(')');
  if (open < 1 || close < open) return undefined;
  const pid = Number(text.slice(0, open).trim());
  const rest = text.slice(close + 2).split(' ');
  // rest[0] is field 3 (state); field 4 is ppid; field 22 is starttime.
  const ppid = Number(rest[1]);
  const startTicks = Number(rest[19]);
  if (!Number.isInteger(pid) || !Number.isInteger(ppid) || !Number.isFinite(startTicks)) return undefined;
  return { pid, comm: text.slice(open + 1, close), ppid, startTicks };
}

export default defineParser({
  id: 'proc-pid-stat',
  describe: '/proc/<pid>/stat: parent pid and start time (field 22, clock ticks since boot)',
  collect: 'cat /proc/<pid>/stat',
  recognise: { path: /(?:^|\/)proc\/\d+\/stat$/, head: (h) => /^\d+ \(/.test(h) },
  open(ctx) {
    return {
      line(text, no) {
        if (!text.trim()) return;
        const s = parseStatLine(text);
        if (!s) return ctx.warn(no, 'not a /proc/<pid>/stat line');
        ctx.emit({ kind: 'process', pid: s.pid, ppid: s.ppid, comm: s.comm, startTicks: s.startTicks, ev: ctx.evidence(no, text) });
      },
      end() {},
    };
  },
});
