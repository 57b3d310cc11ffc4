import type { SandboxEventKind } from '../src/model/facts.js';
import { logrusStamp, logSink, parseLogrus, rpcDesc, sandboxIdIn } from '../src/recognise/logline.js';
import { defineParser } from '../src/recognise/parser.js';

// CRI-O (server/sandbox_run_linux.go, sandbox_stop_linux.go, sandbox_network.go): logrus text with a space in the time,
// time="2024-06-04 00:29:28.046098922+08:00" level=info msg="…" id=<request uuid> name=/runtime.v1.RuntimeService/<Method>
const WORDS = ['pod sandbox', 'pod network', 'network for pod'];

const PATTERNS: { test: RegExp; event: SandboxEventKind }[] = [
  { test: /^Ran pod sandbox [0-9a-f]{64}/, event: 'run' },
  { test: /^Got pod network &\{/, event: 'netns' }, // logged on both setup and teardown
  { test: /failed to destroy network for pod sandbox|[Ee]rror stopping network|[Ff]ailed to (?:remove|unmount|clean up) (?:network )?namespace/, event: 'teardown-failed' },
  { test: /(?:error|failed) (?:adding|creating) pod network|failed to create pod network sandbox/i, event: 'add-failed' },
  { test: /^Stopped pod sandbox: [0-9a-f]{64}/, event: 'stop' },
  { test: /^Removed pod sandbox: [0-9a-f]{64}/, event: 'removed' },
];
const RAN = /^Ran pod sandbox ([0-9a-f]{64}) with infra container: ([^/\s]+)\/([^/\s]+)\//;
const GOT = /Name:(\S+) Namespace:(\S+) ID:([0-9a-f]{64}) UID:\S* NetNS:(\S*)/;

export default defineParser({
  id: 'crio-log',
  describe: 'CRI-O logs (logrus text, bare or in journald exports): sandbox run and stop, the netns path of each sandbox, network teardown failures',
  collect: 'journalctl -u crio --since "7 days ago" -o short-iso',
  family: 'log',
  recognise: {
    command: /^journalctl\b.*(-u|--unit)[ =]crio\b/,
    path: /(?:^|\/)cri-?o[^/]*\.log[^/]*$/,
    sniff: (h) => h.split('\n').slice(0, 30).some((l) => /crio(?:\[\d+\])?: time="/.test(l) || /^time="\d{4}-\d{2}-\d{2} [\d:.]+[+-Z]/.test(l)),
  },
  open(ctx) {
    return logSink(ctx, WORDS, ({ text, no, payload, prefix, pick }) => {
      const l = parseLogrus(payload);
      if (!l) return;
      if (prefix ? !/^crio/.test(prefix.unit) : !l.time.includes(' ')) return;
      const p = PATTERNS.find((x) => x.test.test(l.msg));
      if (!p) return;
      const at = pick(logrusStamp(l.time), prefix, no);
      if (!at) return;
      const ran = RAN.exec(l.msg);
      const got = GOT.exec(l.msg);
      const errText = l.fields.error ?? l.fields.err;
      ctx.emit({
        kind: 'sandboxEvent',
        daemon: 'crio',
        event: p.event,
        sandboxId: ran?.[1] ?? got?.[3] ?? sandboxIdIn(l.msg),
        pod: ran?.[3] ?? got?.[1],
        podNamespace: ran?.[2] ?? got?.[2],
        netnsPath: got?.[4] || undefined,
        err: p.event === 'teardown-failed' || p.event === 'add-failed' ? rpcDesc(errText ?? l.msg) : undefined,
        message: got ? `sandbox ${got[3].slice(0, 12)} (pod ${got[2]}/${got[1]}) uses netns ${got[4] || '(none)'}` : l.msg.length > 400 ? `${l.msg.slice(0, 400)}…` : l.msg,
        at,
        ev: ctx.evidence(no, text),
      });
    });
  },
});
