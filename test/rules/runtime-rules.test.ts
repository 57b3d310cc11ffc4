// The rules of issue 4 on small hosts built in code: containerd/CRI-O/dockershim layouts, other ids, paths and zones than the
// samples, each with a healthy twin that must stay silent.
import { describe, expect, it } from 'vitest';
import type { Analysis } from '../../src/engine/analyse.js';
import { analyseHosts, link, type TreeFile } from '../helpers.js';
import { cniLine, hostTree, ID, inspect, ipAddr, nsfs } from './fixture.js';

const of = (a: Analysis, rule: string) => a.findings.filter((f) => f.rule === rule);

const HOST_ADDR = (extra = '') => `# ip -d addr\n1: lo: <LOOPBACK,UP,LOWER_UP> mtu 65536\n    inet 127.0.0.1/8 scope host lo\n2: ens3: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 state UP\n    link/ether 52:54:00:aa:bb:cc brd ff:ff:ff:ff:ff:ff\n    inet 192.168.50.7/24 scope global ens3\n${extra}`;

function inspectp(id: string, o: { pod: string; ns: string; status: string; closed: boolean; netns: string; ip: string; pid?: number }): string {
  return JSON.stringify({
    status: { id, metadata: { attempt: 0, name: o.pod, namespace: o.ns, uid: 'u-1' }, state: o.status === 'running' ? 'SANDBOX_READY' : 'SANDBOX_NOTREADY', createdAt: '2024-04-18T09:00:00Z', network: { ip: o.ip } },
    info: { pid: o.pid ?? 0, processStatus: o.status, netNamespace: o.netns, netNamespaceClosed: o.closed },
  });
}

describe('sandbox-netns-not-closed', () => {
  const netnsPath = '/var/run/netns/cni-8f2c1a9e-1111-2222-3333-444455556666';
  const base = (status: string, closed: boolean, mounted: boolean): Record<string, TreeFile> =>
    hostTree([{ pid: 1, comm: 'systemd', net: '4026531992', mnt: '4026531840', mountinfo: mounted ? [nsfs('4026533001', netnsPath.replace('/var', ''))] : [] }], {
      'etc/timezone': 'Asia/Tokyo\n',
      'inspectp.json': inspectp(ID('9b'), { pod: 'api-7f9c', ns: 'payments', status, closed, netns: netnsPath, ip: '10.42.3.17', pid: status === 'running' ? 4242 : 0 }),
    });
  it('fires for a deleted sandbox whose netns is not closed and still mounted, naming pod and path', async () => {
    const a = await analyseHosts({ node: base('deleted', false, true) });
    const [f] = of(a, 'sandbox-netns-not-closed');
    expect(f).toMatchObject({ severity: 'error', containers: [{ id: ID('9b'), pod: 'payments/api-7f9c' }], netns: [{ inode: '4026533001' }] });
    expect(f.title).toContain('not closed');
    expect(f.remediation.join('\n')).toContain(`crictl rmp -f ${ID('9b').slice(0, 12)}`);
  });
  it('is silent for a running sandbox, and for a stopped one whose namespace was closed and unmounted', async () => {
    expect(of(await analyseHosts({ node: base('running', false, true) }), 'sandbox-netns-not-closed')).toEqual([]);
    expect(of(await analyseHosts({ node: base('stopped', true, false) }), 'sandbox-netns-not-closed')).toEqual([]);
  });
});

