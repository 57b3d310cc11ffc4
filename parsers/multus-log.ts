import { cniArg, resultIps, scanResultIps } from './cni-glog.js';
import { jsonValueEnd } from '../src/recognise/json.js';
import { logSink } from '../src/recognise/logline.js';
import { defineParser } from '../src/recognise/parser.js';

// multus-cni (pkg/logging/logging.go): "<RFC3339> [level] message". Per delegate network:
//   < v3.4.2:  "Add: ns:pod:netName:ifname <result JSON>"              "Del: ns:pod:netName:ifname <netconf JSON>"
//   ≥ v3.4.2:  "Add: ns:pod:podUID:netAttachDef(confName):ifname <result>"  "Del: ns:pod:podUID:confName:ifname <netconf>"
// These carry no container id; it comes from the request line before them ("cmdAdd: &{<id> <netns> …" at debug level,
// or the thick plugin's "ADD starting CNI request ContainerID:"<id>" Netns:"<path>" … Args:"…"").
const LINE = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:\d{2})) \[(\w+)\] (.*)$/;
const WORDS = ['Add: ', 'Del: ', 'cmdAdd', 'cmdDel', 'CNI request', 'Multus: '];
const REQUEST_OLD = /^cmd(Add|Del): &\{([0-9a-f]{12,64}) (\S*) (\S+) (\S*)/;
const REQUEST_THICK = /^(ADD|DEL) starting CNI request ContainerID:"([0-9a-f]{12,64})" Netns:"([^"]*)" IfName:"([^"]*)" Args:"([^"]*)/;
const ADD_DEL = /^(Add|Del): ([^:\s]+):([^:\s]+):(.*?) (\{.*)$/;

interface Request {
  id: string;
  netns?: string;
}

export default defineParser({
  id: 'multus-log',
  describe: 'multus CNI log (logFile, or stderr in a runtime journal): per-attachment Add/Del with IPs, joined to the request\'s container id',
  collect: 'cat /var/log/multus.log* (the "logFile" of the multus CNI config)',
  family: 'log',
  recognise: {
    ownLogFile: true,
    path: /(?:^|\/)multus[^/]*\.log[^/]*$/,
    sniff: (h) => h.split('\n').slice(0, 30).some((l) => LINE.test(l) && /\] (?:Add|Del): |\] cmd(?:Add|Del): &\{|\] (?:ADD|DEL) starting CNI request/.test(l)),
  },
  open(ctx) {
    const byPod = new Map<string, Request>(); // "ns/pod" → the request in progress
    return logSink(ctx, WORDS, ({ text, no, payload, prefix, pick }) => {
      const m = LINE.exec(payload);
      if (!m) return;
      const utc = Date.parse(m[1]);
      const message = m[3];
      const req = REQUEST_THICK.exec(message) ?? REQUEST_OLD.exec(message);
      if (req) {
        const args = req[5];
        const ns = cniArg(args, 'K8S_POD_NAMESPACE');
        const pod = cniArg(args, 'K8S_POD_NAME');
        if (ns && pod) byPod.set(`${ns}/${pod}`, { id: req[2], netns: req[3] || undefined });
        return;
      }
      const ad = ADD_DEL.exec(message);
      const at = pick(Number.isNaN(utc) ? undefined : { kind: 'exact', utc }, prefix, no);
      if (!at) return;
      if (ad) {
        const [, op, ns, pod, , json] = ad;
        const known = byPod.get(`${ns}/${pod}`);
        if (!known) return; // no container id for this pod in the file: the line stays evidence only
        let ips: string[] = [];
        let netns = known.netns;
        if (op === 'Add') {
          const end = jsonValueEnd(json, 0);
          const doc = end !== undefined ? json.slice(0, end) : json;
          ips = scanResultIps(doc) ?? [];
          if (!ips.length && end !== undefined)
            try {
              ips = resultIps(JSON.parse(doc));
            } catch {
              /* truncated result: no IPs */
            }
          netns = /"sandbox":"([^"]+)"/.exec(json)?.[1] ?? netns;
        }
        ctx.emit({ kind: 'cniOp', op: op === 'Add' ? 'ADD' : 'DEL', containerId: known.id, netnsPath: netns, pod, podNamespace: ns, ips, at, ev: ctx.evidence(no, text) });
        return;
      }
      const err = /^Multus: \[([^/\]]+)\/([^\]]+)\]: (error .*)$|^Multus: (error (?:adding|deleting) pod .*)$/.exec(message);
      if (err && m[2] === 'error') {
        const known = err[1] ? byPod.get(`${err[1]}/${err[2]}`) : undefined;
        if (!known) return;
        const op = /deleting|delegateDel/.test(message) ? 'DEL' : 'ADD';
        ctx.emit({ kind: 'cniOp', op, containerId: known.id, netnsPath: known.netns, pod: err[2], podNamespace: err[1], ips: [], err: err[3] ?? err[4], at, ev: ctx.evidence(no, text) });
      }
    });
  },
});
