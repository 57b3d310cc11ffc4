import type { SandboxEventKind } from '../src/model/facts.js';
import { logrusStamp, logSink, parseLogrus, rpcDesc, sandboxIdIn } from '../src/recognise/logline.js';
import { defineParser } from '../src/recognise/parser.js';

// containerd's CRI plugin (pkg/cri/server: instrumented_service.go, sandbox_run.go, sandbox_stop.go, sandbox_status.go).
// logrus text under systemd (time="…" level=… msg="…" error="…") or the TTY form (INFO[…] msg). Inner quotes are
// escaped (\"), except in some pasted reports where they are bare; both are read.
const WORDS = ['PodSandbox', 'network for sandbox', 'network namespace'];

const PATTERNS: { test: RegExp; event: SandboxEventKind }[] = [
  { test: /RunPodSandbox for .* returns sandbox id/, event: 'run' },
  { test: /RunPodSandbox for .* failed/, event: 'add-failed' },
  { test: /TearDown network for sandbox .* successfully/, event: 'teardown-ok' },
  { test: /StopPodSandbox for .* failed|[Ff]ailed to destroy network for sandbox|[Ff]ailed to remove network namespace|PodSandboxStatus for .* failed.*(?:network namespace|netns)|remove netns: .*busy/, event: 'teardown-failed' },
  { test: /StopPodSandbox for .* returns successfully/, event: 'stop' },
  { test: /RemovePodSandbox for .* returns successfully/, event: 'removed' },
];
const META = /PodSandboxMetadata\{Name:([^,]*),Uid:([^,]*),Namespace:([^,]*),/;
const RETURNED_ID = /returns sandbox id "([0-9a-f]{64})"/;
const NETNS = /(\/(?:var\/)?run\/[\w./-]*netns\/[\w.-]+)/;

export default defineParser({
  id: 'containerd-log',
  describe: 'containerd CRI logs (logrus text or TTY form, bare or in journald exports): sandbox run, teardown and netns removal results',
  collect: 'journalctl -u containerd --since "7 days ago" -o short-iso',
  family: 'log',
  recognise: {
    command: /^journalctl\b.*(-u|--unit)[ =]containerd\b/,
    path: /(?:^|\/)containerd[^/]*\.log[^/]*$/,
    sniff: (h) => h.split('\n').slice(0, 30).some((l) => /containerd(?:\[\d+\])?: time="/.test(l) || /^(?:INFO|WARN|ERRO)\[[^\]]+\] (?:RunPodSandbox|StopPodSandbox|TearDown network|CreateContainer within sandbox)/.test(l)),
  },
  open(ctx) {
    const foreign = /(?:^|\/)(?:crio|cri-o|dockerd?|kubelet)[^/]*$/.test(ctx.path);
    return logSink(ctx, WORDS, ({ text, no, payload, prefix, pick }) => {
      if (prefix ? !/^containerd/.test(prefix.unit) : foreign) return;
      const l = parseLogrus(payload);
      if (!l || l.time.includes(' ')) return; // CRI-O writes "2024-06-04 00:29:27…" with a space
      const whole = payload.replace(/\\"/g, '"');
      const p = PATTERNS.find((x) => x.test.test(whole));
      if (!p) return;
      const meta = META.exec(whole);
      // Bare inner quotes (pasted reports) cut logrus's fields short: then read msg and error off the whole line.
      const errText = / error="(.*)"\s*$/.exec(whole)?.[1] ?? l.fields.error ?? l.fields.err;
      const msg = /msg="(.*?)"(?= \w+=|\s*$)/.exec(whole)?.[1] ?? l.msg;
      const at = pick(logrusStamp(l.time), prefix, no);
      if (!at) return;
      ctx.emit({
        kind: 'sandboxEvent',
        daemon: 'containerd',
        event: p.event,
        sandboxId: RETURNED_ID.exec(whole)?.[1] ?? sandboxIdIn(whole),
        pod: meta?.[1] || undefined,
        podNamespace: meta?.[3] || undefined,
        netnsPath: NETNS.exec(whole)?.[1],
        err: errText ? rpcDesc(errText) : p.event === 'teardown-failed' ? whole.slice(whole.indexOf('msg=') + 4) : undefined,
        message: msg.length > 400 ? `${msg.slice(0, 400)}…` : msg,
        at,
        ev: ctx.evidence(no, text),
      });
    });
  },
});
