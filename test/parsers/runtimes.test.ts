import { describe, expect, it } from 'vitest';
import { parseText } from '../../src/engine/analyse.js';
import { analyseHosts, link, only } from '../helpers.js';

// containerd/cri PR #479 (2017): a dead sandbox still holding its netns and IP.
const DEAD_SANDBOX = `{
  "status": {
    "id": "6ecc8a386012aa3d8cc41e986263a56c039044b7f9dcceda012cc3fc045e58c9",
    "metadata": { "attempt": 0, "name": "kube-dns-6c857864fb-z88p2", "namespace": "kube-system", "uid": "64489eae-d610-11e7-8e8b-42010af00002" },
    "state": "SANDBOX_NOTREADY",
    "createdAt": "2017-11-30T20:52:44.926737345Z",
    "network": { "ip": "10.88.22.12" },
    "linux": { "namespaces": { "options": { "hostIpc": false, "hostNetwork": false, "hostPid": false } } },
    "labels": { "io.kubernetes.pod.name": "kube-dns-6c857864fb-z88p2", "io.kubernetes.pod.namespace": "kube-system" }
  },
  "info": {
    "pid": 0,
    "processStatus": "deleted",
    "netNamespace": "/var/run/netns/cni-ae2bd03e-4f7e-d9d0-911e-dafa7bb860e2",
    "netNamespaceClosed": false,
    "image": "gcr.io/google_containers/pause:3.0"
  }
}`;

// containerd PR #7731 (2022) with the runtimeSpec and cniResult of the falcosecurity fixture.
const RUNNING_SANDBOX = `{
  "status": {
    "id": "8f9ec14c8c927fc516444052653a936fbd22d74d04b016e2809ddd2eb75a6cfa",
    "metadata": {"attempt": 1, "name": "busybox-sandbox", "namespace": "default", "uid": "hdishd83djaidwnduwk28bcsb"},
    "state": "SANDBOX_READY",
    "createdAt": "2022-11-29T12:07:44.196650393-06:00",
    "network": { "additionalIps": [ { "ip": "2001:4860:4860::11" } ], "ip": "10.88.0.17" },
    "linux": {"namespaces": {"options": {"ipc": "POD", "network": "POD", "pid": "POD", "targetId": ""}}},
    "labels": {}, "annotations": {}, "runtimeHandler": ""
  },
  "info": {
    "pid": 48095,
    "processStatus": "running",
    "netNamespaceClosed": false,
    "runtimeSpec": { "linux": { "namespaces": [ {"type": "pid"}, { "type": "network", "path": "/var/run/netns/cni-5ddce098-32ee-e39c-19c2-d6db782f6d20" } ] } },
    "cniResult": { "Interfaces": {
      "eth0": {"IPConfigs": [{"IP": "10.88.0.17", "Gateway": "10.88.0.1"}], "Mac": "", "Sandbox": "/var/run/netns/cni-5ddce098-32ee-e39c-19c2-d6db782f6d20"},
      "lo": {"IPConfigs": [{"IP": "127.0.0.1", "Gateway": ""}, {"IP": "::1", "Gateway": ""}], "Mac": "00:00:00:00:00:00", "Sandbox": "/var/run/netns/cni-5ddce098-32ee-e39c-19c2-d6db782f6d20"} } }
  }
}`;

// multus-cni pkg/multus/multus_cni100_test.go: a libcni cniCacheV1 entry (cniArgs trimmed as in shared/formats).
const CACHE_V1 =
  '{"kind":"cniCacheV1","containerId":"3f6940ab5ab43bc522569d15b23f8c1bbde1d7678b080398506924fc01d72755","config":"eyJjbmlWZXJzaW9uIjoiMC4zLjEifQ==","ifName":"eth0","networkName":"cbr0","netns":"/var/run/netns/8b8677c8-8929-4746-8206-514069760f6e","cniArgs":[["IgnoreUnknown","true"],["K8S_POD_NAMESPACE","default"],["K8S_POD_NAME","macvlan"],["K8S_POD_INFRA_CONTAINER_ID","3f6940ab5ab43bc522569d15b23f8c1bbde1d7678b080398506924fc01d72755"]],"result":{"cniVersion":"0.3.1","dns":{},"interfaces":[{"mac":"ea:19:25:a2:a1:93","name":"cni0"},{"mac":"7e:57:6a:9b:6b:b5","name":"eth0","sandbox":"/var/run/netns/8b8677c8-8929-4746-8206-514069760f6e"}],"ips":[{"address":"10.244.1.4/24","gateway":"10.244.1.1","interface":2,"version":"4"}],"routes":[{"dst":"0.0.0.0/0","gw":"10.244.1.1"}]}}';

describe('crictl inspectp', () => {
  it('reads a dead sandbox (process deleted, netns not closed, IP still reported) and a running one, as a shell loop prints them', async () => {
    const { facts, parsers } = await parseText('inspectp.txt', `# for id in $(crictl pods -q); do crictl inspectp $id; done\n${DEAD_SANDBOX}\n${RUNNING_SANDBOX}\n`);
    expect(parsers).toContain('crictl-inspectp');
    const [dead, running] = only(facts, 'container').map((f) => f.container);
    expect(dead).toMatchObject({ pod: 'kube-dns-6c857864fb-z88p2', podNamespace: 'kube-system', state: 'exited', pid: undefined, sandboxKey: '/var/run/netns/cni-ae2bd03e-4f7e-d9d0-911e-dafa7bb860e2', netnsClosed: false, ips: ['10.88.22.12'], isSandbox: true });
    expect(running).toMatchObject({ state: 'running', pid: 48095, sandboxKey: '/var/run/netns/cni-5ddce098-32ee-e39c-19c2-d6db782f6d20', ips: ['10.88.0.17', '2001:4860:4860::11'] });
  });
});

