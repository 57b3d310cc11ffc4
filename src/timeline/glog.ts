import type { Stamp } from '../model/facts.js';

// glog: "I0206 12:22:17.639674   27084 server.go:81] message" (Lmmdd hh:mm:ss.uuuuuu threadid file:line]); no year, local time.
const GLOG = /(?:^|\s)([IWEF])(\d{2})(\d{2}) (\d{2}):(\d{2}):(\d{2})\.(\d{6})\s+\d+ ([^\s\]]+:\d+)\] ?/;

export interface GlogLine {
  severity: 'I' | 'W' | 'E' | 'F';
  at: Stamp;
  site: string;
  message: string;
}

/** A glog line's severity and time, and where its message starts in it: nothing of the line is cut out. */
export interface GlogHead {
  severity: GlogLine['severity'];
  at: Stamp;
  msgAt: number;
}

/** Columns of "Immdd hh:mm:ss.uuuuuu" that hold digits. */
export const HEADER_DIGITS = [1, 2, 3, 4, 6, 7, 9, 10, 12, 13, 15, 16, 17, 18, 19, 20];

const HEADER = /[IWEF]\d{4} \d\d:\d\d:\d\d\.\d{6}/y;
const num2 = (s: string, i: number) => (s.charCodeAt(i) - 48) * 10 + s.charCodeAt(i + 1) - 48;

/** "Immdd hh:mm:ss.uuuuuu" at the start of the line, by position (the common case, millions of lines); `close` is the "] " before the message. */
function fastHead(line: string): { severity: GlogLine['severity']; at: Stamp; close: number } | undefined {
  HEADER.lastIndex = 0;
  if (!HEADER.test(line)) return undefined;
  const close = line.indexOf('] ', 21);
  if (close < 0) return undefined;
  const month = num2(line, 1);
  const day = num2(line, 3);
  if (month < 1 || month > 12 || day < 1 || day > 31) return undefined;
  return {
    severity: line[0] as GlogLine['severity'],
    at: { kind: 'local', month, day, hour: num2(line, 6), minute: num2(line, 9), second: num2(line, 12), millis: num2(line, 15) * 10 + line.charCodeAt(17) - 48 },
    close,
  };
}

/** Any other glog line (a prefix before it, "]" without a space after): by the full pattern. */
function slowHead(line: string): (GlogHead & { site: string }) | undefined {
  const m = GLOG.exec(line);
  if (!m) return undefined;
  const month = Number(m[2]);
  const day = Number(m[3]);
  if (month < 1 || month > 12 || day < 1 || day > 31) return undefined;
  return {
    severity: m[1] as GlogLine['severity'],
    at: { kind: 'local', month, day, hour: Number(m[4]), minute: Number(m[5]), second: Number(m[6]), millis: Math.floor(Number(m[7]) / 1000) },
    site: m[8],
    msgAt: m.index + m[0].length,
  };
}

/** The header of a glog line without cutting the line: for parsers that read the message in place (a CNI log's million lines). */
export function glogHead(line: string): GlogHead | undefined {
  const fast = fastHead(line);
  if (fast) return { severity: fast.severity, at: fast.at, msgAt: fast.close + 2 };
  return slowHead(line);
}

export function parseGlog(line: string): GlogLine | undefined {
  const fast = fastHead(line);
  if (fast) return { severity: fast.severity, at: fast.at, site: line.slice(line.lastIndexOf(' ', fast.close) + 1, fast.close), message: line.slice(fast.close + 2) };
  const slow = slowHead(line);
  return slow && { severity: slow.severity, at: slow.at, site: slow.site, message: line.slice(slow.msgAt) };
}

export const GLOG_TEST = GLOG;