describe('ipam-leak', () => {
  const files = (states: Record<string, string>): Record<string, TreeFile> => {
    const f: Record<string, TreeFile> = { 'etc/hostname': 'worker-3\n', 'date-R.txt': 'Thu, 28 Dec 2017 00:10:00 +0000\n' };
    f['docker-ps.txt'] = ['CONTAINER ID        IMAGE               COMMAND             CREATED             STATUS              PORTS               NAMES', ...Object.entries(states).map(([id, st]) => `${id.slice(0, 12)}        pause:3.1           "/pause"            2 hours ago         ${st.padEnd(20)}                    k8s_POD_web-${id[0]}_default_0000-${id[0]}_0`), ''].join('\n');
    let n = 10;
    for (const id of Object.keys(states)) f[`var/lib/cni/networks/cbr0/10.244.1.${n++}`] = `${id}\r\neth0`;
    f['var/lib/cni/networks/cbr0/10.244.1.99'] = ID('e'); // reserved for a container that no inventory lists
    f['var/lib/cni/networks/cbr0/last_reserved_ip.0'] = '10.244.1.99';
    f['var/lib/cni/flannel/' + ID('e')] = '{"name":"cbr0","type":"bridge"}';
    return f;
  };
  it('groups the dead and gone reservations of one network and names the flannel leftovers', async () => {
    const a = await analyseHosts({ node: files({ [ID('a')]: 'Dead', [ID('b')]: 'Up 2 hours', [ID('c')]: 'Exited (0) 1 hour ago' }) });
    const leaks = of(a, 'ipam-leak');
    expect(leaks.map((f) => [f.ips, f.containers.map((c) => `${c.id.slice(0, 4)}:${c.state}`)])).toEqual([
      [[], ['eeee:gone']],
      [['10.244.1.10', '10.244.1.12', '10.244.1.99'], ['aaaa:dead', 'cccc:exited', 'eeee:gone']],
    ]);
    expect(leaks[1].remediation.join('\n')).toContain("rm -f /var/lib/cni/networks/cbr0/10.244.1.99");
  });
  it('fixes the same entries the detail lists, in the same order (by IP), when there are more than it shows', async () => {
    // Twelve dead sandboxes whose ids sort the other way round from their addresses.
    const ids = Array.from({ length: 12 }, (_, k) => ID((15 - k).toString(16)));
    const f = files(Object.fromEntries(ids.map((id) => [id, 'Dead'])));
    const [leak] = of(await analyseHosts({ node: f }), 'ipam-leak').filter((x) => x.ips.length);
    const listed = [...leak.detail.matchAll(/10\.244\.1\.(\d+) → (\w{12})/g)].map((m) => m[2]);
    const fixed = leak.remediation.flatMap((r) => /^docker rm -f (\w{12})/.exec(r)?.[1] ?? []);
    expect(listed).toEqual(ids.slice(0, 10).map((id) => id.slice(0, 12)));
    expect(fixed).toEqual(listed);
  });
  it('does not call containers gone on the word of another runtime\'s inventory', async () => {
    // docker installed beside containerd: docker ps -a knows none of the store's (containerd) sandboxes.
    const f = files({});
    f['docker-ps.txt'] = ['CONTAINER ID        IMAGE               COMMAND             CREATED             STATUS              PORTS               NAMES', '5b5b5b5b5b5b        registry:2          "/entrypoint.sh"    2 weeks ago         Up 2 weeks                              registry', ''].join('\n');
    expect(of(await analyseHosts({ node: f }), 'ipam-leak')).toEqual([]);
  });

  it('is silent when every reservation belongs to a running container, and without any inventory', async () => {
    const healthy = files({ [ID('b')]: 'Up 2 hours' });
    delete healthy['var/lib/cni/networks/cbr0/10.244.1.99'];
    delete healthy[`var/lib/cni/flannel/${ID('e')}`];
    expect(of(await analyseHosts({ node: healthy }), 'ipam-leak')).toEqual([]);
    const noInventory = files({});
    delete noInventory['docker-ps.txt'];
    expect(of(await analyseHosts({ node: noInventory }), 'ipam-leak')).toEqual([]);
  });
});

