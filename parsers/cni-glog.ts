import { jsonValueEnd } from '../src/recognise/json.js';
import { anyWord, defineParser } from '../src/recognise/parser.js';

import { GLOG_TEST, parseGlog } from '../src/timeline/glog.js';

// "ADD <pod>_<ns>, <container id>, <netns>, <CNI_ARGS> ;, data <result JSON>, err <nil>, <plugin's own time>"
const OP = /^(ADD|DEL) ([^,]*), ([0-9a-f]{12,64}), ([^,]*), /;
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

/** `K8S_POD_NAME=x` out of `IgnoreUnknown=1;K8S_POD_NAMESPACE=demo;K8S_POD_NAME=x ;` (indexOf: this runs per log line). */
export function cniArg(args: string, key: string): string | undefined {
  for (let at = args.indexOf(`${key}=`); at >= 0; at = args.indexOf(`${key}=`, at + 1)) {
    const before = at === 0 ? ';' : args[at - 1];
    if (before !== ';' && before !== ' ' && before !== '\t') continue;
    let end = at + key.length + 1;
    while (end < args.length && args[end] !== ';' && args[end] !== ' ' && args[end] !== '\t') end++;
    return args.slice(at + key.length + 1, end) || undefined;
  }
  return undefined;
}

/**
 * IPs of a CNI result without building the JSON: the values of "ip" (spec 0.1/0.2 `ip4.ip`) and "address"
 * (0.3+ `ips[].address`), the only keys of a result that hold addresses. Undefined when the text is unusual.
 */
export function scanResultIps(json: string): string[] | undefined {
  const out: string[] = [];
  for (const key of ['"ip":"', '"address":"']) {
    for (let at = json.indexOf(key); at >= 0; at = json.indexOf(key, at + key.length)) {
      const from = at + key.length;
      const end = json.indexOf('"', from);
      if (end < 0) return undefined;
      const value = json.slice(from, end);
      if (!/^[0-9a-fA-F.:]+(?:\/\d+)?$/.test(value)) return undefined;
      out.push(value.split('/')[0]);
    }
  }
  return out;
}

export default defineParser({
  id: 'cni-glog',
  describe: 'CNI plugin logs in glog form: ADD/DEL lines with pod, container id, netns path, CNI_ARGS, result JSON and error',
  collect: 'cat /var/log/cni/*.log (wherever the plugin logs)',
  family: 'log',
  recognise: {
    ownLogFile: true,
    path: /(?:^|\/)(?:cni[^/]*\.log[^/]*|cni\/[^/]+\.log[^/]*)$/i,
    head: (h) => GLOG_TEST.test(h),
    sniff: (h) => h.split('\n').some((l) => GLOG_TEST.test(l) && CNI_LINE.test(l)),
  },
  open(ctx) {
    return {
      accepts: anyWord(['] ADD ', '] DEL ']),
      line(text, no) {
        const g = parseGlog(text);
        if (!g) return;
        const m = OP.exec(g.message);
        if (!m) return;
        const [, op, podNs, containerId, netns] = m;
        let rest = g.message.slice(m[0].length);
        const dataAt = rest.indexOf(', data ');
        let args = dataAt >= 0 ? rest.slice(0, dataAt) : rest;
        for (let e = args.length; e > 0; e--) {
          const ch = args[e - 1];
          if (ch !== ' ' && ch !== ';' && ch !== '\t') {
            args = args.slice(0, e);
            break;
          }
        }
        let ips: string[] = [];
        let err: string | undefined;
        if (dataAt >= 0) {
          rest = rest.slice(dataAt + ', data '.length);
          const obj = jsonObjectAt(rest, 0);
          if (obj) {
            const fast = scanResultIps(obj.json);
            if (fast) ips = fast;
            else
              try {
                ips = resultIps(JSON.parse(obj.json));
              } catch {
                ctx.warn(no, 'CNI result is not valid JSON');
              }
            rest = rest.slice(obj.end);
          }
          const errAt = rest.indexOf(', err ');
          if (errAt >= 0) {
            // The error runs up to the plugin's own trailing timestamp, if any.
            const tail = rest.slice(errAt + ', err '.length);
            const cut = /, [A-Z][a-z]{2} [ \d]\d \d{2}:\d{2}:\d{2}[.\d]*-?\s*$/.exec(tail);
            const e = (cut ? tail.slice(0, cut.index) : tail).trim();
            if (e && e !== '<nil>' && e !== 'nil') err = e;
          }
        }
        const sep = podNs.lastIndexOf('_');
        ctx.emit({
          kind: 'cniOp',
          op: op as 'ADD' | 'DEL',
          containerId,
          netnsPath: netns.trim() || undefined,
          pod: cniArg(args, 'K8S_POD_NAME') ?? (sep > 0 ? podNs.slice(0, sep) : podNs || undefined),
          podNamespace: cniArg(args, 'K8S_POD_NAMESPACE') ?? (sep > 0 ? podNs.slice(sep + 1) : undefined),
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
