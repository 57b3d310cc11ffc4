import type { Stamp } from '../model/facts.js';

// glog: "I0206 12:22:17.639674   27084 server.go:81] message" (Lmmdd hh:mm:ss.uuuuuu threadid file:line]); no year, local time.
const GLOG = /(?:^|\s)([IWEF])(\d{2})(\d{2}) (\d{2}):(\d{2}):(\d{2})\.(\d{6})\s+\d+ ([^\s\]]+:\d+)\] ?/;

export interface GlogLine {
  severity: 'I' | 'W' | 'E' | 'F';
  at: Stamp;
  site: string;
  message: string;
}

export function parseGlog(line: string): GlogLine | undefined {
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