describe('ipam-leak on Azure CNI\'s endpoint state (/var/run/azure-vnet.json)', () => {
  // Laid out as an AKS node writes it (Azure/azure-container-networking, cni/network; an AKS node's file quoted in a bug report).
  const endpoint = (id: string, ip: string, pod: string, netns: string) => ({
    Id: `${id.slice(0, 8)}-eth0`, SandboxKey: '', IfName: 'azvc440f4556932', HostIfName: `azv${id.slice(0, 11)}`, MacAddress: 'ZqPi31PX',
    InfraVnetIP: { IP: '', Mask: null }, LocalIP: '', IPAddresses: [{ IP: ip, Mask: '//8AAA==' }], Gateways: ['0.0.0.0'],
    DNS: { Suffix: '', Servers: null, Options: null }, Routes: [{ Dst: { IP: '0.0.0.0', Mask: 'AAAAAA==' }, Src: '', Gw: '169.254.1.1', Protocol: 0, DevName: '', Scope: 0, Priority: 0, Table: 0 }],
    VlanID: 0, EnableSnatOnHost: false, NetworkContainerID: '', NetworkNameSpace: netns, ContainerID: id, PODName: pod, PODNameSpace: 'default', SecondaryInterfaces: {},
  });
  const state = (eps: ReturnType<typeof endpoint>[]) =>
    JSON.stringify({
      Network: {
        Version: 'v1.4.54', TimeStamp: '2024-09-11T02:34:43.990795913Z',
        ExternalInterfaces: { eth0: { Name: 'eth0', Networks: { azure: { Id: 'azure', Mode: 'transparent', VlanId: 0, Subnets: [{ Family: 2, Prefix: { IP: '10.224.0.0', Mask: '//8AAA==' }, Gateway: '10.224.0.1', PrimaryIP: '' }], Endpoints: Object.fromEntries(eps.map((e) => [e.Id, e])) } }, Subnets: ['10.224.0.0/16'] } },
      },
    }, null, '\t');
  const RUNNING = ID('7a');
  const GONE = ID('d3');
  const node = (eps: ReturnType<typeof endpoint>[]): Record<string, TreeFile> => ({
    'etc/hostname': 'aks-nodepool1-59385832-vmss000000\n',
    'date-R.txt': 'Mon, 02 Dec 2024 19:40:00 +0000\n',
    'inspectp.json': inspectp(RUNNING, { pod: 'nginx', ns: 'default', status: 'running', closed: false, netns: '/var/run/netns/cni-37bc323b-6978-74ae-6bf2-1f881e9f0e3f', ip: '10.224.0.47', pid: 5280 }),
    'var/run/azure-vnet.json': state(eps),
  });
  const running = endpoint(RUNNING, '10.224.0.47', 'nginx', '/var/run/netns/cni-37bc323b-6978-74ae-6bf2-1f881e9f0e3f');
  const gone = endpoint(GONE, '10.224.0.39', 'web-1', '/var/run/netns/cni-24740290-ae7f-ca68-274b-8f3259a70896');

  it('names the endpoint of a pod that is gone, its address and the line of the file, and what to do', async () => {
    const a = await analyseHosts({ node: node([running, gone]) });
    const [f] = of(a, 'ipam-leak');
    expect(f).toMatchObject({ ips: ['10.224.0.39'], containers: [{ id: GONE, state: 'gone' }] });
    expect(f.title).toBe('1 entry in the Azure CNI endpoint state (/var/run/azure-vnet.json) of network azure belongs to dead or gone containers: 10.224.0.39');
    expect(f.detail).toContain('Failed to allocate address: No available addresses');
    expect(f.evidence[0]).toMatchObject({ source: 'node/var/run/azure-vnet.json', text: `"ContainerID": "${GONE}", (endpoint d3d3d3d3-eth0: 10.224.0.39)` });
    expect(f.evidence[0].line).toBeGreaterThan(20);
    expect(f.remediation.join('\n')).toContain('stays in /var/run/azure-vnet.json until a DEL for it succeeds');
    const holder = of(a, 'ip-last-holder').find((h) => h.ips[0] === '10.224.0.39');
    expect(holder?.detail).toContain('Azure CNI endpoint state');
  });

  it('is silent when every endpoint belongs to a running pod', async () => {
    expect(of(await analyseHosts({ node: node([running]) }), 'ipam-leak')).toEqual([]);
  });

  it('takes the plugin\'s own failed ADD for the pool running dry when no runtime log says so', async () => {
    const id = ID('e5');
    const files = node([running, gone]);
    files['var/log/azure-vnet.log'] = [
      `2024/12/02 19:31:07 [9120] [cni-net] Processing ADD command with args {ContainerID:${id} Netns:/var/run/netns/cni-5 IfName:eth0 Args:K8S_POD_NAMESPACE=default;K8S_POD_NAME=web-2 Path:/opt/cni/bin StdinData:{}}.`,
      '2024/12/02 19:31:07 [9120] [cni-net] ADD command completed for pod web-2 with IPs:[] err:Failed to allocate pool: Failed to delegate: Failed to allocate address: No available addresses.',
      '',
    ].join('\n');
    const [f] = of(await analyseHosts({ node: files }), 'ipam-leak');
    expect(f.detail).toContain('That has happened here: the CNI plugin at 2024-12-02 19:31:07 +00:00: Failed to allocate pool: Failed to delegate: Failed to allocate address: No available addresses.');
    expect(f.evidence.map((e) => e.source)).toContain('node/var/log/azure-vnet.log');
  });
});

