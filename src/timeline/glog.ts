import type { Stamp } from '../model/facts.js';

// glog: "I0206 12:22:17.639674   27084 server.go:81] message" (Lmmdd hh:mm:ss.uuuuuu threadid file:line]); no year, local time.
const GLOG = /(?:^|\s)([IWEF])(\d{2})(\d{2}) (\d{2}):(\d{2}):(\d{2})\.(\d{6})\s+\d+ ([^\s\]]+:\d+)\] ?/;

export interface GlogLine {
  severity: 'I' | 'W' | 'E' | 'F';
  at: Stamp;
  site: string;
  message: string;
}

/** Columns of "Immdd hh:mm:ss.uuuuuu" that hold digits. */
export const HEADER_DIGITS = [1, 2, 3, 4, 6, 7, 9, 10, 12, 13, 15, 16, 17, 18, 19, 20];

const HEADER = /[IWEF]\d{4} \d\d:\d\d:\d\d\.\d{6}/y;
const num2 = (s: string, i: number) => (s.charCodeAt(i) - 48) * 10 + s.charCodeAt(i + 1) - 48;

/** "Immdd hh:mm:ss.uuuuuu" at the start of the line, by position (the common case, millions of lines). */
function fastHeader(line: string): GlogLine | undefined {
  HEADER.lastIndex = 0;
  if (!HEADER.test(line)) return undefined;
  const sev = line[0] as GlogLine['severity'];
  const close = line.indexOf('] ', 21);
  if (close < 0) return undefined;
  const month = num2(line, 1);
  const day = num2(line, 3);
  if (month < 1 || month > 12 || day < 1 || day > 31) return undefined;
  const site = line.slice(line.lastIndexOf(' ', close) + 1, close);
  return {
    severity: sev,
    at: { kind: 'local', month, day, hour: num2(line, 6), minute: num2(line, 9), second: num2(line, 12), millis: num2(line, 15) * 10 + line.charCodeAt(17) - 48 },
    site,
    message: line.slice(close + 2),
  };
}

export function parseGlog(line: string): GlogLine | undefined {
  const fast = fastHeader(line);
  if (fast) return fast;
  const m = GLOG.exec(line);
  if (!m) return undefined;
  const month = Number(m[2]);
  const day = Number(m[3]);
  if (month < 1 || month > 12 || day < 1 || day > 31) return undefined;
  return {
    severity: m[1] as GlogLine['severity'],
    at: { kind: 'local', month, day, hour: Number(m[4]), minute: Number(m[5]), second: Number(m[6]), millis: Math.floor(Number(m[7]) / 1000) },
    site: m[8],
    message: line.slice(m.index + m[0].length),
  };
}

export const GLOG_TEST = GLOG;
