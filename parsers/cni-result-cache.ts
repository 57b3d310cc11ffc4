import { jsonStr as str, parseFirstJson } from '../src/recognise/json.js';
import { defineParser, wholeText } from '../src/recognise/parser.js';
import { resultIps } from './cni-glog.js';

// libcni: /var/lib/cni/results/<net>-<containerID>[-<ifname>]; removed by a successful DEL.
const RESULT_PATH = /(?:^|\/)var\/lib\/cni\/results\/([^/]+)$/;

interface CacheV1 {
  kind?: unknown;
  containerId?: unknown;
  ifName?: unknown;
  networkName?: unknown;
  netns?: unknown;
  cniArgs?: unknown;
  result?: unknown;
}


export default defineParser({
  id: 'cni-result-cache',
  describe: 'libcni result cache /var/lib/cni/results/* (cniCacheV1, or the older raw result): a CNI ADD whose DEL never completed',
  collect: 'cat /var/lib/cni/results/*',
  recognise: {
    path: RESULT_PATH,
    head: (h) => /^\s*\{/.test(h),
    sniff: (h) => /^\s*\{\s*"kind"\s*:\s*"cniCacheV1"/.test(h),
  },
  open(ctx) {
    return wholeText(ctx, (text, first) => {
      const parsed = parseFirstJson(text);
      if ('error' in parsed || !parsed.value || typeof parsed.value !== 'object') return ctx.warn(first, 'not a libcni cache entry (JSON)');
      const c = parsed.value as CacheV1;
      const name = RESULT_PATH.exec(ctx.path)?.[1] ?? '';
      // v0.7 raw results carry no container id: it is in the file name "<net>-<64 hex>[-<ifname>]".
      const fromName = /-([0-9a-f]{64})(?:-([\w.@-]+))?$/.exec(name);
      const containerId = str(c.containerId) ?? fromName?.[1];
      if (!containerId) return ctx.warn(first, 'libcni cache entry without a container id');
      const args = Array.isArray(c.cniArgs) ? (c.cniArgs as unknown[]).filter((p): p is [string, string] => Array.isArray(p) && typeof p[0] === 'string' && typeof p[1] === 'string') : [];
      const arg = (k: string) => args.find(([key]) => key === k)?.[1] || undefined;
      const result = c.kind === 'cniCacheV1' ? c.result : c;
      for (const ip of resultIps(result)) {
        ctx.emit({
          kind: 'ipReservation',
          via: 'libcni-cache',
          network: str(c.networkName) ?? name.slice(0, name.indexOf(`-${containerId}`)),
          containerId,
          ip,
          ifname: str(c.ifName) ?? fromName?.[2],
          netnsPath: str(c.netns),
          pod: arg('K8S_POD_NAME'),
          podNamespace: arg('K8S_POD_NAMESPACE'),
          ev: ctx.evidence(first, text.length > 300 ? `${text.slice(0, 300)}…` : text),
        });
      }
    });
  },
});