describe('sandbox-teardown-failed', () => {
  const sb = 'cae59246074a27247c54d43ffd3f68be61121bcc741133b940e7188002e34f60';
  const journal = (healed: boolean) => [
    `Oct 02 23:27:34 ip-10-0-60-95 containerd[2639]: time="2019-10-02T23:27:34.439359450Z" level=error msg="StopPodSandbox for \\"${sb}\\" failed" error="failed to destroy network for sandbox \\"${sb}\\": del cmd: failed to process delete request"`,
    `Oct 02 23:27:34 ip-10-0-60-95 kubelet[2783]: E1002 23:27:34.439509    2783 kuberuntime_gc.go:169] Failed to stop sandbox "${sb}" before removing: rpc error: code = Unknown desc = failed to destroy network for sandbox "${sb}": del cmd: failed to process delete request`,
    `Oct 02 23:29:34 ip-10-0-60-95 containerd[2639]: time="2019-10-02T23:29:34.439359450Z" level=error msg="StopPodSandbox for \\"${sb}\\" failed" error="failed to destroy network for sandbox \\"${sb}\\": del cmd: failed to process delete request"`,
    ...(healed ? [`Oct 02 23:31:00 ip-10-0-60-95 containerd[2639]: time="2019-10-02T23:31:00.000000000Z" level=info msg="TearDown network for sandbox \\"${sb}\\" successfully"`] : []),
    '',
  ].join('\n');
  const node = (healed: boolean, withSandbox: boolean): Record<string, TreeFile> => ({
    'date-R.txt': 'Wed, 02 Oct 2019 23:40:00 +0000\n',
    'journal.txt': journal(healed),
    'inspectp.json': withSandbox ? inspectp(sb, { pod: 'coredns-5d4', ns: 'kube-system', status: 'stopped', closed: true, netns: '/var/run/netns/cni-aaaa', ip: '172.16.5.9' }) : '[]',
    [`var/lib/cni/networks/aws/172.16.5.9`]: withSandbox ? sb : ID('f'),
  });
  it('groups kubelet\'s and containerd\'s failures for one sandbox and joins what is left', async () => {
    const [f] = of(await analyseHosts({ node: node(false, true) }), 'sandbox-teardown-failed');
    expect(f.severity).toBe('warning');
    // containerd's and kubelet's lines of 23:27:34 are one attempt, 23:29:34 the second.
    expect(f.title).toBe('containerd and kubelet failed to tear down the network of sandbox cae59246074a (pod kube-system/coredns-5d4) (2 times); still there: the exited sandbox, the IPAM reservation of 172.16.5.9');
    expect(f.detail).toContain('del cmd: failed to process delete request');
    expect(f.ips).toEqual(['172.16.5.9']);
  });
  it('counts failed attempts, not lines: each attempt logged by containerd and kubelet, and counted again by the cluster\'s events', async () => {
    // Six attempts about a minute apart (kubelet's garbage collector), each one line of containerd's and two of kubelet's.
    const attempt = (k: number) => {
      const t = `23:2${k}:0${k}`; // 23:20:00, 23:21:01, ... 23:25:05
      return [
        `Oct 02 ${t} ip-10-0-60-95 containerd[2639]: time="2019-10-02T${t}.100000000Z" level=error msg="StopPodSandbox for \\"${sb}\\" failed" error="failed to destroy network for sandbox \\"${sb}\\": del cmd: failed to process delete request"`,
        `Oct 02 ${t} ip-10-0-60-95 kubelet[2783]: E1002 ${t}.100200    2783 remote_runtime.go:245] StopPodSandbox "${sb}" from runtime service failed: rpc error: code = Unknown desc = failed to destroy network for sandbox "${sb}": del cmd: failed to process delete request`,
        `Oct 02 ${t} ip-10-0-60-95 kubelet[2783]: E1002 ${t}.100400    2783 kuberuntime_gc.go:169] Failed to stop sandbox "${sb}" before removing: rpc error: code = Unknown desc = failed to destroy network for sandbox "${sb}": del cmd: failed to process delete request`,
      ];
    };
    const loop = [0, 1, 2, 3, 4, 5].flatMap(attempt).join('\n');
    const events = (count: number) =>
      JSON.stringify({
        apiVersion: 'v1',
        kind: 'EventList',
        items: [
          {
            kind: 'Event',
            metadata: { name: 'coredns-5d4.17a2b3c4d5e6f708', namespace: 'kube-system' },
            involvedObject: { kind: 'Pod', name: 'coredns-5d4', namespace: 'kube-system' },
            reason: 'FailedKillPod',
            message: `error killing pod: failed to "KillPodSandbox" for "2a8f6c1e" with KillPodSandboxError: "rpc error: code = Unknown desc = failed to destroy network for sandbox \\"${sb}\\": del cmd: failed to process delete request"`,
            source: { component: 'kubelet', host: 'ip-10-0-60-95' },
            firstTimestamp: count > 6 ? '2019-10-02T22:00:00Z' : '2019-10-02T23:20:00Z',
            lastTimestamp: '2019-10-02T23:25:05Z',
            count,
          },
        ],
      });
    const host = (files: Record<string, TreeFile>) => ({ 'date-R.txt': 'Wed, 02 Oct 2019 23:40:00 +0000\n', 'etc/hostname': 'ip-10-0-60-95\n', 'journal.txt': `${loop}\n`, ...files });
    const title = async (files: Record<string, TreeFile>) => of(await analyseHosts({ node: host(files) }), 'sandbox-teardown-failed').map((f) => /\((\d+) times\)/.exec(f.title)?.[1]);
    expect(await title({})).toEqual(['6']); // 18 lines
    expect(await title({ 'events.json': events(6) })).toEqual(['6']); // the same six attempts, seen by the cluster too
    expect(await title({ 'events.json': events(40) })).toEqual(['40']); // the cluster saw more than the journal kept
  });
  it('joins lines that name only the pod, or nothing, to the sandbox they belong to (kubernetes/kubernetes#57465, dockershim)', async () => {
    const lines = [
      'E1220 15:42:09.401448    1396 cni.go:278] Error deleting network: failed to Statfs "/proc/115577/ns/net": no such file or directory',
      'E1220 15:42:09.554117    1396 remote_runtime.go:109] StopPodSandbox "159b8a23dccc9a3e8747309b4ba0e968493cc216197dc44046ff0e688989074e" from runtime service failed: rpc error: code = 2 desc = NetworkPlugin cni failed to teardown pod "my-cron-pz1b7_mynamespace" network: failed to Statfs "/proc/115577/ns/net": no such file or directory',
      'E1220 15:42:09.554162    1396 kuberuntime_manager.go:784] Failed to stop sandbox {"docker" "159b8a23dccc9a3e8747309b4ba0e968493cc216197dc44046ff0e688989074e"}',
      'E1220 15:42:09.554192    1396 kubelet_pods.go:920] Failed killing the pod "my-cron-pz1b7": failed to "KillPodSandbox" for "52d9b9b4-e59c-11e7-b6c8-005056ae60f5" with KillPodSandboxError: "rpc error: code = 2 desc = NetworkPlugin cni failed to teardown pod \\"my-cron-pz1b7_mynamespace\\" network: failed to Statfs \\"/proc/115577/ns/net\\": no such file or directory"',
      '',
    ].join('\n');
    const a = await analyseHosts({ node: { 'date-R.txt': 'Wed, 20 Dec 2017 16:00:00 +0000\n', 'kubelet.log': lines } });
    const found = of(a, 'sandbox-teardown-failed');
    expect(found.map((f) => [f.containers[0]?.id.slice(0, 12), f.containers[0]?.pod, f.severity])).toEqual([['159b8a23dccc', 'mynamespace/my-cron-pz1b7', 'warning']]);
    expect(found[0].title).not.toContain('times)'); // four lines of one failed sync, within 0.2 s: one attempt
    expect(found[0].detail).toContain('The runtime handed the plugin /proc/<pid>/ns/net');
  });

  it('with neither the sandbox nor its netns path known, points at a leaked namespace nobody owns instead of calling it all clear', async () => {
    const other = inspectp(ID('d'), { pod: 'web-1', ns: 'shop', status: 'running', closed: false, netns: '/var/run/netns/cni-dddd', ip: '172.16.5.20', pid: 700 });
    const files = (leak: boolean): Record<string, TreeFile> =>
      hostTree(
        [
          { pid: 1, comm: 'systemd', net: '4026531992', mnt: '4026531840', mountinfo: leak ? [nsfs('4026532555', '/run/netns/cni-e1e1')] : [] },
          { pid: 700, comm: 'pause', net: '4026532400', mnt: '4026532401' },
        ],
        { 'date-R.txt': 'Wed, 02 Oct 2019 23:40:00 +0000\n', 'journal.txt': journal(false), 'inspectp.json': other, ...(leak ? { 'netns/4026532555/ip-d-addr.txt': ipAddr('ip -d addr', 'eth0@if12', '172.16.5.9/24') } : {}) },
      );
    const [clear] = of(await analyseHosts({ node: files(false) }), 'sandbox-teardown-failed');
    expect([clear.severity, clear.title]).toEqual(['info', 'containerd and kubelet failed to tear down the network of sandbox cae59246074a (2 times); nothing of it is left']);
    const [maybe] = of(await analyseHosts({ node: files(true) }), 'sandbox-teardown-failed');
    expect([maybe.severity, maybe.title]).toEqual(['warning', 'containerd and kubelet failed to tear down the network of sandbox cae59246074a (2 times); still there: maybe the leaked namespace no container owns']);
    expect(maybe.detail).toContain('net:[4026532555] at /run/netns/cni-e1e1 has no process and belongs to no container the bundle knows: it may be this one');
    expect(maybe.netns).toEqual([{ inode: '4026532555', paths: ['/run/netns/cni-e1e1'] }]);
  });

  it('names the address a CNI ADD gave the sandbox and no DEL released', async () => {
    const cni = `${cniLine('ADD', '1002 22:58:01.000000', sb, 'coredns-5d4', '172.16.5.9', '<nil>', '/var/run/netns/cni-aaaa')}\n`;
    const [f] = of(await analyseHosts({ node: { 'date-R.txt': 'Wed, 02 Oct 2019 23:40:00 +0000\n', 'journal.txt': journal(false), 'var/log/cni/cni.log': cni } }), 'sandbox-teardown-failed');
    expect(f.title).toBe('containerd and kubelet failed to tear down the network of sandbox cae59246074a (2 times); still there: the claim on 172.16.5.9');
    expect(f.ips).toEqual(['172.16.5.9']);
  });

  it('says nothing once a later teardown succeeded', async () => {
    expect(of(await analyseHosts({ node: node(true, true) }), 'sandbox-teardown-failed')).toEqual([]);
  });
});

