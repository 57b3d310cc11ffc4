import { logrusStamp, logSink, parseLogrus, unquote } from '../src/recognise/logline.js';
import { defineParser } from '../src/recognise/parser.js';

// podman's network teardown failures (libpod/networking_linux.go, container_internal.go), logged by logrus: as text
// under journald or syslog ("podman[5678]: time=\"…\" level=error msg=\"…\"", also from the `podman container cleanup`
// that conmon runs when a container exits), or in the TTY form on a terminal ("ERRO[0002] …"):
//   Unable to clean up network for container <id>: "unmounting network namespace for container <id>: failed to remove ns path: remove /run/netns/netns-…: device or resource busy"
//   tearing down network namespace configuration for container <id>: netavark: IO error: aardvark pid not found
//   Unmounting partially created network namespace for container <id>: failed to remove ns path: …
// podman 3 and older (CNI): "Unable to cleanup network for container …", "error tearing down CNI namespace configuration for
// container …". podman before 4.3 kept the namespace mounted when the teardown failed (containers/podman#16016), so a
// failure there leaves the namespace, its addresses and its veth behind.
// Words with a rare byte: a log of common letters ("for container ") took 10x longer to rule out (96 against 10 ms on
// the bench's 232 MB dockerd log).
const WORDS = ['Unable to clean', 'network namespace', 'CNI namespace', '(image=', 'Error deleting network'];
// podman 2 with CNI, its id only in the rule's comment (containers/podman#8048): "Error deleting network: running
// [/usr/sbin/iptables -t nat -D POSTROUTING … --comment name: \"podman\" id: \"<id>\" --wait]: exit status 2: …"
const DELETING = /^Error deleting network: .*?\bid: \\?"([0-9a-f]{64})\\?"/;
// Its container events (events_logger=journald, or `podman events`): "[<time> <offset> <zone> [m=+N] ]container <status>
// <id> (image=…, name=…, <labels>)". They name a container that is gone from the inventory, and when it died and went.
const EVENT = /^(?:(\d{4}-\d{2}-\d{2}) (\d{2}:\d{2}:\d{2}(?:\.\d+)?) ([+-]\d{2})(\d{2}) \S+ (?:m=[+-][\d.]+ )?)?container (\w+) ([0-9a-f]{64}) \((.*)\)\s*$/;
const KEPT_EVENTS = new Set(['create', 'init', 'start', 'stop', 'kill', 'died', 'cleanup', 'remove', 'restart', 'pause', 'unpause']);
const FAILURE = /(?:Unable to clean ?up network|tearing down (?:network|CNI) namespace configuration|[Uu]nmounting (?:partially created )?network namespace|(?:removing|unmounting) (?:the )?network namespace) for container ([0-9a-f]{64}): /;
const NETNS = /(\/(?:var\/)?run\/[\w./-]*netns\/[\w.-]+)/;
const SAME_FAILURE_MS = 2000;

export default defineParser({
  id: 'podman-log',
  describe: 'podman logs (logrus text in the journal or syslog, or the terminal form): network teardown failures of a container, with its netns path; its container events (journald or `podman events`: create, died, remove…)',
  collect: 'journalctl -t podman --since "7 days ago" -o short-iso   (or /var/log/messages)',
  family: 'log',
  recognise: {
    command: /^(?:journalctl\b.*(?:(?:-u|--unit)[ =]podman\b|_COMM=podman\b|-t podman\b)|podman\s+(?:system\s+)?events\b)/,
    path: /(?:^|\/)podman[^/]*\.log[^/]*$/,
    sniff: (h) => h.split('\n').slice(0, 30).some((l) => /podman(?:\[\d+\])?: (?:time="|(?:\S+ \S+ [+-]\d{4} \S+ (?:m=\S+ )?)?container \w+ [0-9a-f]{64} \()/.test(l) || /^\d{4}-\d{2}-\d{2} [\d:.]+ [+-]\d{4} \S+ (?:m=\S+ )?(?:container|image|pod|volume|network|system) \w+ /.test(l)),
  },
  open(ctx) {
    // podman logs a failure and then the same error wrapped by its caller: one failure, said once.
    let last: { id: string; at: number; err: string } | undefined;
    return logSink(ctx, WORDS, ({ text, no, payload, prefix, pick }) => {
      const e = EVENT.exec(payload);
      if (e) {
        if (!KEPT_EVENTS.has(e[5]) || (prefix && !/^podman/.test(prefix.unit))) return;
        const own = e[1] ? Date.parse(`${e[1]}T${e[2]}${e[3]}:${e[4]}`) : NaN;
        const at = pick(Number.isNaN(own) ? undefined : { kind: 'exact', utc: own }, prefix, no);
        if (!at) return;
        const attrs = e[7];
        const image = /(?:^|, )image=([^,]*)/.exec(attrs)?.[1];
        const name = /(?:^|, )name=([^,]*)/.exec(attrs)?.[1];
        const about = [name && `name ${name}`, image && `image ${image}`].filter(Boolean).join(', ');
        ctx.emit({ kind: 'logEvent', daemon: 'podman', event: 'container', message: `container ${e[5]} ${e[6].slice(0, 12)}${about ? ` (${about})` : ''}`, containerId: e[6], at, ev: ctx.evidence(no, text) });
        return;
      }
      const l = parseLogrus(payload);
      if (!l || (l.level !== 'error' && l.level !== 'warning')) return;
      const m = FAILURE.exec(l.msg);
      const d = m ? undefined : DELETING.exec(l.msg);
      if (!m && !d) return;
      if (d && prefix && !/^podman/.test(prefix.unit)) return; // kubelet (dockershim) logs the same words
      const at = pick(logrusStamp(l.time), prefix, no);
      if (!at) return;
      const id = (m ?? d)![1];
      const err = m ? unquote(l.msg.slice(m.index + m[0].length).trim()) : l.msg.slice('Error deleting network: '.length);
      const ms = at.kind === 'exact' ? at.utc : at.kind === 'ago' ? -at.ms : Date.UTC(at.year ?? 2000, at.month - 1, at.day, at.hour, at.minute, at.second, at.millis); // one file, one zone
      if (last && last.id === id && Math.abs(ms - last.at) <= SAME_FAILURE_MS && (err.includes(last.err) || last.err.includes(err))) return;
      last = { id, at: ms, err };
      ctx.emit({
        kind: 'sandboxEvent',
        daemon: 'podman',
        event: 'teardown-failed',
        sandboxId: id,
        netnsPath: NETNS.exec(l.msg)?.[1],
        err,
        message: l.msg.length > 400 ? `${l.msg.slice(0, 400)}…` : l.msg,
        at,
        ev: ctx.evidence(no, text),
      });
    });
  },
});

