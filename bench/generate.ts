// A deterministic synthetic busy-node bundle: at scale 1 about 1,000,000 CNI glog lines, 1,000,000 dockerd
// lines, 600 mountinfo files of 3,000 lines, docker inspect of 2,000 containers, ps and ns links to match
// (~680 MB uncompressed). It plants leaked namespaces and says which, so the benchmark checks the report.
import { createWriteStream } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import tar from 'tar-stream';

export interface Planted {
  leaks: { inode: string; path: string; ip: string; pinner: number }[];
  bytes: number;
  /** GENERATOR_VERSION when it was written: a bundle cached by an older generator is written again. */
  version?: number;
}

/** Raised whenever the bundle's content changes (2: each short-lived sandbox has its own id). */
export const GENERATOR_VERSION = 2;

function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const hex = (r: () => number, n: number) => {
  let s = '';
  while (s.length < n) s += Math.floor(r() * 0x100000000).toString(16).padStart(8, '0');
  return s.slice(0, n);
};

const pad2 = (n: number) => String(n).padStart(2, '0');

/** A 64-hex-digit id for the n-th short-lived sandbox: stateless, so any line can name its cycle's sandbox. */
const cycleId = (seed: number, n: number) => {
  let s = '';
  for (let k = 0; k < 8; k++) {
    let t = Math.imul(n ^ Math.imul(seed + k, 0x9e3779b1), 0x85ebca6b) ^ Math.imul(k + 1, 0xc2b2ae35);
    t = Math.imul(t ^ (t >>> 16), 0x85ebca6b);
    t = Math.imul(t ^ (t >>> 13), 0xc2b2ae35);
    s += ((t ^ (t >>> 16)) >>> 0).toString(16).padStart(8, '0');
  }
  return s;
};

/**
 * Writes the bundle for `scale` to `file`; returns what it planted. `logScale` (default: `scale`) sets the logs alone:
 * the same node (its containers, processes and mount tables, those of `scale`) with logs that many times as long, as a
 * week's logs are to a day's. Memory should follow the node, not the logs.
 */