describe('veth-dangling and hostpath-run-pin', () => {
  // A weave-style agent container (pid 7001) that mounts the host's /run: its mount namespace keeps a copy of a dead pod's netns.
  const path = '/run/netns/cni-0b5e6d4c-7777-8888-9999-aaaabbbbcccc';
  const tree = (pinnedInAgent: boolean, binds: { Source: string; Destination: string }[]) =>
    hostTree(
      [
        { pid: 1, comm: 'systemd', net: '4026531992', mnt: '4026531840', mountinfo: [] },
        { pid: 7001, args: '/home/weave/weaver --port=6783', net: '4026531992', mnt: '4026532500', mountinfo: pinnedInAgent ? [nsfs('4026533100', path, 'master:2')] : [] },
      ],
      {
        'inspect.json': JSON.stringify([{ Id: ID('7a'), Name: '/k8s_weave_weave-net-x2k_kube-system_u_0', State: { Status: 'running', Running: true, Pid: 7001, StartedAt: '2017-01-30T00:00:00Z' }, HostConfig: { NetworkMode: 'host' }, Mounts: binds, Config: { Labels: {} }, NetworkSettings: { SandboxKey: '' } }]),
        'ip-netns.txt': '# ip netns list-id\nnsid 4 (iproute2 netns name: cni-0b5e6d4c-7777-8888-9999-aaaabbbbcccc)\n',
        'ip-link.txt': `${HOST_ADDR('41: vethwe-pcap@if40: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1376 state UP\n    link/ether 7a:11:22:33:44:55 brd ff:ff:ff:ff:ff:ff link-netnsid 4\n')}`,
        [`netns/4026533100/ip-d-addr.txt`]: '# ip -d addr\n1: lo: <LOOPBACK,UP,LOWER_UP> mtu 65536\n    inet 127.0.0.1/8 scope host lo\n40: eth0@if41: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1376 state UP\n    link/ether 0a:58:0a:20:00:05 brd ff:ff:ff:ff:ff:ff link-netnsid 0\n    inet 10.32.0.5/12 scope global eth0\n',
      },
    );
  it('names the host veth by link-netnsid and ip netns list-id, and the agent container with its /run bind', async () => {
    const a = await analyseHosts({ node: tree(true, [{ Source: '/var/run', Destination: '/var/run' }]) });
    const veth = of(a, 'veth-dangling');
    expect(veth.map((f) => [f.title.split(' ')[2], f.ips])).toEqual([['vethwe-pcap', ['10.32.0.5']]]);
    expect(veth[0].detail).toContain('The namespace net:[4026533100] at /run/netns/cni-0b5e6d4c-7777-8888-9999-aaaabbbbcccc has no process left');
    expect(veth[0].detail).toContain('still delivered through this interface: ping and ARP get answers from a namespace nothing runs in.');
    const [pin] = of(a, 'hostpath-run-pin');
    expect(pin.title).toBe(`Container ${ID('7a').slice(0, 12)} (pod kube-system/weave-net-x2k), state running holds net:[4026533100] through its mount of the host's /var/run`);
    expect(pin.remediation[0]).toBe(`nsenter -t 7001 -m umount ${path}   # releases the copy held by the container`);
  });
  it('a macvlan in a leaked namespace is not a dangling veth: its "@if2" names the parent device (containernetworking/plugins#718)', async () => {
    const t = tree(true, [{ Source: '/var/run', Destination: '/var/run' }]);
    t['ip-link.txt'] = HOST_ADDR();
    t['netns/4026533100/ip-d-addr.txt'] = '# ip -d addr\n3: net1@if2: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 9000 state UP\n    link/ether 4a:6e:0c:91:5d:22 brd ff:ff:ff:ff:ff:ff link-netnsid 0\n    macvlan mode bridge numtxqueues 1\n    inet 10.150.255.20/16 scope global net1\n';
    const a = await analyseHosts({ node: t });
    expect(of(a, 'veth-dangling')).toEqual([]);
    expect(of(a, 'netns-leaked')[0].detail).toContain('10.150.255.20/16 on net1 (macvlan on the host\'s ifindex 2)');
  });

  it('no pin, no dangling veth when the namespace is not held; no hostpath finding when the container mounts nothing of /run', async () => {
    const a = await analyseHosts({ node: tree(false, [{ Source: '/var/run', Destination: '/var/run' }]) });
    expect([...of(a, 'veth-dangling'), ...of(a, 'hostpath-run-pin')]).toEqual([]);
    const b = await analyseHosts({ node: tree(true, [{ Source: '/var/lib/weave', Destination: '/weavedb' }]) });
    expect(of(b, 'hostpath-run-pin')).toEqual([]);
    expect(of(b, 'veth-dangling')).toHaveLength(1);
  });
});