describe('CNI state on disk', () => {
  it('reads host-local reservations in both content forms, and skips the lock and last_reserved_ip files', async () => {
    const id = '3f6940ab5ab43bc522569d15b23f8c1bbde1d7678b080398506924fc01d72755';
    const crlf = only((await parseText('var/lib/cni/networks/mynet/10.1.2.2', `${id}\r\neth0`)).facts, 'ipReservation');
    expect(crlf).toMatchObject([{ via: 'host-local', network: 'mynet', ip: '10.1.2.2', containerId: id, ifname: 'eth0' }]);
    const bare = only((await parseText('var/lib/cni/networks/kubenet/2001:db8:1::2', id)).facts, 'ipReservation');
    expect(bare).toMatchObject([{ ip: '2001:db8:1::2', containerId: id, ifname: undefined }]);
    const cursor = await parseText('var/lib/cni/networks/mynet/last_reserved_ip.0', '10.1.2.2');
    expect(cursor.parsers).toEqual(['cni-host-local']);
    expect(cursor.facts).toEqual([]);
    expect((await parseText('var/lib/cni/networks/mynet/lock', '')).facts).toEqual([]);
  });

  it('reads a libcni cniCacheV1 entry (multus test fixture) and an older raw result named by the container', async () => {
    const v1 = only((await parseText('var/lib/cni/results/cbr0-3f6940ab5ab43bc522569d15b23f8c1bbde1d7678b080398506924fc01d72755-eth0', CACHE_V1)).facts, 'ipReservation');
    expect(v1).toMatchObject([{ via: 'libcni-cache', network: 'cbr0', ip: '10.244.1.4', ifname: 'eth0', pod: 'macvlan', podNamespace: 'default', netnsPath: '/var/run/netns/8b8677c8-8929-4746-8206-514069760f6e' }]);
    const raw = only((await parseText(`var/lib/cni/results/kubenet-${'a'.repeat(64)}`, '{"cniVersion":"0.2.0","ip4":{"ip":"10.251.0.193/25","gateway":"10.251.0.129","routes":[{"dst":"0.0.0.0/0"}]},"dns":{}}')).facts, 'ipReservation');
    expect(raw).toMatchObject([{ network: 'kubenet', containerId: 'a'.repeat(64), ip: '10.251.0.193' }]);
  });
});

describe('a containerd node, end to end', () => {
  it('names the dead sandbox behind a leaked /run/netns/cni-… namespace and its reserved IP', async () => {
    const a = await analyseHosts({
      'node-c': {
        'etc/hostname': 'node-c\n',
        'etc/timezone': 'America/Chicago\n',
        'commands/date-R.txt': '# date -R\nSat, 21 Sep 2019 00:58:10 -0500\n',
        'commands/uname-r.txt': '# uname -r\n5.4.0-1041-gcp\n',
        'proc/1/ns/net': link('net:[4026531992]'),
        'proc/1/ns/mnt': link('mnt:[4026531840]'),
        'proc/929/ns/net': link('net:[4026531992]'),
        'proc/929/ns/mnt': link('mnt:[4026531840]'),
        'proc/929/cmdline': '/usr/bin/containerd\0',
        'proc/4410/ns/net': link('net:[4026531992]'),
        'proc/4410/ns/mnt': link('mnt:[4026532611]'),
        'proc/4410/cmdline': '/usr/sbin/chronyd\0-F\0-1\0',
        'proc/4410/mountinfo': '611 600 0:4 net:[4026532773] /run/netns/cni-ae2bd03e-4f7e-d9d0-911e-dafa7bb860e2 rw - nsfs nsfs rw\n',
        'proc/1/mountinfo': '26 1 0:24 / /run rw,nosuid shared:5 - tmpfs tmpfs rw\n',
        'commands/inspectp.json': `# crictl inspectp 6ecc8a386012a\n${DEAD_SANDBOX}\n`,
        'var/lib/cni/networks/cbr0/10.88.22.12': '6ecc8a386012aa3d8cc41e986263a56c039044b7f9dcceda012cc3fc045e58c9\r\neth0',
        'netns/4026532773/ip-d-addr.txt': '# nsenter --net=/proc/4410/root/run/netns/cni-ae2bd03e-4f7e-d9d0-911e-dafa7bb860e2 ip -d addr\n3: eth0@if12: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500\n    inet 10.88.22.12/16 scope global eth0\n',
      },
    });
    const leak = a.findings.find((f) => f.rule === 'netns-leaked');
    expect(leak).toMatchObject({ ips: ['10.88.22.12'], containers: [{ pod: 'kube-system/kube-dns-6c857864fb-z88p2', state: 'exited' }], pinnedBy: [{ kind: 'mount', pid: 4410, mntns: 'mnt:[4026532611]' }] });
    const holder = a.findings.find((f) => f.rule === 'ip-last-holder');
    expect(holder).toMatchObject({ severity: 'warning', ips: ['10.88.22.12'] });
    expect(holder!.detail).toMatch(/runtime inventory|host-local IPAM reservation/);
    expect(holder!.remediation).toContain('crictl rmp -f 6ecc8a386012   # remove the exited container once its namespace is released');
    expect(holder!.detail).toMatch(/An exited container cannot be answering/);
    expect(a.findings.find((f) => f.rule === 'mount-propagation-pin')?.detail).toMatch(/PrivateTmp=/);
  });
});