export async function generate(file: string, scale: number, seed = 42, logScale = scale): Promise<Planted> {
  const r = rng(seed * 1000 + scale);
  const pack = tar.pack();
  const done = pipeline(pack, createGzip({ level: 1, chunkSize: 1 << 20 }), createWriteStream(file));
  let bytes = 0;
  const top = `busy-node-${scale}x${logScale === scale ? '' : `-logs-${logScale}x`}`;
  // tar-stream opens queued entries recursively: let the pipeline drain every few hundred small ones.
  let queued = 0;
  const breathe = async () => {
    if (++queued % 256 === 0) await new Promise((r) => setImmediate(r));
  };
  const small = async (name: string, text: string) => {
    bytes += Buffer.byteLength(text);
    pack.entry({ name: `${top}/${name}`, mode: 0o644 }, text);
    await breathe();
  };
  const link = async (name: string, target: string) => {
    pack.entry({ name: `${top}/${name}`, type: 'symlink', linkname: target });
    await breathe();
  };
  /** A large file: sized in a first pass, then written in chunks, so the generator never holds it whole. */
  const big = async (name: string, lines: number, line: (i: number) => string) => {
    let size = 0;
    for (let i = 0; i < lines; i++) size += Buffer.byteLength(line(i)) + 1;
    bytes += size;
    await new Promise<void>((res, rej) => {
      const entry = pack.entry({ name: `${top}/${name}`, size, mode: 0o644 }, (err) => (err ? rej(err) : res()));
      let i = 0;
      const write = () => {
        while (i < lines) {
          let chunk = '';
          for (const end = Math.min(lines, i + 4096); i < end; i++) chunk += `${line(i)}\n`;
          if (!entry.write(chunk)) return void entry.once('drain', write);
        }
        (entry as unknown as NodeJS.WritableStream).end();
      };
      write();
    });
  };

  const containers = 2000 * scale;
  const running = 40 * scale;
  const leakedCount = 5 * scale;
  const processes = 1000 * scale;
  const mountFiles = 600 * scale;
  const cniLines = 1_000_000 * logScale;
  const dockerdLines = 1_000_000 * logScale;
  const bootEpoch = 1_764_000_000; // 2025-11-24
  const collect = new Date((bootEpoch + 9 * 86400) * 1000);
  await small('etc/hostname', 'busy-node.bench.example\n');
  await small('etc/timezone', 'Europe/Berlin\n');
  await small('proc/stat', `cpu 1 2 3 4\nbtime ${bootEpoch}\n`);
  await small('uname-r.txt', '6.1.0-18-amd64\n');
  await small('date-R.txt', `${collect.toUTCString().replace('GMT', '+0000')}\n`);

  // Sandboxes: running ones own a netns with a pause process; leaked ones are dead, their netns pinned by a helper.
  const HOSTNET = '4026531840';
  const HOSTMNT = '4026531841';
  const PRIVATE_MNT = '4026539999';
  const ids = Array.from({ length: containers }, () => hex(r, 64));
  const ipOf = (i: number) => `10.${64 + Math.floor(i / 65000)}.${Math.floor((i % 65000) / 254)}.${(i % 254) + 1}`;
  const inspect: unknown[] = [];
  const hostMounts: string[] = [];
  const helperMounts: string[] = [];
  const nsLinks: [number, string, string][] = [];
  const ps: string[] = ['    PID    PPID                  STARTED COMMAND'];
  const leaks: Planted['leaks'] = [];
  let pid = 1000;
  const lstart = (epoch: number) => {
    const d = new Date(epoch * 1000);
    const day = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'][d.getUTCDay()];
    const mon = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'][d.getUTCMonth()];
    return `${day} ${mon} ${String(d.getUTCDate()).padStart(2)} ${pad2(d.getUTCHours())}:${pad2(d.getUTCMinutes())}:${pad2(d.getUTCSeconds())} ${d.getUTCFullYear()}`;
  };
  const proc = (p: number, ppid: number, started: number, args: string, net: string, mnt: string) => {
    ps.push(`${String(p).padStart(7)} ${String(ppid).padStart(7)} ${lstart(started)} ${args}`);
    nsLinks.push([p, net, mnt]);
  };
  proc(1, 0, bootEpoch, '/sbin/init', HOSTNET, HOSTMNT);
  proc(400, 1, bootEpoch + 10, '/usr/bin/dockerd -H fd://', HOSTNET, HOSTMNT);
  for (let i = 0; i < containers; i++) {
    const id = ids[i];
    const sandbox = hex(r, 64);
    const key = `/var/run/docker/netns/${sandbox.slice(0, 12)}`;
    const started = bootEpoch + 3600 + Math.floor(r() * 7 * 86400);
    const isRunning = i < running;
    const isLeaked = i >= running && i < running + leakedCount;
    let state = 'exited';
    let p = 0;
    if (isRunning) {
      state = 'running';
      p = pid++;
      const inode = String(4026532000 + i);
      proc(p, 400, started, '/pause', inode, String(4026600000 + i));
      hostMounts.push(`${600 + i} 26 0:4 net:[${inode}] ${key.replace('/var/run', '/run')} rw shared:${300 + i} - nsfs nsfs rw`);
    } else if (isLeaked) {
      state = 'dead';
      const inode = String(4026533000 + i);
      helperMounts.push(`${700 + i} 26 0:4 net:[${inode}] ${key.replace('/var/run', '/run')} rw - nsfs nsfs rw`);
      leaks.push({ inode, path: key.replace('/var/run', '/run'), ip: ipOf(i), pinner: 0 });
    }
    inspect.push({
      Id: id,
      Name: `/k8s_POD_job-${i}_bench_${hex(r, 8)}-0000-0000-0000-${hex(r, 12)}_0`,
      State: { Status: state, Running: isRunning, Dead: isLeaked, Pid: p, ExitCode: isRunning ? 0 : 1, Error: isLeaked ? 'unlinkat /var/lib/docker/overlay2/x/merged: device or resource busy' : '', StartedAt: new Date(started * 1000).toISOString(), FinishedAt: isRunning ? '0001-01-01T00:00:00Z' : new Date((started + 600) * 1000).toISOString() },
      HostConfig: { NetworkMode: 'none' },
      Config: { Labels: { 'io.kubernetes.container.name': 'POD', 'io.kubernetes.docker.type': 'podsandbox', 'io.kubernetes.pod.name': `job-${i}`, 'io.kubernetes.pod.namespace': 'bench' } },
      NetworkSettings: { SandboxID: sandbox, SandboxKey: isRunning || isLeaked ? key : '', IPAddress: '', Networks: { none: { IPAddress: '' } } },
    });
  }
  // The helper that pins the leaks: a private mount namespace taken before the daemon restarted.
  const helper = pid++;
  proc(helper, 1, bootEpoch + 60, '/usr/local/bin/log-shipper --private-mounts', HOSTNET, PRIVATE_MNT);
  for (const l of leaks) l.pinner = helper;
  while (pid < 1000 + processes) proc(pid++, 1, bootEpoch + Math.floor(r() * 86400), `/usr/bin/worker --id ${hex(r, 6)}`, HOSTNET, HOSTMNT);
  await small('ps.txt', `${ps.join('\n')}\n`);
  for (const [p, net, mnt] of nsLinks) {
    await link(`proc/${p}/ns/net`, `net:[${net}]`);
    await link(`proc/${p}/ns/mnt`, `mnt:[${mnt}]`);
  }
  await small('docker-inspect.json', `# docker inspect $(docker ps -aq)\n${JSON.stringify(inspect, null, 2)}\n`);
  // What is still inside each leaked namespace, seen through its pinner.
  await small(
    'netns-views.txt',
    leaks.map((l, k) => `# nsenter --net=/proc/${helper}/root${l.path} ip -d addr\n1: lo: <LOOPBACK,UP,LOWER_UP> mtu 65536\n    inet 127.0.0.1/8 scope host lo\n${3 + k}: eth0@if${9000 + k}: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500\n    link/ether 02:42:ac:11:00:02 brd ff:ff:ff:ff:ff:ff link-netnsid 0\n    inet ${l.ip}/16 scope global eth0\n`).join(''),
  );
  await small('daemon-unit.txt', '# systemctl show docker\nMainPID=400\nExecMainStartTimestamp=Tue 2025-11-25 10:00:00 UTC\nId=docker.service\n');

  // Mount tables: most processes share the host's; every file still has 3,000 lines to read.
  const filler = (k: number) => `${100 + k} 24 0:${40 + (k % 50)} /var/lib/kubelet/pods/${hex(r, 8)}-${k}/volumes/kubernetes.io~projected/kube-api-access-${hex(r, 5)} /var/lib/kubelet/pods/x-${k}/volumes rw,relatime shared:${k} - tmpfs tmpfs rw,size=3984196k`;
  const fillerLines = Array.from({ length: 3000 }, (_, k) => filler(k));
  // One mount table per process file, the helper's first; every 20th holds the host's netns mounts.
  const mountPids = [helper, ...nsLinks.map(([p]) => p).filter((p) => p !== helper)];
  for (let f = 0; f < Math.min(mountFiles, mountPids.length); f++) {
    const p = mountPids[f];
    const extra = p === helper ? helperMounts : f % 20 === 1 ? hostMounts : [];
    const lines = [...fillerLines.slice(0, 3000 - extra.length), ...extra];
    await big(`proc/${p}/mountinfo`, lines.length, (i) => lines[i]);
  }

  // CNI plugin log: ADD/DEL pairs cycling short-lived pods through an IP pool, each a new sandbox with its own id
  // and pod name, as on a real node (a log that reused a few thousand ids hid a ledger that kept every sandbox);
  // and the long-lived sandboxes' own ADDs.
  const t0 = bootEpoch + 3600;
  const stamp = (i: number, total: number) => {
    const d = new Date((t0 + Math.floor((i / total) * 8 * 86400)) * 1000);
    return `${pad2(d.getUTCMonth() + 1)}${pad2(d.getUTCDate())} ${pad2(d.getUTCHours())}:${pad2(d.getUTCMinutes())}:${pad2(d.getUTCSeconds())}.${String(i % 1000000).padStart(6, '0')}`;
  };
  const sandboxAdds = new Map<number, number>();
  for (let i = 0; i < running + leakedCount; i++) sandboxAdds.set(Math.floor(((i + 1) / (running + leakedCount + 1)) * cniLines) & ~1, i);
  await big('var/log/cni/cni.log', cniLines, (i) => {
    const owner = sandboxAdds.get(i);
    const cycle = Math.floor(i / 2);
    const c = owner ?? running + leakedCount + (cycle % (containers - running - leakedCount));
    const id = owner !== undefined ? ids[c] : cycleId(seed * 1000 + logScale, cycle);
    const pod = owner !== undefined ? `job-${c}` : `job-${cycle}`;
    const op = owner !== undefined ? 'ADD' : i % 2 === 0 ? 'ADD' : 'DEL';
    const args = `IgnoreUnknown=1;K8S_POD_NAMESPACE=bench;K8S_POD_NAME=${pod};K8S_POD_INFRA_CONTAINER_ID=${id} ;`;
    const data = op === 'ADD' ? `{"cniVersion":"0.3.1","ips":[{"version":"4","address":"${ipOf(c)}/16","gateway":"10.64.0.1","interface":0}],"dns":{}}` : '<nil>';
    return `I${stamp(i, cniLines)}   3110 server.go:${op === 'ADD' ? 81 : 95}] ${op} ${pod}_bench, ${id}, /proc/${20000 + (cycle % 30000)}/ns/net, ${args}, data ${data}, err <nil>, Nov 25 10:00:00.000000-`;
  });
  await big('var/log/docker.log', dockerdLines, (i) => {
    const d = new Date((t0 + Math.floor((i / dockerdLines) * 8 * 86400)) * 1000).toISOString().replace('Z', '000000+00:00');
    return i % 50000 === 0
      ? `time="${d}" level=error msg="Handler for DELETE /v1.43/containers/${ids[i % containers]} returned error: unlinkat /var/lib/docker/overlay2/${ids[(i + 1) % containers]}/merged: device or resource busy"`
      : `time="${d}" level=info msg="ignoring event" container=${ids[i % containers]} module=libcontainerd namespace=moby topic=/tasks/delete type="*events.TaskDelete"`;
  });
  pack.finalize();
  await done;
  return { leaks, bytes };
}
