import type { SandboxEventKind } from '../src/model/facts.js';
import { logSink, parseKv, rpcDesc, sandboxIdIn, unquote } from '../src/recognise/logline.js';
import { defineParser } from '../src/recognise/parser.js';
import { parseGlog } from '../src/timeline/glog.js';

// kubelet (glog/klog) lines about pod sandboxes, bare or behind a journald prefix. Strings from
// pkg/kubelet/dockershim/docker_sandbox.go, kuberuntime_{manager,gc,sandbox}.go, remote_runtime.go and network/cni/cni.go.
const WORDS = ['Sandbox', 'sandbox', 'teardown', 'TeardownNetwork', 'Error deleting network', 'network namespace path', 'no IP addresses available'];

interface Pattern {
  test: RegExp;
  event: SandboxEventKind;
}
// Order matters: the first that matches a message decides its kind.
const PATTERNS: Pattern[] = [
  { test: /RunPodSandbox from runtime service failed|CreatePodSandbox for pod .* failed|failed to set up (?:sandbox container|pod) .*network|failed to setup network for sandbox|no IP addresses available/, event: 'add-failed' },
  { test: /StopPodSandbox .* from runtime service failed|Failed to stop sandbox|KillPodSandbox|TeardownNetwork|Failed to teardown (?:sandbox|network)|Error deleting network|failed to destroy network for sandbox|failed to teardown pod/i, event: 'teardown-failed' },
  { test: /CNI failed to retrieve network namespace path/, event: 'stop' },
];

const POD_QUOTED = /pod \\?"([^"\\]+)_([^"\\_]+)\\?"/; // pod "name_namespace" (dockershim and CRI both format it so)
const POD_SANDBOX_NAME = /k8s_(?:POD_)?([^_\s(]+)_([^_\s(]+)_[0-9a-f-]+_\d+\(([0-9a-f]{64})\)/; // k8s_<pod>_<ns>_<uid>_<n>(<id>)
const NETNS_PATH = /"?(\/proc\/\d+\/ns\/net|\/(?:var\/)?run\/[\w./-]*netns\/[\w.-]+)"?/;

/**
 * What a kubelet message says about a sandbox (its kind, id, pod, netns path and error), or undefined when it says
 * nothing: also for the messages of kubelet's events (`kubectl get events`), which are the same strings.
 */
export function sandboxEventIn(message: string): { event: SandboxEventKind; sandboxId?: string; pod?: string; podNamespace?: string; netnsPath?: string; err?: string } | undefined {
  const p = PATTERNS.find((x) => x.test.test(message));
  if (!p) return undefined;
  const named = POD_SANDBOX_NAME.exec(message);
  const pod = POD_QUOTED.exec(message);
  return {
    event: p.event,
    sandboxId: named?.[3] ?? sandboxIdIn(message),
    pod: named?.[1] ?? pod?.[1],
    podNamespace: named?.[2] ?? pod?.[2],
    netnsPath: NETNS_PATH.exec(message)?.[1],
    err: p.event === 'stop' ? undefined : errorOf(message),
  };
}

/** The error part of a kubelet message: after "failed: ", "error: ", or the first ": " after the subject. */
function errorOf(message: string): string | undefined {
  const at = message.search(/(?:failed|error|Error|before removing)(?: \([^)]*\))?: /);
  if (at < 0) return undefined;
  const rest = message.slice(message.indexOf(': ', at) + 2);
  return rpcDesc(unquote(rest.trim()));
}

export default defineParser({
  id: 'kubelet-log',
  describe: 'kubelet glog/klog lines about pod sandboxes (RunPodSandbox, StopPodSandbox, KillPodSandbox, teardown failures), bare or in journald exports',
  collect: 'journalctl -u kubelet --since "7 days ago" -o short-iso',
  family: 'log',
  recognise: {
    // Any journal or syslog file: the whole log family reads it (this parser is only its entry point).
    command: /^journalctl\b/,
    path: /(?:^|\/)(?:kubelet[^/]*\.log[^/]*|var\/log\/(?:messages|syslog|daemon\.log)(?:[.-]\d+)?)$/,
    // journalctl -o json (any unit: the family reads it), or kubelet's own lines.
    sniff: (h) => h.split('\n').slice(0, 30).some((l) => (l.startsWith('{') && l.includes('"__REALTIME_TIMESTAMP"') && l.includes('"MESSAGE"')) || /kubelet(?:-wrapper)?(?:\[\d+\])?: [IWEF]\d{4} /.test(l) || /^[IWEF]\d{4} [\d:.]+\s+\d+ (?:kubelet|kuberuntime_\w+|remote_runtime|pod_workers|docker_sandbox|cni)\.go:\d+\]/.test(l)),
  },
  open(ctx) {
    return logSink(ctx, WORDS, ({ text, no, payload, prefix, pick }) => {
      if (prefix && !/^kubelet/.test(prefix.unit)) return;
      const g = parseGlog(payload);
      if (!g) return;
      let message = g.message;
      // klog structured: "RunPodSandbox from runtime service failed" err="rpc error: …" podSandboxID="…"
      if (message.startsWith('"')) {
        const close = message.search(/[^\\]"/) + 1;
        const kv = parseKv(message.slice(close + 1));
        message = `${unquote(message.slice(0, close + 1))}${kv.err ? `: ${kv.err}` : ''}${kv.podSandboxID ? ` sandbox "${kv.podSandboxID}"` : ''}${kv.pod ? ` pod "${kv.pod.replace('/', '_')}"` : ''}`;
      }
      const s = sandboxEventIn(message);
      if (!s) return;
      const at = pick(g.at, prefix, no);
      if (!at) return;
      ctx.emit({
        kind: 'sandboxEvent',
        daemon: 'kubelet',
        ...s,
        message: message.length > 400 ? `${message.slice(0, 400)}…` : message,
        at,
        ev: ctx.evidence(no, text),
      });
    });
  },
});
