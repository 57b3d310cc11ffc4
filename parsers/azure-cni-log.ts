import type { Stamp } from '../src/model/facts.js';
import { cniArg } from './cni-glog.js';
import { jsonObj, jsonStr as str } from '../src/recognise/json.js';
import { logSink, millisOf, zapUtc } from '../src/recognise/logline.js';
import { defineParser } from '../src/recognise/parser.js';

// Azure CNI (AKS), /var/log/azure-vnet.log: each invocation of the plugin is a process, and every line carries its pid.
// The request names the container, its netns and pod; the address comes in the completion line of the same pid:
//   2024/12/02 18:32:16 [5205] [cni-net] Processing ADD command with args {ContainerID:<id> Netns:<path> IfName:eth0 Args:…;K8S_POD_NAME=…;… Path:/opt/cni/bin StdinData:{…}}.
//   2024/12/02 18:32:17 [5205] [cni-net] ADD command completed for pod nginx with IPs:[{Interface:<nil> Address:{IP:10.224.0.39 Mask:ffff0000} Gateway:10.224.0.1}] err:<nil>.
//   2024/12/02 18:40:02 [6120] [cni-net] DEL command completed for pod nginx with err:<nil>.
// Older releases print the whole result ("with result:&{CNIVersion:… IPs:[…] Routes:[…] …} err:<nil>."). Since 2023 the
// plugin writes zap JSON: {"ts":"…","msg":"Processing ADD command","pid":…,"containerId":…,"netNS":…,"args":…}, then
// {"msg":"ADD command completed for","pid":…,"pod":…,"IPs":[…]} with "error" when it failed. The times of the text lines
// are the node's local time. azure-vnet-ipam.log (the IPAM plugin's own log) repeats the addresses and is not read.
// Releases before 2019 wrote no pid: invocations ran one at a time under the plugin's lock, so the last request is the one.
const TEXT = /^(\d{4})\/(\d{2})\/(\d{2}) (\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))? (?:\[(\d+)\] )?(.*)$/;
const REQUEST = /^(?:\[cni-net\] )?Processing (ADD|DEL) command with args \{ContainerID:([0-9a-f]{12,64}) Netns:(\S*) IfName:\S* Args:(\S*),? Path:/;
const DONE = /^(?:\[cni-net\] )?(ADD|DEL) command completed\b/;
const ADDRESS_TEXT = /Address:\{IP:([0-9a-fA-F.:]+) Mask:/g;
const WORDS = ['Processing ADD command', 'Processing DEL command', 'command completed'];

interface Request {
  op: 'ADD' | 'DEL';
  containerId: string;
  netnsPath?: string;
  pod?: string;
  podNamespace?: string;
}

/** The request as the text line gives it, or undefined. */
function textRequest(message: string): Request | undefined {
  const m = REQUEST.exec(message);
  if (!m) return undefined;
  return { op: m[1] as 'ADD' | 'DEL', containerId: m[2], netnsPath: m[3].startsWith('/') ? m[3] : undefined, pod: cniArg(m[4], 'K8S_POD_NAME'), podNamespace: cniArg(m[4], 'K8S_POD_NAMESPACE') };
}

/** The end of the bracketed list that opens at `from` ("[" … its matching "]"), or -1. */
function closing(text: string, from: number): number {
  let depth = 0;
  for (let i = from; i < text.length; i++) {
    const c = text[i];
    if (c === '[' || c === '{') depth++;
    else if ((c === ']' || c === '}') && --depth === 0) return i;
  }
  return -1;
}

/** A text completion line's addresses (its "IPs:[…]" only: routes print addresses too) and error; "<nil>" is none. */
function textOutcome(message: string): { ips: string[]; err?: string } {
  const at = message.indexOf('IPs:[');
  const end = at < 0 ? -1 : closing(message, at + 4);
  const ips = end < 0 ? [] : [...message.slice(at, end).matchAll(ADDRESS_TEXT)].map((m) => m[1]);
  const errAt = message.indexOf(' err:', Math.max(end, 0));
  const err = errAt < 0 ? undefined : message.slice(errAt + 5).replace(/\.$/, '').trim();
  return { ips, err: err && err !== '<nil>' ? err : undefined };
}

type Json = Record<string, unknown>;

/** Addresses in a zap "IPs" list: {"address":"10.1.2.3/16"} (the CNI result's JSON) or {"Address":{"IP":"10.1.2.3",…}}. */
function zapIps(list: unknown): string[] {
  const out: string[] = [];
  if (!Array.isArray(list)) return out;
  for (const e of list) {
    if (!e || typeof e !== 'object') continue;
    const o = e as Json;
    const a = str(o.address) ?? str(o.Address) ?? str(jsonObj(o.Address)?.IP);
    if (a) out.push(a.split('/')[0]);
  }
  return out;
}

export default defineParser({
  id: 'azure-cni-log',
  describe: 'Azure CNI plugin log (AKS, /var/log/azure-vnet.log, text or zap JSON): ADD/DEL requests joined to their completion (the IP, the error) by pid',
  collect: 'cat /var/log/azure-vnet.log*',
  family: 'log',
  recognise: {
    ownLogFile: true,
    path: /(?:^|\/)azure-vnet\.log[^/]*$/,
    sniff: (h) => h.split('\n').slice(0, 60).some((l) => /\[cni-net\] Processing (?:ADD|DEL) command with args \{ContainerID:|"msg":"(?:\[cni-net\] )?Processing (?:ADD|DEL) command"/.test(l)),
  },
  open(ctx) {
    const requests = new Map<string, Request>(); // per pid: the command that process is running
    return logSink(ctx, WORDS, ({ text, no, payload, prefix, pick }) => {
      let own: Stamp | undefined;
      let pid: string;
      let request: Request | undefined;
      let done: { op: string; ips: string[]; err?: string } | undefined;
      if (payload.startsWith('{')) {
        let doc: Json;
        try {
          doc = JSON.parse(payload) as Json;
        } catch {
          return;
        }
        const msg = (str(doc.msg) ?? '').replace(/^\[cni-net\] /, '');
        pid = String(doc.pid ?? '');
        const utc = zapUtc(doc.ts);
        if (!Number.isNaN(utc)) own = { kind: 'exact', utc };
        const req = /^Processing (ADD|DEL) command$/.exec(msg);
        const id = str(doc.containerId) ?? '';
        if (req && /^[0-9a-f]{12,64}$/.test(id)) {
          const netns = str(doc.netNS) ?? '';
          const args = str(doc.args) ?? '';
          request = { op: req[1] as 'ADD' | 'DEL', containerId: id, netnsPath: netns.startsWith('/') ? netns : undefined, pod: cniArg(args, 'K8S_POD_NAME'), podNamespace: cniArg(args, 'K8S_POD_NAMESPACE') };
        } else {
          const d = DONE.exec(msg);
          const err = str(doc.error) ?? str(doc.err);
          const result = jsonObj(doc.result);
          if (d) done = { op: d[1], ips: zapIps(doc.IPs ?? result?.IPs ?? result?.ips), err: err && err !== '<nil>' ? err : undefined };
        }
      } else {
        const m = TEXT.exec(payload);
        if (!m) return;
        own = { kind: 'local', year: Number(m[1]), month: Number(m[2]), day: Number(m[3]), hour: Number(m[4]), minute: Number(m[5]), second: Number(m[6]), millis: millisOf(m[7]) };
        pid = m[8] ?? '';
        const message = m[9];
        if (!message.startsWith('[cni-net] ')) return; // the IPAM plugin's "[cni-ipam] ADD command completed" is not the pod's
        request = textRequest(message);
        const d = request ? undefined : DONE.exec(message);
        if (d) done = { op: d[1], ...textOutcome(message) };
      }
      if (request) {
        requests.set(pid, request);
        return;
      }
      const req = done && requests.get(pid);
      if (!done || !req || req.op !== done.op) return;
      requests.delete(pid);
      const at = pick(own, prefix, no);
      if (!at) return;
      // A failed ADD's addresses were given back by the plugin (cleanupAllocationOnError): it holds none.
      const ips = done.op === 'ADD' && !done.err ? done.ips : [];
      ctx.emit({ kind: 'cniOp', op: req.op, containerId: req.containerId, netnsPath: req.netnsPath, pod: req.pod, podNamespace: req.podNamespace, ips, err: done.err, at, ev: ctx.evidence(no, text) });
    });
  },
});
