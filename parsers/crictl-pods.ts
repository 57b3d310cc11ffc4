import { defineParser } from '../src/recognise/parser.js';

// `crictl pods`: POD ID  CREATED  STATE  NAME  NAMESPACE  ATTEMPT  [RUNTIME]. STATE is Ready or NotReady; CREATED has spaces.
const HEADER = /^POD ID\s+CREATED\s+STATE\s+NAME\s+NAMESPACE\s+ATTEMPT\b/;

export default defineParser({
  id: 'crictl-pods',
  describe: '`crictl pods` table: each sandbox\'s id, Ready/NotReady state, pod name and namespace',
  collect: 'crictl pods --no-trunc',
  recognise: { command: /^crictl\s+pods\b/, sniff: (h) => HEADER.test(h.split('\n')[0]) },
  open(ctx) {
    let cols: number[] | undefined;
    return {
      line(text, no) {
        if (HEADER.test(text)) {
          cols = ['POD ID', 'CREATED', 'STATE', 'NAME', 'NAMESPACE', 'ATTEMPT'].map((h) => text.indexOf(h));
          return;
        }
        if (!cols) return;
        if (text.length > 4096) return ctx.warn(no, 'table row longer than 4 KiB; skipped');
        const id = /^([0-9a-f]{12,64})\s/.exec(text)?.[1];
        // STATE and the names never hold spaces: read them as words after the CREATED cell, which does ("2 hours ago").
        const m = /\s(Ready|NotReady|SANDBOX_READY|SANDBOX_NOTREADY)\s+(\S+)\s+(\S+)\s+\d+/.exec(text);
        if (!id || !m) return;
        const ready = m[1] === 'Ready' || m[1] === 'SANDBOX_READY';
        ctx.emit({
          kind: 'container',
          container: { id, runtime: 'cri', name: m[2], pod: m[2], podNamespace: m[3], isSandbox: true, state: ready ? 'running' : 'exited', ips: [] },
          ev: ctx.evidence(no, text),
        });
      },
      end() {},
    };
  },
});
