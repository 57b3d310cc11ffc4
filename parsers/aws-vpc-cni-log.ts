import type { Stamp } from '../src/model/facts.js';
import { cniArg } from './cni-glog.js';
import { logSink, zapUtc } from '../src/recognise/logline.js';
import { defineParser } from '../src/recognise/parser.js';

// Amazon VPC CNI (EKS), /var/log/aws-routed-eni/plugin.log: zap JSON lines since v1.8,
//   {"level":"info","ts":"2024-03-10T17:25:08.487Z","caller":"routed-eni-cni-plugin/cni.go:125","msg":"Received CNI add request: …"}
// and "2019-03-12T20:40:42Z [INFO] Received CNI add request: …" before. A request names the container, its netns and
// pod; the address comes in ipamd's response a few lines later, keyed by the same container id:
//   Received CNI add request: ContainerID(<id>) Netns(<path>) IfName(eth0) Args(…K8S_POD_NAMESPACE=…;K8S_POD_NAME=…) …
//   Received add network response from ipamd for container <id> interface eth0: Success:true IPv4Addr:"10.0.1.186" …
//   Received CNI del request: ContainerID(<id>) Netns(<path>) …
//   Received del network response for pod <pod> namespace <ns> sandbox <id>: Success:true IPv4Addr:"172.16.2.160"
//   Error received from DelNetwork gRPC call for container <id>: <error>
const ZAP = /^\{.*"msg":/;
const TEXT = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:?\d{2})) \[(\w+)\] (.*)$/;
const REQUEST = /^Received CNI (add|del) request: ContainerID\(([0-9a-f]{12,64})\) Netns\(([^)]*)\) IfName\([^)]*\) Args\(([^)]*)\)/;
const ADD_REPLY = /^Received add network response (?:from ipamd )?for (?:container ([0-9a-f]{12,64})|pod \S+ namespace \S+ sandbox ([0-9a-f]{12,64}))(?: interface \S+)?: Success:(true|false)(.*)$/;
const DEL_REPLY = /^Received del network response (?:from ipamd )?for pod (\S+) namespace (\S+) sandbox ([0-9a-f]{12,64}): Success:(true|false)(.*)$/;
const FAILED = /^(?:Error received from (Add|Del)Network gRPC call for container ([0-9a-f]{12,64}): (.*)|Failed to process (add|delete) request for pod \S+ namespace \S+ container ([0-9a-f]{12,64}): (.*))$/;
const GONE = /^Container ([0-9a-f]{12,64}) not found$/;
const WORDS = ['CNI add request', 'CNI del request', 'network response', 'Network gRPC call', 'request for pod', 'not found'];

interface Request {
  netns?: string;
  pod?: string;
  podNamespace?: string;
}

/** The addresses in an ipamd reply: IPv4Addr:"10.0.1.186", IPv6Addr:"…" (an empty one is no address). */
const addrs = (rest: string) => [...rest.matchAll(/IPv[46]Addr:"([^"]+)"/g)].map((m) => m[1]);

export default defineParser({
  id: 'aws-vpc-cni-log',
  describe: 'Amazon VPC CNI plugin log (EKS, /var/log/aws-routed-eni/plugin.log): ADD/DEL requests joined to ipamd\'s replies (the IP), and failed DELs',
  collect: 'cat /var/log/aws-routed-eni/plugin.log*',
  family: 'log',
  recognise: {
    ownLogFile: true,
    path: /(?:^|\/)aws-routed-eni\/plugin[^/]*\.log[^/]*$/,
    sniff: (h) => h.split('\n').slice(0, 30).some((l) => /Received CNI (?:add|del) request: ContainerID\(|routed-eni-cni-plugin\//.test(l)),
  },
  open(ctx) {
    const adds = new Map<string, Request>();
    const dels = new Map<string, Request>();
    return logSink(ctx, WORDS, ({ text, no, payload, prefix, pick }) => {
      let utc = NaN;
      let message: string | undefined;
      if (ZAP.test(payload)) {
        try {
          const doc = JSON.parse(payload) as { ts?: unknown; msg?: unknown };
          if (typeof doc.msg === 'string') message = doc.msg;
          utc = zapUtc(doc.ts);
        } catch {
          return;
        }
      } else {
        const m = TEXT.exec(payload);
        if (m) [utc, message] = [Date.parse(m[1]), m[3]];
      }
      if (!message) return;
      const own: Stamp | undefined = Number.isNaN(utc) ? undefined : { kind: 'exact', utc };
      const req = REQUEST.exec(message);
      if (req) {
        const [, op, id, netns, args] = req;
        (op === 'add' ? adds : dels).set(id, { netns: netns || undefined, pod: cniArg(args, 'K8S_POD_NAME'), podNamespace: cniArg(args, 'K8S_POD_NAMESPACE') });
        return;
      }
      const at = pick(own, prefix, no);
      if (!at) return;
      const emit = (op: 'ADD' | 'DEL', id: string, ips: string[], err: string | undefined, known: Request | undefined, pod?: string, podNamespace?: string) =>
        ctx.emit({ kind: 'cniOp', op, containerId: id, netnsPath: known?.netns, pod: known?.pod ?? pod, podNamespace: known?.podNamespace ?? podNamespace, ips, err, at, ev: ctx.evidence(no, text) });
      const add = ADD_REPLY.exec(message);
      if (add) {
        const id = add[1] ?? add[2];
        const ips = addrs(add[4]);
        emit('ADD', id, add[3] === 'true' ? ips : [], add[3] === 'true' && ips.length ? undefined : 'ipamd assigned no address', adds.get(id));
        adds.delete(id);
        return;
      }
      const del = DEL_REPLY.exec(message);
      if (del) {
        const [, pod, podNamespace, id, ok] = del;
        emit('DEL', id, [], ok === 'true' ? undefined : 'ipamd did not release the address', dels.get(id), pod, podNamespace);
        dels.delete(id);
        return;
      }
      const failed = FAILED.exec(message);
      if (failed) {
        const op = (failed[1] ?? failed[4]) === 'Add' || failed[4] === 'add' ? 'ADD' : 'DEL';
        const id = failed[2] ?? failed[5];
        const err = (failed[3] ?? failed[6]).trim();
        emit(op, id, [], err && err !== '<nil>' ? err : 'ipamd returned no success', (op === 'ADD' ? adds : dels).get(id));
        return;
      }
      const gone = GONE.exec(message);
      if (gone && dels.has(gone[1])) {
        emit('DEL', gone[1], [], undefined, dels.get(gone[1])); // nothing left to release: the DEL succeeds
        dels.delete(gone[1]);
      }
    });
  },
});