describe('ip-reused-while-live', () => {
  // Calico on containerd: pod A got 192.168.31.4; its netns leaked (mount held by the host); pod B got the same address later.
  const calico = (id: string, pod: string, when: string) => `${when} [INFO][${pod.length}00] k8s.go 373: Calico CNI using IPs: [192.168.31.4/32] ContainerID="${id}" Namespace="shop" Pod="${pod}" WorkloadEndpoint="n1-k8s-${pod}-eth0"`;
  const tree = (leaked: boolean) =>
    hostTree([{ pid: 1, comm: 'systemd', net: '4026531992', mnt: '4026531840', mountinfo: leaked ? [nsfs('4026533200', '/run/netns/cni-aaaa0000-1111-2222-3333-444444444444')] : [] }], {
      'etc/timezone': 'America/Sao_Paulo\n',
      'date-R.txt': 'Mon, 15 Apr 2024 10:00:00 -0300\n',
      'var/log/calico/cni/cni.log': [calico(ID('1a'), 'cart-0', '2024-04-15 08:00:00.100'), calico(ID('2b'), 'cart-1', '2024-04-15 09:30:00.200'), ''].join('\n'),
      'inspectp-a.json': inspectp(ID('1a'), { pod: 'cart-0', ns: 'shop', status: 'deleted', closed: false, netns: '/var/run/netns/cni-aaaa0000-1111-2222-3333-444444444444', ip: '192.168.31.4' }),
      ...(leaked ? { 'netns/4026533200/ip-d-addr.txt': '# ip -d addr\n1: lo: <LOOPBACK,UP,LOWER_UP> mtu 65536\n    inet 127.0.0.1/8 scope host lo\n4: eth0@if9: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1440 state UP\n    link/ether ee:ee:ee:ee:ee:ee brd ff:ff:ff:ff:ff:ff link-netnsid 0\n    inet 192.168.31.4/32 scope global eth0\n' } : {}),
    });
  it('says B got the address while A\'s leaked namespace still had it, and why when the logs say', async () => {
    const t = tree(true);
    t['kubelet.log'] = `Apr 15 08:59:59 n1 kubelet[900]: W0415 08:59:59.102931     900 cni.go:333] CNI failed to retrieve network namespace path: cannot find network namespace for the terminated container "${ID('1a')}"\n`;
    const [f] = of(await analyseHosts({ node: t }), 'ip-reused-while-live');
    expect(f.detail).toContain("Why: at 2024-04-15 08:59:59 -03:00 kubelet could not find that sandbox's netns path");
    expect(f.severity).toBe('error');
    expect(f.title).toBe(`At 2024-04-15 09:30:00 -03:00, 192.168.31.4 was given to ${ID('2b').slice(0, 12)} (pod shop/cart-1) while ${ID('1a').slice(0, 12)} (pod shop/cart-0) still had it configured`);
    expect(f.remediation).toContain('ip neigh flush to 192.168.31.4   # on the node and on peers that cached the old MAC');
  });
  it('is silent when the earlier holder\'s namespace is gone', async () => {
    expect(of(await analyseHosts({ node: tree(false) }), 'ip-reused-while-live')).toEqual([]);
  });
});

