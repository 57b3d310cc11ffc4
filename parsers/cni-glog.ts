import { jsonValueEnd } from '../src/recognise/json.js';
import { defineParser, inShard, wordFilter } from '../src/recognise/parser.js';

import { shardOf } from '../src/model/ledger.js';
import { GLOG_TEST, HEADER_DIGITS, glogHead } from '../src/timeline/glog.js';

// "ADD <pod>_<ns>, <container id>, <netns>, <CNI_ARGS> ;, data <result JSON>, err <nil>, <plugin's own time>"
const CNI_LINE = /\] (ADD|DEL) [^,]*, [0-9a-f]{12,64}, /;

/** The balanced JSON object starting at `from`, or undefined. */
export function jsonObjectAt(text: string, from: number): { json: string; end: number } | undefined {
  if (text[from] !== '{') return undefined;
  const end = jsonValueEnd(text, from);
  return end === undefined ? undefined : { json: text.slice(from, end), end };
}

/** IPs of a CNI result, spec 0.1/0.2 (`ip4.ip`, `ip6.ip`) or 0.3+ (`ips[].address`), prefix removed. */
export function resultIps(result: unknown): string[] {
  const out: string[] = [];
  if (!result || typeof result !== 'object') return out;
  const r = result as { ip4?: { ip?: unknown }; ip6?: { ip?: unknown }; ips?: unknown };
  for (const v of [r.ip4?.ip, r.ip6?.ip]) if (typeof v === 'string') out.push(v.split('/')[0]);
  if (Array.isArray(r.ips)) for (const e of r.ips) if (e && typeof e.address === 'string') out.push(e.address.split('/')[0]);
  return out;
}

/**
 * `K8S_POD_NAME=x` out of `IgnoreUnknown=1;K8S_POD_NAMESPACE=demo;K8S_POD_NAME=x ;` (indexOf: this runs per log line);
 * `from`/`to` read the arguments in place within a longer text (a log line).
 */
export function cniArg(args: string, key: string, from = 0, to = args.length): string | undefined {
  let needle = KEY_NEEDLES.get(key); // a template per call would build, and flatten for indexOf, a new string per line
  if (needle === undefined) KEY_NEEDLES.set(key, (needle = `${key}=`));
  for (let at = args.indexOf(needle, from); at >= 0 && at + needle.length <= to; at = args.indexOf(needle, at + 1)) {
    if (at > from && !argEnd(args.charCodeAt(at - 1))) continue;
    let end = at + needle.length;
    while (end < to && !argEnd(args.charCodeAt(end))) end++;
    return args.slice(at + needle.length, end) || undefined;
  }
  return undefined;
}
const KEY_NEEDLES = new Map<string, string>();
const argEnd = (c: number) => c === 59 || c === 32 || c === 9; // ; space tab

/**
 * IPs of a CNI result without building the JSON: the values of "ip" (spec 0.1/0.2 `ip4.ip`) and "address"
 * (0.3+ `ips[].address`), the only keys of a result that hold addresses. Undefined when the text is unusual.
 * `from`/`to` read the result in place within a longer text (a log line), without cutting it out.
 */
export function scanResultIps(json: string, from = 0, to = json.length): string[] | undefined {
  const out: string[] = [];
  for (const key of ['"ip":"', '"address":"']) {
    for (let at = json.indexOf(key, from); at >= 0 && at + key.length <= to; at = json.indexOf(key, at + key.length)) {
      const start = at + key.length;
      const end = json.indexOf('"', start);
      if (end < 0 || end >= to) return undefined;
      const cut = addressEnd(json, start, end);
      if (cut < 0) return undefined;
      out.push(json.slice(start, cut));
    }
  }
  return out.slice(); // exact size: a pushed-to array keeps 17 slots, and tens of thousands of these are kept
}

/** Where the address of an "address" value (hex digits, dots, colons, then maybe "/" and digits) ends, or -1 when it is not one. */
function addressEnd(s: string, from: number, to: number): number {
  let i = from;
  while (i < to && isAddressChar(s.charCodeAt(i))) i++;
  if (i === from) return -1;
  if (i === to) return to;
  if (s.charCodeAt(i) !== 47 /* / */ || i + 1 === to) return -1;
  for (let j = i + 1; j < to; j++) if (!isDigit(s.charCodeAt(j))) return -1;
  return i;
}
const isAddressChar = (c: number) => isDigit(c) || (c >= 97 && c <= 102) || (c >= 65 && c <= 70) || c === 46 || c === 58; // hex . :

