import { splitLogLine } from '../src/recognise/logline.js';
import { defineParser, Needles } from '../src/recognise/parser.js';

const START_WORDS = ['msg="Starting up', 'msg="Daemon has completed', 'msg="API listen on', 'msg="Loading containers: start'];

// logrus text: time="2018-01-27T00:41:03.579525170+08:00" level=error msg="…" (bare, or behind a syslog/journald prefix)
const LOGRUS = /time="(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:\d{2}))" level=(\w+) msg="((?:[^"\\]|\\.)*)"/;
const STARTS = /^(Starting up|Daemon has completed initialization|API listen on |Loading containers: start\.)/;
const CONTAINER_ID = /\b([0-9a-f]{64})\b/;

/** dockerd's own log: daemon (re)starts and errors, as timeline events. */
export default defineParser({
  id: 'dockerd-log',
  describe: 'dockerd logs (logrus text, bare or in syslog/journald lines): daemon restarts and removal errors',
  collect: 'journalctl -u docker --since "7 days ago" -o short-iso',
  family: 'log',
  recognise: {
    command: /^journalctl\b.*(-u|--unit)[ =]docker\b/,
    sniff: (h) => h.split('\n').slice(0, 20).some((l) => LOGRUS.test(l) && /dockerd|docker\[|^time=/.test(l)),
  },
  open(ctx) {
    // containerd, CRI-O, Cilium and podman write the same logrus text: in a journal the unit tells them apart, in a bare file its name.
    const chatty = new Needles(['level=info', 'level=debug']);
    const starts = new Needles(START_WORDS);
    const foreign = /(?:containerd|crio|cri-o|cilium|calico|multus|kubelet|podman)[^/]*$/.test(ctx.path);
    return {
      // Almost every line is info: only starts among them are kept, so skip the rest undecoded.
      accepts: (buf, from, to) => !chatty.any(buf, from, to) || starts.any(buf, from, to),
      line(text, no) {
        const { prefix, payload } = splitLogLine(text);
        if ((prefix ? !/^docker/.test(prefix.unit) : foreign) || payload.includes(' subsys=cilium')) return;
        const m = LOGRUS.exec(payload);
        if (!m) return;
        const level = m[2];
        const message = m[3].replace(/\\"/g, '"');
        const event = STARTS.test(message) ? 'daemon-start' : level === 'error' || level === 'fatal' ? 'error' : level === 'warning' ? 'warning' : undefined;
        if (!event) return;
        const utc = Date.parse(m[1]);
        if (Number.isNaN(utc)) return ctx.warn(no, `bad logrus time ${m[1]}`);
        ctx.emit({ kind: 'logEvent', daemon: 'dockerd', event, message, containerId: CONTAINER_ID.exec(message)?.[1], at: { kind: 'exact', utc }, ev: ctx.evidence(no, text) });
      },
      end() {},
    };
  },
});
