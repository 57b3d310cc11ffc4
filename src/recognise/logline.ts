import type { Stamp } from '../model/facts.js';
import { wordFilter, type LineSink } from './parser.js';
import { monthIndex } from '../timeline/time.js';

// Daemon logs arrive bare (a file the program wrote), or wrapped by syslog/journald:
//   journalctl (short):      "Dec 28 00:04:45 node4 kubelet[8024]: <payload>"  (month may be localised: "сеп 26", "6月 04", "sept. 21")
//   journalctl -o short-iso: "2019-10-02T23:27:34+0000 host containerd[2639]: <payload>"
//   journalctl -o short-unix / short-full: "1570058854.417871 host unit[pid]: …", "Thu 2019-10-03 08:12:40 UTC host unit[pid]: …"
//   journalctl -o json:      {"__REALTIME_TIMESTAMP":"1570058854417871","SYSLOG_IDENTIFIER":"containerd","_PID":"2639","MESSAGE":"<payload>",…}
// The payload usually carries the program's own time too; that one is kept (journald's is when the line was received).

export interface LogPrefix {
  at?: Stamp;
  host?: string;
  unit: string; // "kubelet", "containerd", "dockerd-current", "kubelet-wrapper"
  pid?: number;
}

export interface LogLine {
  payload: string;
  prefix?: LogPrefix;
}

