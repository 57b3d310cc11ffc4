import { jsonObj as obj, jsonStr as str } from '../src/recognise/json.js';
import { defineParser, wholeText } from '../src/recognise/parser.js';
import { sandboxEventIn } from './kubelet-log.js';

// `kubectl get events -o json` (-A for every namespace): the API server's copy of what kubelet reported about pods, with
// exact times. kubelet's events about sandboxes carry the same strings as its log ("FailedKillPod: error killing pod:
// failed to \"KillPodSandbox\" … failed to destroy network for sandbox \"<id>\": …", "FailedCreatePodSandBox: Failed to
// create pod sandbox: …"), so they are read as kubelet's log lines are, for the node each one names (source.host, or
// reportingInstance): a cluster's events are about every node, and only this host's are its. An event repeated
// (count > 1) is said at its first and its last time. core/v1 Event: involvedObject, reason, message, source,
// firstTimestamp, lastTimestamp, count, eventTime, reportingInstance, series {count, lastObservedTime} (an event
// recorded through the newer API: no first/last timestamps, its eventTime and series instead). events.k8s.io/v1 Event
// (`kubectl get events.events.k8s.io -o json`): regarding, note, deprecatedSource, deprecatedFirstTimestamp,
// deprecatedLastTimestamp, deprecatedCount, with eventTime, series and reportingInstance as in core/v1.
export default defineParser({
  id: 'kubectl-events',
  describe: '`kubectl get events -o json` (with or without -A; also `kubectl events`, events.k8s.io/v1): kubelet\'s events about pod sandboxes (failed setup, failed teardown), with exact times, for the node each one names',
  collect: 'kubectl get events -A -o json',
  recognise: {
    command: /^kubectl\s+(?:\S+\s+)*?(?:get\s+(?:events?|ev)\b|events\b)(?=.*\s-o\s*=?\s*json\b|.*\s--output[ =]json\b)/,
    sniff: (h) => /^\s*\{/.test(h) && /"kind"\s*:\s*"EventList"/.test(h),
  },
  open(ctx) {
    return wholeText(ctx, (text, firstLine) => {
      let doc: unknown;
      try {
        doc = JSON.parse(text);
      } catch (e) {
        return ctx.warn(firstLine, `kubectl events output is not JSON (${(e as Error).message}); skipped`);
      }
      const list = obj<{ items?: unknown }>(doc)?.items;
      const items = Array.isArray(list) ? list : [doc];
      const lines = text.split('\n');
      // Each event's evidence is the line of its name (its reason, pod and message are said in the evidence text). Names
      // are plain and in the file's order, so the search goes forward once through the file (a message would not do: Go's
      // encoder writes "<" as \u003c, and a needle not found would rescan the rest of a cluster's events for each one).
      let searchFrom = 0;
      const lineOf = (needle: string | undefined) => {
        if (!needle) return firstLine;
        for (let i = searchFrom; i < lines.length; i++)
          if (lines[i].includes(needle)) {
            searchFrom = i + 1;
            return firstLine + i;
          }
        searchFrom = lines.length; // written some other way (escaped): the rest are not looked for either
        return firstLine;
      };
      for (const raw of items) {
        const e = obj<Record<string, unknown>>(raw);
        const about = obj<Record<string, unknown>>(e?.involvedObject) ?? obj<Record<string, unknown>>(e?.regarding);
        if (!e || str(about?.kind) !== 'Pod') continue;
        const message = str(e.message) ?? str(e.note);
        const reason = str(e.reason) ?? '';
        if (!message) continue;
        const s = sandboxEventIn(message);
        if (!s) continue;
        const source = obj<Record<string, unknown>>(e.source) ?? obj<Record<string, unknown>>(e.deprecatedSource);
        const node = str(source?.host) || str(e.reportingInstance) || undefined;
        if (!node) continue; // a cluster's event without its node cannot be put on a host
        const series = obj<Record<string, unknown>>(e.series);
        const first = str(e.firstTimestamp) ?? str(e.deprecatedFirstTimestamp) ?? str(e.eventTime);
        const last = str(e.lastTimestamp) ?? str(e.deprecatedLastTimestamp) ?? str(series?.lastObservedTime) ?? str(e.eventTime);
        const times = [first, last].map((t) => (t ? Date.parse(t) : NaN)).filter((t) => !Number.isNaN(t));
        const at = [...new Set(times)].sort((a, b) => a - b);
        if (!at.length) continue;
        const pod = str(about?.name);
        const podNamespace = str(about?.namespace);
        const count = [e.count, e.deprecatedCount, series?.count].find((n): n is number => typeof n === 'number' && n > 0) ?? 1;
        const name = str(obj<Record<string, unknown>>(e.metadata)?.name);
        const no = lineOf(name && /^[\w.:-]+$/.test(name) ? `"${name}"` : undefined);
        const said = `${reason} ${podNamespace ? `${podNamespace}/` : ''}${pod ?? '?'} on ${node}${count > 1 ? ` (${count} times from ${new Date(at[0]).toISOString()} to ${new Date(at[at.length - 1]).toISOString()})` : ` at ${new Date(at[0]).toISOString()}`}: ${message}`;
        at.forEach((t, i) =>
          ctx.emit({
            kind: 'sandboxEvent',
            daemon: 'kubelet',
            ...s,
            node,
            // The first time stands for all but the last: the two together count what the event counted. Always set, so
            // that a rule can tell the cluster's count from log lines of the same failures.
            times: i === 0 ? Math.max(1, count - at.length + 1) : 1,
            pod: s.pod ?? pod,
            podNamespace: s.podNamespace ?? podNamespace,
            message: message.length > 400 ? `${message.slice(0, 400)}…` : message,
            at: { kind: 'exact', utc: t },
            ev: ctx.evidence(no, said),
          }),
        );
      }
    });
  },
});
