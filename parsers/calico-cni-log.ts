import type { Stamp } from '../src/model/facts.js';
import { cniArg } from './cni-glog.js';
import { logrusStamp, logSink, parseKv, parseLogrus } from '../src/recognise/logline.js';
import { defineParser } from '../src/recognise/parser.js';

// Calico's CNI plugin (cni-plugin k8s.go, ipam_plugin.go, utils.go; libcalico-go logutils.Formatter):
//   2021-10-27 12:32:05.123 [INFO][2659767] k8s.go 373: Calico CNI using IPs: [172.29.168.137/32] ContainerID="…" Namespace="userz" Pod="…"
// Local time with no zone, milliseconds; key=value pairs sorted by key. Written to /var/log/calico/cni/cni.log (v3.16+) and to
// stderr, which the runtime's journal captures (kubelet, containerd, crio). Before v1.10 logrus text: time="…" level=… msg="…".
const LINE = /^(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2})\.(\d{3}) \[(\w+)\]\[(\d+)\] (\S+) (\d+): (.*)$/;
const WORDS = ['ContainerID=', 'CNI_CONTAINERID='];
const USING = /^Calico CNI using IPs: \[([^\]]*)\]/;
const COMMAND = /CmdAddK8s|CmdDelK8s|CNI_COMMAND=(ADD|DEL)/;
const ENV_NETNS = /CNI_NETNS=([^\s\]]*)/;
const ENV_ARGS = /CNI_ARGS=([^\s\]]*)/; // the environment is printed as a Go slice: "[… CNI_ARGS=…]"
const KV_START = / (?=(?:ContainerID|HandleID|Workload|WorkloadEndpoint|Namespace|Pod|Node|Orchestrator|IPv4|IPv6|assignArgs|calicoNode|cidr|handle|host|block|error|netns)=)/;

interface Pending {
  op: 'ADD' | 'DEL';
  netnsPath?: string;
  pod?: string;
  podNamespace?: string;
}

export default defineParser({
  id: 'calico-cni-log',
  describe: 'Calico CNI plugin log (cni.log, or its stderr in a runtime journal): IPs assigned per container, releases, teardown and errors',
  collect: 'cat /var/log/calico/cni/cni.log*',
  family: 'log',
  recognise: {
    ownLogFile: true,
    path: /(?:^|\/)calico\/cni\/cni[^/]*\.log[^/]*$/,
    sniff: (h) => h.split('\n').slice(0, 30).some((l) => /\d{4}-\d{2}-\d{2} [\d:.]{12} \[(?:INFO|WARNING|ERROR|DEBUG)\]\[\d+\] \S+\.go \d+: /.test(l)),
  },
  open(ctx) {
    const pending = new Map<string, Pending>(); // per container: the command in progress, from "Extracted identifiers for CmdDelK8s" etc.
    return logSink(ctx, WORDS, ({ text, no, payload, prefix, pick }) => {
      let own: Stamp | undefined;
      let level: string;
      let message: string;
      let kv: Record<string, string>;
      const m = LINE.exec(payload);
      if (m) {
        own = { kind: 'local', year: Number(m[1]), month: Number(m[2]), day: Number(m[3]), hour: Number(m[4]), minute: Number(m[5]), second: Number(m[6]), millis: Number(m[7]) };
        level = m[8];
        const body = m[12];
        const cut = body.search(KV_START);
        message = (cut >= 0 ? body.slice(0, cut) : body).trim();
        kv = cut >= 0 ? parseKv(body.slice(cut)) : {};
      } else {
        const l = parseLogrus(payload);
        if (!l || !('ContainerID' in l.fields)) return;
        own = logrusStamp(l.time);
        level = l.level.toUpperCase();
        message = l.msg;
        kv = l.fields;
      }
      const env = /Configured environment: \[/.test(message) ? message : '';
      const id = kv.ContainerID || /CNI_CONTAINERID=([0-9a-f]{12,64})/.exec(env)?.[1];
      if (!id || !/^[0-9a-f]{12,64}$/.test(id)) return;
      const at = pick(own, prefix, no);
      if (!at) return;
      const cmd = COMMAND.exec(message);
      if (cmd) {
        const args = ENV_ARGS.exec(env)?.[1] ?? '';
        pending.set(id, {
          op: cmd[1] === 'DEL' || cmd[0] === 'CmdDelK8s' ? 'DEL' : 'ADD',
          netnsPath: ENV_NETNS.exec(env)?.[1] || pending.get(id)?.netnsPath,
          pod: kv.Pod || cniArg(args, 'K8S_POD_NAME') || pending.get(id)?.pod,
          podNamespace: kv.Namespace || cniArg(args, 'K8S_POD_NAMESPACE') || pending.get(id)?.podNamespace,
        });
        return;
      }
      const p = pending.get(id);
      const base = { kind: 'cniOp' as const, containerId: id, pod: kv.Pod || p?.pod, podNamespace: kv.Namespace || p?.podNamespace, netnsPath: p?.netnsPath, at, ev: ctx.evidence(no, text) };
      const using = USING.exec(message);
      if (using) {
        const ips = using[1].split(/[\s,]+/).filter(Boolean).map((x) => x.split('/')[0]);
        ctx.emit({ ...base, op: 'ADD', ips });
        pending.delete(id);
      } else if (/^Teardown processing complete/.test(message)) {
        ctx.emit({ ...base, op: 'DEL', ips: [] });
        pending.delete(id);
      } else if (level === 'ERROR' || level === 'FATAL' || level === 'PANIC') {
        ctx.emit({ ...base, op: p?.op ?? 'ADD', ips: [], err: kv.error ? `${message}: ${kv.error}` : message });
      }
    });
  },
});