const HEX_RUN = /[0-9a-f]+/y;

/**
 * "ADD <pod>_<ns>, <container id>, <netns>, " by position, in the line `s` from `at` (a million lines: offsets, one
 * sticky regex for the id's digits, and nothing cut out before the line is known to be one); undefined when it is not one.
 */
export function opFields(s: string, at = 0): { kind: 'ADD' | 'DEL'; podNs: string; containerId: string; netns: string; restAt: number } | undefined {
  const kind = s.startsWith('ADD ', at) ? 'ADD' : s.startsWith('DEL ', at) ? 'DEL' : undefined;
  if (!kind) return undefined;
  const a = s.indexOf(', ', at + 4);
  if (a < 0) return undefined;
  const b = s.indexOf(', ', a + 2);
  if (b < 0 || b - (a + 2) < 12 || b - (a + 2) > 64) return undefined;
  HEX_RUN.lastIndex = a + 2; // a sticky regex reads the line in place: 3x faster than charCodeAt per digit
  if (!HEX_RUN.test(s) || HEX_RUN.lastIndex !== b) return undefined;
  const c = s.indexOf(', ', b + 2);
  if (c < 0) return undefined;
  const comma = s.indexOf(',', at + 4); // the pod and the netns hold none
  if (comma < a || s.indexOf(',', b + 2) < c) return undefined;
  return { kind, podNs: s.slice(at + 4, a), containerId: s.slice(a + 2, b), netns: s.slice(b + 2, c), restAt: c + 2 };
}

/** End of CNI_ARGS: before the trailing " ;" / spaces. */
function trimArgsEnd(msg: string, from: number, to: number): number {
  while (to > from) {
    const ch = msg.charCodeAt(to - 1);
    if (ch !== 32 && ch !== 59 && ch !== 9) break;
    to--;
  }
  return to;
}

const isDigit = (c: number) => c >= 48 && c <= 57;
const isHex = (c: number) => isDigit(c) || (c >= 97 && c <= 102);

/**
 * The shard of a line's container read from its bytes, before the line is decoded, or -1 when this cannot tell (the
 * string parser then decides). It follows fastHeader and opFields exactly: "Immdd hh:mm:ss.uuuuuu", the first "] " from
 * column 21, "ADD " or "DEL ", then the 12 hex digits after the first ", ".
 */
export function shardOfLine(buf: Buffer, from: number, to: number, count: number): number {
  const c0 = buf[from];
  if ((c0 !== 73 && c0 !== 87 && c0 !== 69 && c0 !== 70) || to - from < 40 || buf[from + 5] !== 32 || buf[from + 8] !== 58 || buf[from + 11] !== 58 || buf[from + 14] !== 46) return -1;
  for (let k = 0; k < HEADER_DIGITS.length; k++) if (!isDigit(buf[from + HEADER_DIGITS[k]])) return -1;
  // Short distances: byte loops beat Buffer.indexOf's per-call cost here (a million lines per thread).
  let close = from + 21;
  while (close + 1 < to && !(buf[close] === 93 && buf[close + 1] === 32)) close++;
  if (close + 6 > to) return -1;
  const a = buf[close + 2];
  const b = buf[close + 3];
  const c = buf[close + 4];
  if (buf[close + 5] !== 32 || !((a === 65 && b === 68 && c === 68) || (a === 68 && b === 69 && c === 76))) return -1; // "ADD " or "DEL "
  let comma = close + 6;
  while (comma + 1 < to && !(buf[comma] === 44 && buf[comma + 1] === 32)) comma++;
  if (comma + 14 > to) return -1;
  let h = 0;
  for (let i = comma + 2; i < comma + 14; i++) {
    if (!isHex(buf[i])) return -1;
    h = (Math.imul(h, 31) + buf[i]) | 0;
  }
  return (h >>> 0) % count;
}

