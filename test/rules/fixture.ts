import { link, type TreeFile } from '../helpers.js';

export interface Proc {
  pid: number;
  ppid?: number;
  comm?: string;
  args?: string;
  started?: string; // "Fri Feb  3 14:02:11 2017" as ps lstart prints it
  net?: string;
  mnt?: string;
  mountinfo?: string[];
  fds?: Record<number, string>;
}

/** A small host tree: ps with lstart, ns links as symlinks, mountinfo and fd links per pid, plus extra files. */
export function hostTree(procs: Proc[], extra: Record<string, TreeFile> = {}): Record<string, TreeFile> {
  const files: Record<string, TreeFile> = { 'date-R.txt': 'Wed, 08 Feb 2017 17:05:41 +0800\n', ...extra };
  const ps = ['  PID  PPID                  STARTED COMMAND'];
  for (const p of procs) {
    ps.push(`${String(p.pid).padStart(5)} ${String(p.ppid ?? 1).padStart(5)} ${p.started ?? 'Fri Jan 20 08:00:00 2017'} ${p.args ?? p.comm ?? 'sleep'}`);
    if (p.net) files[`proc/${p.pid}/ns/net`] = link(`net:[${p.net}]`);
    if (p.mnt) files[`proc/${p.pid}/ns/mnt`] = link(`mnt:[${p.mnt}]`);
    if (p.mountinfo) files[`proc/${p.pid}/mountinfo`] = `24 1 252:1 / / rw,relatime shared:1 - ext4 /dev/vda1 rw\n${p.mountinfo.join('\n')}\n`;
    for (const [fd, target] of Object.entries(p.fds ?? {})) files[`proc/${p.pid}/fd/${fd}`] = link(target);
  }
  files['ps.txt'] = `${ps.join('\n')}\n`;
  return files;
}

export const nsfs = (inode: string, path: string, propagation = '') => `512 26 0:4 net:[${inode}] ${path} rw${propagation ? ` ${propagation}` : ''} - nsfs nsfs rw`;

export function ipAddr(command: string, ifname: string, cidr: string, flags = 'BROADCAST,MULTICAST,UP,LOWER_UP'): string {
  return `# ${command}\n1: lo: <LOOPBACK,UP,LOWER_UP> mtu 65536\n    inet 127.0.0.1/8 scope host lo\n3: ${ifname}: <${flags}> mtu 1500 qdisc noqueue state UP\n    inet ${cidr} scope global ${ifname}\n`;
}

export function inspect(c: { id: string; state: string; pid?: number; sandboxKey?: string; pod?: string; ip?: string; startedAt?: string; finishedAt?: string }): unknown {
  return {
    Id: c.id,
    Name: c.pod ? `/k8s_POD_${c.pod}_demo_uid_0` : '/c',
    State: { Status: c.state, Running: c.state === 'running', Dead: c.state === 'dead', Pid: c.pid ?? 0, StartedAt: c.startedAt ?? '2017-02-01T00:00:00Z', FinishedAt: c.finishedAt ?? '0001-01-01T00:00:00Z', Error: '' },
    HostConfig: { NetworkMode: c.ip ? 'bridge' : 'none' },
    Config: { Labels: c.pod ? { 'io.kubernetes.container.name': 'POD', 'io.kubernetes.pod.name': c.pod, 'io.kubernetes.pod.namespace': 'demo' } : {} },
    NetworkSettings: { SandboxKey: c.sandboxKey ?? '', IPAddress: c.ip ?? '', Networks: {} },
  };
}

export function cniLine(op: 'ADD' | 'DEL', when: string, id: string, pod: string, ip: string | undefined, err = '<nil>', netns = '/proc/99/ns/net'): string {
  const data = ip ? `{"ip4":{"ip":"${ip}/24","gateway":"10.2.1.1"},"dns":{}}` : '<nil>';
  return `${err === '<nil>' ? 'I' : 'E'}${when}   27084 server.go:81] ${op} ${pod}_demo, ${id}, ${netns}, IgnoreUnknown=1;K8S_POD_NAMESPACE=demo;K8S_POD_NAME=${pod} ;, data ${data}, err ${err}, Feb  6 12:22:16.970597-`;
}

export const ID = (c: string) => c.repeat(64).slice(0, 64);
