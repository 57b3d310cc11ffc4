import { jsonObj, jsonStr as str, parseFirstJson } from '../src/recognise/json.js';
import { defineParser, wholeText } from '../src/recognise/parser.js';

// Azure CNI's state file, /var/run/azure-vnet.json (stateful mode): one endpoint per pod interface that ADD created and
// DEL has not yet removed, with its addresses, container, netns and pod:
//   {"Network": {"ExternalInterfaces": {"eth0": {"Networks": {"azure": {"Endpoints": {"70513325-eth0": {
//     "IPAddresses": [{"IP": "192.168.1.47", "Mask": "//8AAA=="}], "NetworkNameSpace": "/var/run/netns/cni-…",
//     "ContainerID": "<64 hex>", "PODName": "nginx", "PODNameSpace": "default", …}}}}}}}}
// An endpoint whose pod is gone keeps its address out of the node's pool ("No available addresses":
// Azure/azure-container-networking#831, kubernetes/kubernetes#53226).
const STATE_PATH = /(?:^|\/)azure-vnet\.json$/;

type Json = Record<string, unknown>;
/** The members of a JSON object that are objects themselves. */
function entries(v: unknown): [string, Json][] {
  const out: [string, Json][] = [];
  for (const [k, e] of Object.entries(jsonObj(v) ?? {})) {
    const o = jsonObj(e);
    if (o) out.push([k, o]);
  }
  return out;
}

export default defineParser({
  id: 'azure-vnet-state',
  describe: 'Azure CNI state file /var/run/azure-vnet.json: the endpoints (addresses, container, netns, pod) that no DEL has removed',
  collect: 'cat /var/run/azure-vnet.json',
  recognise: {
    path: STATE_PATH,
    head: (h) => /^\s*\{\s*"Network"\s*:/.test(h),
    sniff: (h) => /^\s*\{\s*"Network"\s*:\s*\{[\s\S]*"ExternalInterfaces"\s*:/.test(h),
  },
  open(ctx) {
    return wholeText(ctx, (text, first) => {
      const parsed = parseFirstJson(text);
      const root = 'error' in parsed ? undefined : jsonObj(jsonObj(parsed.value)?.Network);
      if (!root) return ctx.warn(first, 'not an Azure CNI state file (JSON with "Network")');
      // The evidence line of an endpoint: where its container id is written (the file is indented JSON).
      const ends: number[] = [];
      for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) ends.push(i);
      const lineOf = (id: string) => {
        const at = text.indexOf(`"${id}"`);
        if (at < 0) return { no: first, line: id };
        let lo = 0;
        let hi = ends.length; // the number of line ends before `at`
        while (lo < hi) {
          const mid = (lo + hi) >> 1;
          if (ends[mid] < at) lo = mid + 1;
          else hi = mid;
        }
        return { no: first + lo, line: text.slice(lo ? ends[lo - 1] + 1 : 0, lo < ends.length ? ends[lo] : text.length).trim() };
      };
      for (const [, ext] of entries(root.ExternalInterfaces))
        for (const [networkId, network] of entries(ext.Networks))
          for (const [endpointId, ep] of entries(network.Endpoints)) {
            const containerId = str(ep.ContainerID);
            if (!containerId || !/^[0-9a-f]{12,64}$/.test(containerId)) continue;
            const where = lineOf(containerId);
            const addresses = Array.isArray(ep.IPAddresses) ? ep.IPAddresses : [];
            for (const a of addresses) {
              const ip = str(jsonObj(a)?.IP);
              if (!ip || !/^[0-9a-fA-F.:]+$/.test(ip)) continue;
              ctx.emit({
                kind: 'ipReservation',
                via: 'azure-vnet',
                network: str(network.Id) ?? networkId,
                containerId,
                ip,
                ifname: str(ep.HostIfName) || undefined,
                netnsPath: str(ep.NetworkNameSpace) || undefined,
                pod: str(ep.PODName) || undefined,
                podNamespace: str(ep.PODNameSpace) || undefined,
                ev: ctx.evidence(where.no, `${where.line} (endpoint ${endpointId}: ${ip})`),
              });
            }
          }
    });
  },
});