export default defineParser({
  id: 'cni-glog',
  describe: 'CNI plugin logs in glog form: ADD/DEL lines with pod, container id, netns path, CNI_ARGS, result JSON and error',
  collect: 'cat /var/log/cni/*.log (wherever the plugin logs)',
  family: 'log',
  shardOfLine,
  recognise: {
    ownLogFile: true,
    path: /(?:^|\/)(?:cni[^/]*\.log[^/]*|cni\/[^/]+\.log[^/]*)$/i,
    head: (h) => GLOG_TEST.test(h),
    sniff: (h) => h.split('\n').some((l) => GLOG_TEST.test(l) && CNI_LINE.test(l)),
  },
  open(ctx) {
    const filter = wordFilter(['] ADD ', '] DEL ']);
    const words = filter.accepts;
    const shard = ctx.shard;
    return {
      horizon: shard ? undefined : filter.horizon,
      // With a shard, another thread's lines are skipped undecoded whenever their bytes show the container.
      accepts: shard
        ? (buf, from, to) => {
            // A line whose bytes show the container holds "] ADD " or "] DEL " already: no word search.
            const s = shardOfLine(buf, from, to, shard.count);
            return s >= 0 ? inShard(shard, s) : words(buf, from, to);
          }
        : words,
      line(text, no) {
        // Read in place: offsets into the line, strings cut out only for what the fact keeps.
        const g = glogHead(text);
        if (!g) return;
        const op = opFields(text, g.msgAt);
        if (!op) return;
        const { kind, podNs, containerId, netns, restAt } = op;
        if (ctx.shard && !inShard(ctx.shard, shardOf(containerId, ctx.shard.count))) return; // another thread's container
        const dataAt = text.indexOf(', data ', restAt);
        const argsEnd = trimArgsEnd(text, restAt, dataAt >= 0 ? dataAt : text.length);
        let ips: string[] = [];
        let err: string | undefined;
        if (dataAt >= 0) {
          const jsonAt = dataAt + ', data '.length;
          // The error follows the result: ", err <nil>, <plugin's own time>" almost always, a message otherwise.
          let errAt = text.lastIndexOf(', err ');
          if (errAt < g.msgAt) errAt = -1; // in the header, not the message
          if (text.charCodeAt(jsonAt) === 123 /* { */) {
            // Fast path: the result ends right before the last ", err "; else find its end by scanning (an error text may hold ", err ").
            let end = errAt > jsonAt && text.charCodeAt(errAt - 1) === 125 /* } */ && text.indexOf(', err ', jsonAt) === errAt ? errAt : -1;
            const fast = end > 0 ? scanResultIps(text, jsonAt, end) : undefined;
            if (fast) ips = fast;
            else {
              const obj = jsonObjectAt(text, jsonAt);
              if (obj) {
                end = obj.end;
                const scanned = scanResultIps(obj.json);
                if (scanned) ips = scanned;
                else
                  try {
                    ips = resultIps(JSON.parse(obj.json));
                  } catch {
                    ctx.warn(no, 'CNI result is not valid JSON');
                  }
                errAt = text.indexOf(', err ', obj.end);
              }
            }
          } else errAt = text.indexOf(', err ', jsonAt);
          if (errAt >= 0 && !text.startsWith('<nil>', errAt + 6)) {
            // The error runs up to the plugin's own trailing timestamp, if any.
            const tail = text.slice(errAt + ', err '.length);
            const cut = /, [A-Z][a-z]{2} [ \d]\d \d{2}:\d{2}:\d{2}[.\d]*-?\s*$/.exec(tail);
            const e = (cut ? tail.slice(0, cut.index) : tail).trim();
            if (e && e !== '<nil>' && e !== 'nil') err = e;
          }
        }
        const sep = podNs.lastIndexOf('_');
        ctx.emit({
          kind: 'cniOp',
          op: kind,
          containerId,
          netnsPath: netns.trim() || undefined,
          pod: cniArg(text, 'K8S_POD_NAME', restAt, argsEnd) ?? (sep > 0 ? podNs.slice(0, sep) : podNs || undefined),
          podNamespace: cniArg(text, 'K8S_POD_NAMESPACE', restAt, argsEnd) ?? (sep > 0 ? podNs.slice(sep + 1) : undefined),
          ips,
          err,
          at: g.at,
          ev: ctx.evidence(no, text),
        });
      },
      end() {},
    };
  },
});
