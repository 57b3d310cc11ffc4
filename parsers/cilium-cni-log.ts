import { cniArg } from './cni-glog.js';
import { logrusStamp, logSink, parseLogrus } from '../src/recognise/logline.js';
import { defineParser } from '../src/recognise/parser.js';

// Cilium's CNI plugin (/var/run/cilium/cilium-cni.log, logrus text with subsys=cilium-cni):
//   level=debug msg="Processing CNI DEL request &skel.CmdArgs{ContainerID:\"…\", Netns:\"/var/run/netns/cni-…\", IfName:\"eth0\", Args:\"…\", …"
//   level=warning msg="Errors encountered while deleting endpoint" containerID=… error="[DELETE /endpoint][404] deleteEndpointNotFound "
const WORDS = ['cilium-cni'];
const REQUEST = /Processing CNI (ADD|DEL) request &skel\.CmdArgs\{ContainerID:"([0-9a-f]{12,64})", Netns:"([^"]*)", IfName:"([^"]*)", Args:"([^"]*)"/;

export default defineParser({
  id: 'cilium-cni-log',
  describe: 'Cilium CNI plugin log (logrus, subsys=cilium-cni): ADD/DEL requests with netns path and pod, endpoint deletion errors',
  collect: 'cat /var/run/cilium/cilium-cni.log*',
  family: 'log',
  recognise: {
    ownLogFile: true,
    path: /(?:^|\/)cilium-cni[^/]*\.log[^/]*$/,
    sniff: (h) => h.split('\n').slice(0, 30).some((l) => /level=\w+ msg=.*subsys=cilium-cni/.test(l)),
  },
  open(ctx) {
    return logSink(ctx, WORDS, ({ text, no, payload, prefix, pick }) => {
      const l = parseLogrus(payload);
      if (!l || l.fields.subsys !== 'cilium-cni') return;
      const at = pick(logrusStamp(l.time), prefix, no);
      if (!at) return;
      const req = REQUEST.exec(l.msg);
      if (req && req[1] === 'DEL') {
        ctx.emit({ kind: 'cniOp', op: 'DEL', containerId: req[2], netnsPath: req[3] || undefined, pod: cniArg(req[5], 'K8S_POD_NAME'), podNamespace: cniArg(req[5], 'K8S_POD_NAMESPACE'), ips: [], at, ev: ctx.evidence(no, text) });
      } else if ((l.level === 'error' || l.level === 'fatal') && l.fields.containerID) {
        ctx.emit({ kind: 'cniOp', op: /delet/i.test(l.msg) ? 'DEL' : 'ADD', containerId: l.fields.containerID, ips: [], err: `${l.msg}${l.fields.error ? `: ${l.fields.error}` : ''}`, at, ev: ctx.evidence(no, text) });
      }
    });
  },
});