describe('namespaces with no process by design', () => {
  it("are not leaks: a swarm node's ingress_sbox, overlay and load-balancer namespaces, rootless podman's rootless-netns, Neutron's qrouter; one named by hand is a warning", async () => {
    const dead = ID('f14d61c13517');
    const files = hostTree(
      [
        {
          pid: 1, comm: 'systemd', net: '4026531992', mnt: '4026531840',
          mountinfo: [
            nsfs('4026532301', '/run/docker/netns/ingress_sbox', 'shared:5'),
            nsfs('4026532302', '/run/docker/netns/1-4ia15yxtxe', 'shared:5'),
            nsfs('4026532303', '/run/docker/netns/lb_b1c4bbhf2', 'shared:5'),
            nsfs('4026532304', '/run/user/1000/netns/rootless-netns-6f2c1b9a8d7e4f30', 'shared:5'),
            nsfs('4026532305', '/run/docker/netns/f14d61c13517', 'shared:5'),
            nsfs('4026532306', '/run/netns/qrouter-5e1a7c2b-9d3f-4a61-8b0e-2c7f9d4e6a13', 'shared:5'),
            nsfs('4026532307', '/run/netns/vpn', 'shared:5'),
          ],
        },
        { pid: 900, comm: 'dockerd', args: '/usr/bin/dockerd -H fd://', net: '4026531992', mnt: '4026531840' },
      ],
      {
        'inspect.json': JSON.stringify([inspect({ id: dead, state: 'exited', sandboxKey: '/var/run/docker/netns/f14d61c13517', ip: '10.0.1.7' })]),
        'netns/4026532301/ip-d-addr.txt': ipAddr('ip -d addr', 'eth0@if21', '10.255.0.2/16'),
        'netns/4026532302/ip-d-addr.txt': ipAddr('ip -d addr', 'br0', '10.0.1.1/24'),
        // `ip netns add vpn`, wired to the host by a veth (host end vethvpn, ifindex 31): kept on purpose, by hand.
        'netns/4026532307/ip-d-addr.txt': ipAddr('ip -d addr', 'eth0@if31', '10.99.0.2/30').replace('3: eth0', '2: eth0'),
        'host-addr.txt': '# ip -d addr\n1: lo: <LOOPBACK,UP,LOWER_UP> mtu 65536\n    inet 127.0.0.1/8 scope host lo\n31: vethvpn@if2: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 state UP\n    link/ether 52:54:00:11:22:33 brd ff:ff:ff:ff:ff:ff link-netns vpn\n    inet 10.99.0.1/30 scope global vethvpn\n',
      },
    );
    const a = await analyseHosts({ 'swarm-worker-3': files });
    expect(of(a, 'netns-leaked').map((f) => [f.severity, f.netns.map((n) => n.paths.join(','))])).toEqual([
      ['error', ['/run/docker/netns/f14d61c13517']],
      ['warning', ['/run/netns/vpn']],
    ]);
    expect(a.findings.filter((f) => f.netns.some((n) => /ingress_sbox|1-4ia|lb_|rootless-netns|qrouter/.test(n.paths.join()))).map((f) => f.rule)).toEqual([]);
    expect(of(a, 'veth-dangling')).toEqual([]); // vethvpn leads into vpn on purpose: netns-leaked tells it, once
  });
});

