// A messy CNI plugin log in glog form, for tests that read one big log several ways and expect the same facts:
// pods cycling through a small address pool (so one IP passes between many containers), dual-stack results, failed
// ADDs and DELs, DELs whose ADD is in an earlier file, lines too long to keep whole as evidence, broken lines, and
// text beyond ASCII (pod names, error messages), which is kept as UTF-8 bytes and read back.

export function messyCniLog(lines: number, seed = 7): string {
  let a = seed >>> 0;
  const rand = () => {
    a = (Math.imul(a, 1664525) + 1013904223) >>> 0;
    return a / 2 ** 32;
  };
  const hex = (n: number) => Array.from({ length: n }, () => '0123456789abcdef'[Math.floor(rand() * 16)]).join('');
  const ids = Array.from({ length: 300 }, () => hex(64));
  const open = new Map<number, string[]>();
  const out: string[] = [];
  const stamp = (i: number) => {
    const s = Math.floor(i / 10);
    return `I0${3 + Math.floor(s / 86400 / 28)}${String(1 + (Math.floor(s / 86400) % 28)).padStart(2, '0')} ${String(Math.floor(s / 3600) % 24).padStart(2, '0')}:${String(Math.floor(s / 60) % 60).padStart(2, '0')}:${String(s % 60).padStart(2, '0')}.${String(i % 1e6).padStart(6, '0')}`;
  };
  for (let i = 0; out.length < lines; i++) {
    const c = Math.floor(rand() * ids.length);
    const id = ids[c];
    const pod = c % 13 === 0 ? `wéb-${c}` : `web-${c}`;
    const r = rand();
    const args = `IgnoreUnknown=1;K8S_POD_NAMESPACE=ns${c % 7};K8S_POD_NAME=${pod};K8S_POD_INFRA_CONTAINER_ID=${id}${r < 0.01 ? `;X=${'y'.repeat(1200)}` : ''} ;`;
    const head = `${stamp(i)}   ${4000 + (i % 9)} server.go:`;
    if (r < 0.003) {
      out.push(`${head}77] ADD broken line without fields`);
      continue;
    }
    if (!open.has(c) && r > 0.02) {
      const v4 = `10.9.${Math.floor(rand() * 2)}.${1 + Math.floor(rand() * 40)}`;
      const ips = rand() < 0.2 ? [v4, `fd00::${Math.floor(rand() * 40).toString(16)}`] : [v4];
      const failed = rand() < 0.03;
      const json = rand() < 0.005 ? '{"ips":[{"address":' : `{"cniVersion":"0.3.1","ips":[${ips.map((ip) => `{"version":"${ip.includes(':') ? 6 : 4}","address":"${ip}/${ip.includes(':') ? 64 : 16}"}`).join(',')}]}`;
      out.push(`${head}81] ADD ${pod}_ns${c % 7}, ${id}, /proc/${2000 + c}/ns/net, ${args}, data ${failed ? '<nil>' : json}, err ${failed ? 'failed to allocate for range 0: no IP addresses available in range set' : '<nil>'}, Mar  1 10:00:00.000000-`);
      if (!failed) open.set(c, ips);
    } else {
      const failed = rand() < 0.05;
      out.push(`${head}95] DEL ${pod}_ns${c % 7}, ${id}, /proc/${2000 + c}/ns/net, ${args}, data <nil>, err ${failed ? (c % 2 ? 'netplugin failed: device or resource busy' : 'netplugin failed: Gerät oder Ressource belegt ✗') : '<nil>'}, Mar  1 10:00:00.000000-`);
      if (!failed) open.delete(c);
    }
  }
  return `${out.join('\n')}\n`;
}