// Host and unit names are bounded: unbounded, a long line without a colon made these quadratic (11 s for 100 KB).
const SHORT = /^(\S{1,12})\s{1,3}(\d{1,2}) (\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))? (?:([^\s[]\S{0,254}) )? ?([^\s[:]{1,64})(?:\[(\d{1,10})\])?: ?/;
const SHORT_ISO = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:[.,]\d{1,9})?(?:Z|[+-]\d{2}:?\d{2})) ([^\s[]\S{0,254}) ([^\s[:]{1,64})(?:\[(\d{1,10})\])?: ?/;

// journalctl -o short-unix: "1570058854.417871 host unit[pid]: …"; -o short-full: "Thu 2019-10-03 08:12:40 UTC host unit[pid]: …".
const SHORT_UNIX = /^(\d{9,11}\.\d{1,9}) ([^\s[]\S{0,254}) ([^\s[:]{1,64})(?:\[(\d{1,10})\])?: ?/;
const SHORT_FULL = /^(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun) (\d{4}-\d{2}-\d{2}) (\d{2}:\d{2}:\d{2})(?:\.(\d{1,9}))? ([A-Za-z][\w+-]{0,6}) ([^\s[]\S{0,254}) ([^\s[:]{1,64})(?:\[(\d{1,10})\])?: ?/;
/** Milliseconds of a fraction of a second as written ("918273" of -o short-precise): its first three digits. */
export const millisOf = (frac: string | undefined) => (frac ? Number(frac.slice(0, 3).padEnd(3, '0')) : 0);

/** A zap JSON line's "ts": RFC 3339 text or seconds since the epoch, as UTC milliseconds (NaN when neither). */
export function zapUtc(ts: unknown): number {
  return typeof ts === 'string' ? Date.parse(ts) : typeof ts === 'number' ? ts * 1000 : NaN;
}

/** Log parsers look at this much of a line: messages are far shorter, and a regex over a hostile megabyte could be quadratic. */
export const MAX_LOG_PAYLOAD = 16 * 1024;

// Month names as journalctl prints them under other locales (LC_TIME), lower-cased, without trailing dots.
const LOCAL_MONTHS: Record<string, number> = {};
const addMonths = (names: string[]) => names.forEach((n, i) => n.split('|').forEach((alt) => (LOCAL_MONTHS[alt] = i + 1)));
addMonths(['янв', 'фев', 'мар', 'апр', 'май|мая', 'июн|юни', 'июл|юли', 'авг', 'сен|сеп', 'окт', 'ноя|ное', 'дек']); // ru, bg
addMonths(['janv|jan', 'févr|fevr|feb', 'mars|mär|mrz|mar', 'avr|apr', 'mai|may', 'juin|jun', 'juil|jul', 'août|aout|aug', 'sept|sep', 'oct|okt', 'nov', 'déc|dec|dez']); // fr, de
addMonths(['ene', 'feb', 'mar', 'abr', 'may', 'jun', 'jul', 'ago', 'sep|set', 'oct|ott', 'nov', 'dic']); // es, it, pt
addMonths(['sty', 'lut', 'mar', 'kwi', 'maj', 'cze', 'lip', 'sie', 'wrz', 'paź|paz', 'lis', 'gru']); // pl

/** 1-based month from a journald month token in any of the common locales ("Dec", "сеп", "6月", "sept."), or 0. */
export function journalMonth(token: string): number {
  const t = token.toLowerCase().replace(/\.$/, '');
  const cjk = /^(\d{1,2})月$/.exec(t);
  if (cjk) return Number(cjk[1]) >= 1 && Number(cjk[1]) <= 12 ? Number(cjk[1]) : 0;
  if (/^\d{1,2}$/.test(t)) return Number(t) >= 1 && Number(t) <= 12 ? Number(t) : 0;
  return monthIndex(t) || LOCAL_MONTHS[t] || LOCAL_MONTHS[t.slice(0, 4)] || LOCAL_MONTHS[t.slice(0, 3)] || 0;
}

/** The payload of a log line and, when present, the syslog/journald prefix in front of it. */
export function splitLogLine(text: string): LogLine {
  const c = text.charCodeAt(0);
  if (c === 123 /* { */) return fromJournalJson(text) ?? { payload: text };
  // Bare lines of the programs read here start with "time=", a glog letter+digit, a logrus TTY level or a year.
  if (c === 116 /* t */ && text.startsWith('time="')) return { payload: text };
  if (c >= 48 && c <= 57 && text[4] === '-') {
    const iso = SHORT_ISO.exec(text);
    if (iso) {
      const utc = Date.parse(iso[1].replace(/([+-]\d{2})(\d{2})$/, '$1:$2').replace(',', '.'));
      return { payload: text.slice(iso[0].length), prefix: { at: Number.isNaN(utc) ? undefined : { kind: 'exact', utc }, host: iso[2], unit: iso[3], pid: iso[4] ? Number(iso[4]) : undefined } };
    }
    return { payload: text };
  }
  const u = c >= 48 && c <= 57 ? SHORT_UNIX.exec(text) : null; // else maybe a month written with digits ("6月 04")
  if (u) return { payload: text.slice(u[0].length), prefix: { at: { kind: 'exact', utc: Math.round(Number(u[1]) * 1000) }, host: u[2], unit: u[3], pid: u[4] ? Number(u[4]) : undefined } };
  const full = c >= 65 && c <= 90 && text[3] === ' ' ? SHORT_FULL.exec(text) : null;
  if (full) {
    const [y, mo, d] = full[1].split('-').map(Number);
    const [h, mi, sec] = full[2].split(':').map(Number);
    const ms = millisOf(full[3]);
    // UTC is exact; another abbreviation (CEST, CST…) is ambiguous, so the time is read in the host's zone.
    const at: Stamp = /^(?:UTC|GMT|Z)$/.test(full[4]) ? { kind: 'exact', utc: Date.UTC(y, mo - 1, d, h, mi, sec, ms) } : { kind: 'local', year: y, month: mo, day: d, hour: h, minute: mi, second: sec, millis: ms };
    return { payload: text.slice(full[0].length), prefix: { at, host: full[5], unit: full[6], pid: full[7] ? Number(full[7]) : undefined } };
  }
  const m = SHORT.exec(text);
  if (!m) return { payload: text };
  const month = journalMonth(m[1]);
  const day = Number(m[2]);
  // Without a month the token was not a date ("I0912 17:24:28…" has no space between letter and digits, so it never gets here).
  if (!month && !/[^\x00-\x7f]/.test(m[1])) return { payload: text };
  return {
    payload: text.slice(m[0].length),
    prefix: {
      at: month && day >= 1 && day <= 31 ? { kind: 'local', month, day, hour: Number(m[3]), minute: Number(m[4]), second: Number(m[5]), millis: millisOf(m[6]) } : undefined,
      host: m[7],
      unit: m[8],
      pid: m[9] ? Number(m[9]) : undefined,
    },
  };
}

function fromJournalJson(text: string): LogLine | undefined {
  if (!text.includes('"MESSAGE"')) return undefined;
  let doc: Record<string, unknown>;
  try {
    doc = JSON.parse(text) as Record<string, unknown>;
  } catch {
    return undefined;
  }
  if (!doc || typeof doc !== 'object') return undefined;
  let message = doc.MESSAGE;
  // journald exports a message that is not valid UTF-8 as an array of bytes.
  if (Array.isArray(message) && message.every((b) => typeof b === 'number')) message = Buffer.from(message as number[]).toString('utf8');
  if (typeof message !== 'string') return undefined;
  const micros = typeof doc.__REALTIME_TIMESTAMP === 'string' ? Number(doc.__REALTIME_TIMESTAMP) : NaN;
  const unit = [doc.SYSLOG_IDENTIFIER, doc._COMM, doc._SYSTEMD_UNIT].find((v): v is string => typeof v === 'string') ?? '';
  const pid = typeof doc._PID === 'string' ? Number(doc._PID) : typeof doc.SYSLOG_PID === 'string' ? Number(doc.SYSLOG_PID) : undefined;
  return {
    payload: message,
    prefix: {
      at: Number.isFinite(micros) ? { kind: 'exact', utc: Math.floor(micros / 1000) } : undefined,
      host: typeof doc._HOSTNAME === 'string' ? doc._HOSTNAME : undefined,
      unit: unit.replace(/\.service$/, ''),
      pid: pid !== undefined && Number.isFinite(pid) ? pid : undefined,
    },
  };
}

/** logrus text: time="…" level=… msg="…" then key=value pairs (containerd, dockerd, CRI-O, Cilium, old Calico). */
export interface Logrus {
  time: string;
  level: string;
  msg: string;
  fields: Record<string, string>;
}

const LOGRUS_HEAD = /^time="([^"]+)" level=(\w+) msg="((?:[^"\\]|\\.)*)"/;
// containerd/dockerd run on a terminal: INFO[2022-03-21T12:38:02.420932643+08:00] msg   (or INFO[0010] seconds since start)
const LOGRUS_TTY = /^(INFO|WARN|ERRO|DEBU|FATA|PANI|TRAC)\[([^\]]+)\] (.*?)(?:\s{2,}((?:\w+=(?:"(?:[^"\\]|\\.)*"|\S+)\s*)+))?$/;
const TTY_LEVEL: Record<string, string> = { INFO: 'info', WARN: 'warning', ERRO: 'error', DEBU: 'debug', FATA: 'fatal', PANI: 'panic', TRAC: 'trace' };
const KV = /(\w[\w.-]{0,63})=("(?:[^"\\]|\\.)*"|\S*)/g;

export function unquote(v: string): string {
  if (v.length < 2 || v[0] !== '"' || v[v.length - 1] !== '"') return v;
  return v.slice(1, -1).replace(/\\(["\\nt])/g, (_m, c: string) => (c === 'n' ? '\n' : c === 't' ? '\t' : c));
}

export function parseKv(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const m of text.matchAll(KV)) if (!(m[1] in out)) out[m[1]] = unquote(m[2]);
  return out;
}

export function parseLogrus(payload: string): Logrus | undefined {
  const m = LOGRUS_HEAD.exec(payload);
  if (m) return { time: m[1], level: m[2], msg: unquote(`"${m[3]}"`), fields: parseKv(payload.slice(m[0].length)) };
  const t = LOGRUS_TTY.exec(payload);
  if (t) return { time: t[2], level: TTY_LEVEL[t[1]], msg: t[3].trim(), fields: t[4] ? parseKv(t[4]) : {} };
  return undefined;
}

/** A logrus time: RFC 3339 ("2019-10-02T23:27:34.417Z"), CRI-O's "2024-06-04 00:29:27.978+08:00", or a TTY's seconds since start (no time). */
export function logrusStamp(time: string): Stamp | undefined {
  if (/^\d+$/.test(time)) return undefined;
  const ms = Date.parse(time.replace(' ', 'T'));
  return Number.isNaN(ms) ? undefined : { kind: 'exact', utc: ms };
}

/** The program's own time when it has one, else journald's; with a note when both exist and disagree by 30 minutes or more. */
export function chooseStamp(own: Stamp | undefined, prefix: LogPrefix | undefined): { at?: Stamp; disagreeMinutes?: number } {
  const outer = prefix?.at;
  if (!own) return { at: outer };
  if (!outer) return { at: own };
  const minutes = roughDiffMinutes(outer, own);
  return { at: own, disagreeMinutes: minutes !== undefined && Math.abs(minutes) >= 30 ? minutes : undefined };
}

/** outer − own in minutes when both are comparable without knowing the host's zone (both exact, or both local wall-clock). */
function roughDiffMinutes(outer: Stamp, own: Stamp): number | undefined {
  if (outer.kind === 'exact' && own.kind === 'exact') return Math.round((outer.utc - own.utc) / 60000);
  if (outer.kind === 'local' && own.kind === 'local' && !own.zone) {
    const wall = (s: Extract<Stamp, { kind: 'local' }>) => Date.UTC(2000, s.month - 1, s.day, s.hour, s.minute, s.second);
    let d = Math.round((wall(outer) - wall(own)) / 60000);
    if (d > 180 * 24 * 60) d -= 366 * 24 * 60; // across New Year
    if (d < -180 * 24 * 60) d += 366 * 24 * 60;
    return d;
  }
  return undefined;
}

/** A per-file note, said once: the two clocks of journald-wrapped lines disagree. */
export function twoClocksNote(minutes: number): string {
  const h = Math.abs(minutes) / 60;
  const amount = Number.isInteger(h) ? `${h} h` : `${Math.abs(minutes)} min`;
  return `journald's prefix and the program's own time differ by ${amount} (the program logs in another zone or its clock is off); the program's own time is used`;
}

/** Per file: picks each line's time (see chooseStamp) and says once when journald's and the program's clocks disagree. */
export function stampPicker(warn: (line: number, message: string) => void, fileState?: Map<string, unknown>): (own: Stamp | undefined, prefix: LogPrefix | undefined, no: number) => Stamp | undefined {
  let said = false;
  // The year of the latest full date in this file, shared by the parsers reading it: a journal mixing kubelet (glog, no
  // year) with containerd (RFC 3339) dates the kubelet lines by it rather than by the collection time.
  const anchor = (fileState?.get('year-anchor') as { lastExact?: { year: number; month: number } } | undefined) ?? {};
  fileState?.set('year-anchor', anchor);
  return (own, prefix, no) => {
    const { at, disagreeMinutes } = chooseStamp(own, prefix);
    if (disagreeMinutes !== undefined && !said) {
      said = true;
      warn(no, twoClocksNote(disagreeMinutes));
    }
    for (const s of [own, prefix?.at]) if (s?.kind === 'exact') {
      const d = new Date(s.utc);
      anchor.lastExact = { year: d.getUTCFullYear(), month: d.getUTCMonth() + 1 };
    }
    const lastExact = anchor.lastExact;
    if (at?.kind === 'local' && at.year === undefined && lastExact) {
      // A log runs forward: a month well before the full date's is in the next year (an October date, then January lines).
      const year = at.month < lastExact.month - 1 ? lastExact.year + 1 : lastExact.year;
      return { ...at, year };
    }
    return at;
  };
}

const ID_IN_QUOTES = /(?:sandbox|container|Sandbox|Container)[^"]{0,40}"([0-9a-f]{64})"/;
const ANY_ID = /\b([0-9a-f]{64})\b/;
/** The sandbox id a runtime message is about. */
export function sandboxIdIn(text: string): string | undefined {
  return ID_IN_QUOTES.exec(text)?.[1] ?? ANY_ID.exec(text)?.[1];
}

/** "rpc error: code = Unknown desc = X" → "X". */
export function rpcDesc(err: string): string {
  return err.replace(/^(?:rpc error: code = \w+ desc = )+/, '').trim();
}

/** One log line as the log parsers see it: the raw text (for evidence), its payload and prefix, and the time picker. */
export interface LogLineIn {
  text: string;
  no: number;
  payload: string;
  prefix?: LogPrefix;
  pick: (own: Stamp | undefined, prefix: LogPrefix | undefined, no: number) => Stamp | undefined;
}

/** The sink of a daemon-log parser: prefilter on words, strip the journald prefix, hand each line over. */
export function logSink(ctx: { warn(line: number, message: string): void; fileState?: Map<string, unknown> }, words: readonly string[], read: (l: LogLineIn) => void): LineSink {
  const pick = stampPicker(ctx.warn, ctx.fileState);
  return {
    ...wordFilter(words),
    line(text, no) {
      const { payload, prefix } = splitLogLine(text.length > MAX_LOG_PAYLOAD + 512 ? text.slice(0, MAX_LOG_PAYLOAD + 512) : text);
      read({ text, no, payload: payload.length > MAX_LOG_PAYLOAD ? payload.slice(0, MAX_LOG_PAYLOAD) : payload, prefix, pick });
    },
    end() {},
  };
}