describe('a netns known by path only', () => {
  const path = '/run/netns/cni-5a1b3c7d-90ef-4a12-b3c4-d5e6f7a8b9c0';
  it('is one namespace when /proc/mounts (path) and mountinfo (inode) both show it', async () => {
    const t = hostTree([{ pid: 1, comm: 'systemd', net: '4026531992', mnt: '4026531840', mountinfo: [nsfs('4026533300', path)] }], { 'proc/mounts': `nsfs ${path} nsfs rw 0 0\n` });
    const a = await analyseHosts({ node: t });
    const withPath = [...a.hosts[0].netns.values()].filter((n) => n.paths.includes(path));
    expect(withPath.map((n) => n.key)).toEqual(['4026533300']);
  });
  it('says why it has no inode: /proc/mounts here, a pre-3.19 proc mount in the seed', async () => {
    const a = await analyseHosts({ node: { 'proc/mounts': `nsfs ${path} nsfs rw 0 0\n`, 'date-R.txt': 'Thu, 03 Oct 2019 08:12:40 +0000\n' } });
    const { netnsName } = await import('../../src/engine/rule.js');
    expect([...a.hosts[0].netns.values()].map(netnsName)).toEqual([`the netns mounted at ${path} (no inode: /proc/mounts shows none)`]);
  });
});
