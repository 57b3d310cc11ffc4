import { describe, expect, it } from 'vitest';
import { analyse, parseText } from '../../src/engine/analyse.js';
import { commandContext } from '../../src/recognise/command.js';
import { toFile } from '../../parsers/transcript.js';
import { analyseHosts, link, only } from '../helpers.js';

describe('ip addr', () => {
  it('reads the seed\'s leaked namespace view: NOARP tunnels, veth peer index, link-netnsid', async () => {
    const text = [
      '1: lo: <LOOPBACK,UP,LOWER_UP> mtu 65536 qdisc noqueue state UNKNOWN',
      '    inet 127.0.0.1/8 scope host lo',
      '2: tunl0@NONE: <NOARP,UP,LOWER_UP> mtu 1480 qdisc noqueue state UNKNOWN',
      '    link/ipip 0.0.0.0 brd 0.0.0.0',
      '    inet 115.159.246.146/32 brd 115.159.246.146 scope global tunl0:0',
      '4032: eth0@if4033: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc noqueue state UP',
      '    link/ether 02:42:0a:02:01:0f brd ff:ff:ff:ff:ff:ff link-netnsid 0',
      '    inet 10.2.1.15/24 scope global eth0',
    ].join('\n');
    const { facts } = await parseText('ip.txt', text);
    const [view] = only(facts, 'netnsView');
    expect(view.where).toEqual({ kind: 'host' });
    expect(view.links.map((l) => [l.ifindex, l.name, l.peerIfindex, l.linkNetnsid, l.flags.includes('NOARP')])).toEqual([
      [1, 'lo', undefined, undefined, false],
      [2, 'tunl0', undefined, undefined, true],
      [4032, 'eth0', 4033, 0, false],
    ]);
    expect(view.links[2].addrs).toMatchObject([{ ip: '10.2.1.15', prefix: 24, scope: 'global', ev: { line: 8 } }]);
    expect(view.links[1].addrs[0]).toMatchObject({ ip: '115.159.246.146', label: 'tunl0:0' });
  });

  it('reads ip -d addr (live capture on 6.18) with the veth kind and link-netns name', async () => {
    const { facts } = await parseText(
      'd.txt',
      [
        '7: vethfx0@if2: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc noqueue state UP group default qlen 1000',
        '    link/ether de:ce:53:da:11:38 brd ff:ff:ff:ff:ff:ff link-netns fx-demo promiscuity 0  allmulti 0 minmtu 68 maxmtu 65535 ',
        '    veth numtxqueues 2 numrxqueues 2 gso_max_size 65536 gso_max_segs 65535 tso_max_size 524280 tso_max_segs 65535 gro_max_size 65536 ',
        '    inet 10.244.1.1/24 scope global vethfx0',
        '       valid_lft forever preferred_lft forever',
        '    inet6 fe80::dcce:53ff:feda:1138/64 scope link tentative ',
        '       valid_lft forever preferred_lft forever',
      ].join('\n'),
    );
    const [l] = only(facts, 'netnsView')[0].links;
    expect(l).toMatchObject({ name: 'vethfx0', peerIfindex: 2, linkNetns: 'fx-demo', type: 'veth', mac: 'de:ce:53:da:11:38' });
    expect(l.addrs.map((a) => [a.ip, a.family, a.scope])).toEqual([
      ['10.244.1.1', 4, 'global'],
      ['fe80::dcce:53ff:feda:1138', 6, 'link'],
    ]);
  });

  it('reads `metric` and `dynamic` on newer iproute2 address lines', async () => {
    const { facts } = await parseText('a.txt', '2: ens3: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500\n    inet 192.0.2.47/24 metric 100 brd 192.0.2.255 scope global dynamic ens3\n');
    expect(only(facts, 'netnsView')[0].links[0].addrs[0]).toMatchObject({ ip: '192.0.2.47', prefix: 24, scope: 'global' });
  });

  it('reads ip -j addr (live capture) including link_index and link_netnsid', async () => {
    const json =
      '[{"ifindex":1,"ifname":"lo","flags":["LOOPBACK","UP","LOWER_UP"],"mtu":65536,"link_type":"loopback","address":"00:00:00:00:00:00","addr_info":[{"family":"inet","local":"127.0.0.1","prefixlen":8,"scope":"host","label":"lo"}]},{"ifindex":2,"link_index":7,"ifname":"eth0","flags":["BROADCAST","MULTICAST","UP","LOWER_UP"],"mtu":1500,"link_type":"ether","address":"2e:13:a7:da:36:c5","broadcast":"ff:ff:ff:ff:ff:ff","link_netnsid":0,"addr_info":[{"family":"inet","local":"10.244.1.4","prefixlen":24,"scope":"global","label":"eth0"},{"family":"inet6","local":"fe80::2c13:a7ff:feda:36c5","prefixlen":64,"scope":"link","tentative":true}]}]';
    const { facts, parsers } = await parseText('addr.json', json);
    expect(parsers).toEqual(['ip-addr-json']);
    const eth0 = only(facts, 'netnsView')[0].links[1];
    expect(eth0).toMatchObject({ ifindex: 2, name: 'eth0', peerIfindex: 7, linkNetnsid: 0, mac: '2e:13:a7:da:36:c5' });
    expect(eth0.addrs.map((a) => a.ip)).toEqual(['10.244.1.4', 'fe80::2c13:a7ff:feda:36c5']);
  });
});

describe('docker inspect', () => {
  const pause = (over: Record<string, unknown>) => ({
    Id: '2b116eadcab3c32485545b416980b80cda916a28864a188e9259573b3f1d27b3',
    Name: '/k8s_POD_elasticsearch-master-0_lindeci-project_6a4fa112-9845-411f-875c-27750799d196_0',
    State: { Status: 'running', Running: true, Paused: false, Restarting: false, OOMKilled: false, Dead: false, Pid: 8809, ExitCode: 0, Error: '', StartedAt: '2023-09-14T02:24:44.354393572Z', FinishedAt: '0001-01-01T00:00:00Z' },
    HostConfig: { NetworkMode: 'none' },
    Config: { Labels: { 'io.kubernetes.container.name': 'POD', 'io.kubernetes.docker.type': 'podsandbox', 'io.kubernetes.pod.name': 'elasticsearch-master-0', 'io.kubernetes.pod.namespace': 'lindeci-project' } },
    NetworkSettings: { SandboxID: 'f40c87f474f37704cbfc78cb7076cad14705a85cafef570b2040a90c6535e672', SandboxKey: '/var/run/docker/netns/f40c87f474f3', IPAddress: '', Networks: { none: { IPAddress: '' } } },
    ...over,
  });

  it('reads a k8s pause container (2023 sample): pod, sandbox key, pid, no IP', async () => {
    const { facts } = await parseText('inspect.json', JSON.stringify([pause({})], null, 4));
    const [c] = only(facts, 'container');
    expect(c.container).toMatchObject({ pod: 'elasticsearch-master-0', podNamespace: 'lindeci-project', isSandbox: true, state: 'running', pid: 8809, sandboxKey: '/var/run/docker/netns/f40c87f474f3', ips: [] });
    expect(c.ev.line).toBe(3);
  });

  it('reads a dead container as a single object, and derives state on Docker < 1.10 (no Status)', async () => {
    const dead = pause({ State: { Running: false, Dead: true, Pid: 0, StartedAt: '2019-03-02T07:11:04.114306437Z', FinishedAt: '2019-03-05T16:40:51.908411226Z', Error: 'driver "overlay2" failed to remove root filesystem: unlinkat /var/lib/docker/overlay2/x/merged: device or resource busy' } });
    const { facts } = await parseText('one.json', JSON.stringify(dead));
    expect(only(facts, 'container')[0].container).toMatchObject({ state: 'dead', pid: undefined, error: expect.stringContaining('device or resource busy') });
  });

  it('reads pre-CRI k8s names (k8s_POD.<hash>_pod_ns_uid_hash) and plain bridge containers', async () => {
    const old = pause({ Name: '/k8s_POD.f932fb66_distribution-memcached-1887283407-bzr10_playground_03dc6bd3-4f82-11e7-b0aa-1c98ec1a3b64_28a76405', Config: { Labels: {} } });
    const bridge = pause({ Id: '4f9d2a6b1c3e58f7a0b9c8d7e6f5a4b3c2d1e0f9a8b7c6d5e4f3a2b1c0d9e8f7', Name: '/web', Config: { Labels: {} }, HostConfig: { NetworkMode: 'bridge' }, NetworkSettings: { SandboxKey: '/var/run/docker/netns/a81c7f3e20d4', IPAddress: '172.17.0.2', Networks: { bridge: { IPAddress: '172.17.0.2' } } } });
    const { facts } = await parseText('x.json', JSON.stringify([old, bridge]));
    const [a, b] = only(facts, 'container').map((f) => f.container);
    expect(a).toMatchObject({ pod: 'distribution-memcached-1887283407-bzr10', podNamespace: 'playground', isSandbox: true });
    expect(b).toMatchObject({ name: 'web', isSandbox: true, ips: ['172.17.0.2'] });
  });

  it('warns on JSON of the wrong shape instead of failing', async () => {
    const { facts, diagnostics } = await parseText('bad.json', '[{"Id":"' + 'a'.repeat(64) + '","State":{"Status":"running"},"Config":{}}, 42, {"Id": 7, "State": {}}]');
    expect(only(facts, 'container')).toHaveLength(1);
    expect(diagnostics.length).toBeGreaterThan(0);
  });
});

describe('CNI glog', () => {
  it('reads the seed\'s ADD line verbatim: pod, namespace, id, netns path, spec 0.2 IP, nil error', async () => {
    const line =
      'I0206 12:22:17.639674   27084 server.go:81] ADD loadbalancenatwindyliu-2396807556-ure36_demo, 326383b80aba6e0ab7774f98ae36e1308cfd1d6165372222c4358b72534dee44, /proc/5145/ns/net, IgnoreUnknown=1;K8S_POD_NAMESPACE=demo;K8S_POD_NAME=loadbalancenatwindyliu-2396807556-ure36;K8S_POD_INFRA_CONTAINER_ID=326383b80aba6e0ab7774f98ae36e1308cfd1d6165372222c4358b72534dee44 ;, data {"ip4":{"ip":"10.2.1.15/24","gateway":"10.2.1.1","routes":[{"dst":"0.0.0.0/0"}]},"dns":{}}, err <nil>, Feb  6 12:22:16.970597-';
    const { facts, parsers } = await parseText('plugin.log', line);
    expect(parsers).toEqual(['cni-glog']);
    expect(only(facts, 'cniOp')).toMatchObject([
      { op: 'ADD', pod: 'loadbalancenatwindyliu-2396807556-ure36', podNamespace: 'demo', containerId: '326383b80aba6e0ab7774f98ae36e1308cfd1d6165372222c4358b72534dee44', netnsPath: '/proc/5145/ns/net', ips: ['10.2.1.15'], err: undefined, at: { kind: 'local', month: 2, day: 6, hour: 12, minute: 22, second: 17, millis: 639 } },
    ]);
  });

  it('reads spec 0.3+ results, a DEL error that contains commas, and glog behind a journald prefix', async () => {
    const id = 'ab'.repeat(32);
    const text = [
      `Feb 06 12:00:00 node-a galaxy[99]: I0206 12:00:00.000001   99 server.go:81] ADD web-1_prod, ${id}, /var/run/netns/cni-1, K8S_POD_NAME=web-1;K8S_POD_NAMESPACE=prod, data {"cniVersion":"0.3.1","ips":[{"version":"4","address":"10.244.1.4/24","interface":2},{"address":"fd00::4/64"}]}, err <nil>, Feb  6 12:00:00.0-`,
      `E0206 12:10:00.000001   99 server.go:95] DEL web-1_prod, ${id}, /var/run/netns/cni-1, K8S_POD_NAME=web-1;K8S_POD_NAMESPACE=prod, data <nil>, err plugin failed: a, b, c, Feb  6 12:10:00.0-`,
    ].join('\n');
    const ops = only((await parseText('galaxy.INFO', text)).facts, 'cniOp');
    expect(ops.map((o) => [o.op, o.ips, o.err])).toEqual([
      ['ADD', ['10.244.1.4', 'fd00::4'], undefined],
      ['DEL', [], 'plugin failed: a, b, c'],
    ]);
  });
});

describe('systemd', () => {
  it('reads MountFlags from a unit file (docker v1.11.2 unit) and from systemctl cat with drop-ins', async () => {
    const unit = await parseText('lib/systemd/system/docker.service', '[Unit]\nDescription=Docker\n\n[Service]\nType=notify\nExecStart=/usr/bin/docker daemon -H fd://\nMountFlags=slave\n');
    expect(only(unit.facts, 'unitDirective').find((d) => d.key === 'MountFlags')).toMatchObject({ unit: 'docker.service', section: 'Service', value: 'slave', ev: { line: 7 } });
    const cat = await parseText('x.txt', '# /lib/systemd/system/docker.service\n[Service]\nExecStart=/usr/bin/dockerd\n\n# /etc/systemd/system/docker.service.d/mountflags-slave.conf\n[Service]\nMountFlags=slave\n');
    expect(only(cat.facts, 'unitDirective').map((d) => [d.unit, d.key, d.value])).toEqual([
      ['docker.service', 'ExecStart', '/usr/bin/dockerd'],
      ['docker.service', 'MountFlags', 'slave'],
    ]);
  });

  it('reads systemctl show (real 2019 output): MainPID and ExecMainStartTimestamp, unit named by Id', async () => {
    const text = 'Type=notify\nRestart=on-failure\nMainPID=24532\nExecMainStartTimestamp=Sun 2019-05-19 18:09:07 CST\nExecMainPID=24532\nId=docker.service\n';
    const props = only((await parseText('show.txt', text)).facts, 'unitProperty');
    expect(props.map((p) => [p.unit, p.key, p.value])).toEqual([
      ['docker.service', 'MainPID', '24532'],
      ['docker.service', 'ExecMainStartTimestamp', 'Sun 2019-05-19 18:09:07 CST'],
      ['docker.service', 'ExecMainPID', '24532'],
      ['docker.service', 'Id', 'docker.service'],
    ]);
  });
});

describe('host facts', () => {
  it('reads date -R, uname -r, ps with lstart, and the /etc/localtime symlink target', async () => {
    expect(only((await parseText('d', 'Wed, 08 Feb 2017 16:40:12 +0800\n')).facts, 'clock')[0]).toMatchObject({ utc: Date.UTC(2017, 1, 8, 8, 40, 12), offsetMinutes: 480 });
    expect(only((await parseText('k', '5.15.0-91-generic\n')).facts, 'kernel')[0].release).toBe('5.15.0-91-generic');
    const ps = only((await parseText('ps', '  PID  PPID                  STARTED COMMAND\n 8581     1 Fri Feb  3 14:02:11 2017 docker_monitor abc\n')).facts, 'process')[0];
    expect(ps).toMatchObject({ pid: 8581, ppid: 1, args: 'docker_monitor abc', started: { kind: 'local', year: 2017, month: 2, day: 3, hour: 14 } });
    expect(only((await parseText('etc/localtime', '../usr/share/zoneinfo/Asia/Shanghai')).facts, 'timezone')[0].zone).toBe('Asia/Shanghai');
  });

  it('reads ps by its header whatever the columns: ps aux (no parent), ps auxf (a tree), ps -eo with lstart in the middle', async () => {
    const aux = [
      'USER         PID %CPU %MEM    VSZ   RSS TTY      STAT START   TIME COMMAND',
      'root           2  0.0  0.0      0     0 ?        S    Oct11   0:00 [kthreadd]',
      'root        3100  0.2  0.9 812345 76543 ?        Ssl  Oct11  10:11 /usr/bin/cadvisor -logtostderr --docker_only',
      'root        9396  0.0  0.0 712000  9000 ?        Sl   13:41   0:00  \\_ /usr/bin/containerd-shim-runc-v2 -namespace moby',
      '65535       9415  0.0  0.0    972     4 ?        Ss   13:41   0:00      \\_ /pause',
    ].join('\n');
    const procs = only((await parseText('ps-aux.txt', `${aux}\n`)).facts, 'process');
    expect(procs.map((p) => [p.pid, p.ppid, p.args, p.started])).toEqual([
      [2, undefined, '[kthreadd]', undefined],
      [3100, undefined, '/usr/bin/cadvisor -logtostderr --docker_only', undefined], // START is too coarse for a start time
      [9396, undefined, '/usr/bin/containerd-shim-runc-v2 -namespace moby', undefined],
      [9415, undefined, '/pause', undefined],
    ]);
    const eo = only((await parseText('p.txt', '  PID USER      PPID                  STARTED COMM\n 8581 root         1 Fri Feb  3 14:02:11 2017 docker_monitor\n')).facts, 'process');
    expect(eo).toMatchObject([{ pid: 8581, ppid: 1, comm: 'docker_monitor', started: { kind: 'local', year: 2017, month: 2, day: 3, hour: 14, minute: 2, second: 11 } }]);
    // Not a ps header: a table that only looks like one is left to other parsers.
    expect(only((await parseText('t.txt', 'NAME PID COMMAND\nx 1 y\n')).facts, 'process')).toEqual([]);
  });

  it('does not take a shell error for a zone name', async () => {
    const r = await parseText('etc/timezone', 'cat: /etc/timezone: No such file or directory\n');
    expect(only(r.facts, 'timezone')).toHaveLength(0);
  });
});

describe('lsns -t net, the table', () => {
  // util-linux 2.39+ also lists a namespace only a mount holds: no processes, no PID, no command.
  const table = [
    '        NS TYPE NPROCS   PID USER     NETNSID NSFS                     COMMAND',
    '4026531840 net     210     1 root  unassigned                          /sbin/init splash',
    '4026532773 net       1 20633 65535          0 /run/netns/cni-3276e31b  ceph-mon --fsid=7d2a',
    '4026532777 net       0       root           1 /run/netns/cni-ghost     ',
  ].join('\n');

  it('reads each cell under its header, empty ones included', async () => {
    const { facts } = await parseText('lsns.txt', `${table}\n`);
    expect(only(facts, 'nsLink').map((f) => [f.pid, f.inode])).toEqual([[1, '4026531840'], [20633, '4026532773']]);
    expect(only(facts, 'process').map((f) => [f.pid, f.args])).toEqual([[1, '/sbin/init splash'], [20633, 'ceph-mon --fsid=7d2a']]);
    expect(only(facts, 'nsMount').map((f) => [f.path, f.inode, f.pid])).toEqual([['/run/netns/cni-3276e31b', '4026532773', 1], ['/run/netns/cni-ghost', '4026532777', 1]]);
  });

  it('reads NSFS from the mount namespace nsenter -m entered, as a table and as --json', async () => {
    const json = JSON.stringify({ namespaces: [{ ns: 4026532777, type: 'net', nprocs: 0, pid: null, command: null, nsfs: '/run/netns/cni-ghost' }] });
    for (const [cmd, out] of [['lsns -t net', table], ['lsns --json -t net', json]]) {
      const mounts = only((await parseText('s.log', `# nsenter -t 900 -m ${cmd}\n${out}\n`)).facts, 'nsMount').filter((m) => m.inode === '4026532777');
      expect(mounts.map((m) => [m.pid, m.path]), cmd).toEqual([[900, '/run/netns/cni-ghost']]);
    }
  });

  it('is enough, with ps, for netns-leaked to find the namespace only a mount holds', async () => {
    const { analyseHosts } = await import('../helpers.js');
    const a = await analyseHosts({ h: { 'lsns.txt': `# lsns -t net\n${table}\n`, 'ps.txt': 'USER PID %CPU %MEM VSZ RSS TTY STAT START TIME COMMAND\nroot 1 0 0 1 1 ? Ss Oct11 0:01 /sbin/init splash\n' } });
    const leaks = a.findings.filter((f) => f.rule === 'netns-leaked');
    expect(leaks.map((f) => f.netns[0].inode)).toEqual(['4026532777']);
    expect(leaks[0].pinnedBy).toMatchObject([{ kind: 'mount', path: '/run/netns/cni-ghost' }]);
  });
});

describe('findmnt', () => {
  it('reads each network namespace mount by its inode, flat or drawn as a tree, and nothing else', async () => {
    const text = ['TARGET                        SOURCE                 FSTYPE OPTIONS', '/run/netns                    tmpfs[/netns]          tmpfs  rw', '├─/run/netns/cni-a           nsfs[net:[4026532773]] nsfs   rw', '└─/run/netns/blue\\x20x       nsfs[net:[4026532901]] nsfs   rw', '/run/snapd/ns/lxd.mnt         nsfs[mnt:[4026532222]] nsfs   rw'].join('\n');
    const mounts = only((await parseText('findmnt.txt', text)).facts, 'nsMount').map((m) => [m.path, m.inode, m.pid, m.ev.line]);
    expect(mounts).toEqual([['/run/netns/cni-a', '4026532773', 1, 3], ['/run/netns/blue x', '4026532901', 1, 4]]);
    const entered = only((await parseText('s.log', `# nsenter -t 900 -m -- findmnt -t nsfs\n${text}`)).facts, 'nsMount');
    expect(entered.map((m) => m.pid)).toEqual([900, 900]); // pid 900's mount table, not the host's
    const mount = only((await parseText('m.log', '# nsenter -t 900 -m mount\nnsfs on /run/netns/blue type nsfs (rw)\n')).facts, 'nsMount');
    expect(mount.map((m) => [m.pid, m.path])).toEqual([[900, '/run/netns/blue']]); // `mount` too
  });
});

describe('ip -all netns exec', () => {
  const output = [
    '',
    'netns: cni-3276e31b',
    '1: lo: <LOOPBACK,UP,LOWER_UP> mtu 65536 qdisc noqueue state UNKNOWN group default qlen 1000',
    '    inet 127.0.0.1/8 scope host lo',
    '3: eth0@if27: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1450 qdisc noqueue state UP group default',
    '    inet 10.244.1.37/24 scope global eth0',
    '',
    'netns: blue',
    '5: eth0@if41: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1450 qdisc noqueue state UP group default',
    '    inet 10.244.1.52/24 scope global eth0',
  ];
  const views = (facts: Awaited<ReturnType<typeof parseText>>['facts']) => only(facts, 'netnsView').map((v) => [v.where, v.links.flatMap((l) => l.addrs.map((a) => a.ip)), v.ev.line]);
  const expected = (offset: number) => [
    [{ kind: 'path', path: '/run/netns/cni-3276e31b' }, ['127.0.0.1', '10.244.1.37'], 3 + offset],
    [{ kind: 'path', path: '/run/netns/blue' }, ['10.244.1.52'], 9 + offset],
  ];

  it('gives each part of the output to the named namespace it is headed with, in a transcript and in a file of its own', async () => {
    expect(commandContext('sudo ip -all netns exec ip -d addr')).toMatchObject({ inner: 'ip -d addr', eachNetns: true, netns: undefined });
    expect(views((await parseText('session.log', ['# ip -all netns exec ip -d addr', ...output].join('\n'))).facts)).toEqual(expected(1));
    expect(views((await parseText('all-netns.txt', output.join('\n'))).facts)).toEqual(expected(0));
  });

  it('does not give the host what comes before the first heading', async () => {
    const text = ['# ip -all netns exec ip -d addr', ...output.slice(2, 6), ...output.slice(6)].join('\n');
    expect(views((await parseText('session.log', text)).facts)).toEqual([expected(-1)[1]]);
  });
});

describe('terminal transcripts', () => {
  it('reads what each command line says about where its output comes from', () => {
    expect(commandContext('nsenter -t 8581 -m nsenter --net=/var/run/docker/netns/cf51d21b4b4e ip ad').netns).toEqual({ kind: 'path', path: '/run/docker/netns/cf51d21b4b4e', viaPid: 8581 });
    expect(commandContext('nsenter --net=/proc/4242/fd/7 ip addr').netns).toEqual({ kind: 'fd', pid: 4242, fd: 7 });
    expect(commandContext('nsenter --net=/proc/8581/root/var/run/docker/netns/cf51d21b4b4e ip -d addr').netns).toEqual({ kind: 'path', path: '/run/docker/netns/cf51d21b4b4e', viaPid: 8581 });
    expect(commandContext('sudo nsenter -t 23117 -n ip -d addr').netns).toEqual({ kind: 'pid', pid: 23117 });
    expect(commandContext('ip netns exec fx-demo ip addr').netns).toEqual({ kind: 'path', path: '/run/netns/fx-demo', viaPid: undefined });
    expect(commandContext('ip -n blue addr').netns).toEqual({ kind: 'path', path: '/run/netns/blue', viaPid: undefined });
    expect(commandContext('cat /proc/8581/mountinfo').pathHint).toBe('proc/8581/mountinfo');
  });

  it('reads docker, podman, nerdctl, crictl and kubectl exec as running inside a container', () => {
    const inside = (cmd: string) => {
      const c = commandContext(cmd);
      return [c.netns?.kind === 'container' ? `${c.netns.via} ${c.netns.ref}` : c.netns?.kind, c.inner, c.pathHint];
    };
    expect(inside('docker exec -it web ip addr')).toEqual(['docker exec web', 'ip addr', undefined]);
    expect(inside('sudo podman exec -u root -e A=1 --workdir=/ 5c1f0a ip -d a')).toEqual(['podman exec 5c1f0a', 'ip -d a', undefined]);
    expect(inside('docker container exec api cat /proc/1/mountinfo')).toEqual(['docker exec api', 'cat /proc/1/mountinfo', undefined]); // the container's pid 1
    expect(inside('crictl exec -it 6ea9c1390e36 ip addr')).toEqual(['crictl exec 6ea9c1390e36', 'ip addr', undefined]);
    expect(inside('kubectl exec -it -n kube-system pod/coredns-5d78c9869d-x7k2p -c coredns -- ip addr')).toEqual(['kubectl exec coredns-5d78c9869d-x7k2p', 'ip addr', undefined]);
    expect(inside('kubectl exec web-0 ip a')).toEqual(['kubectl exec web-0', 'ip a', undefined]);
    // The tool's own options before exec.
    expect(inside('kubectl -n shop exec web-0 -- ip addr')).toEqual(['kubectl exec web-0', 'ip addr', undefined]);
    expect(inside('nerdctl -n k8s.io exec 6ea9c1390e36 ip -d addr')).toEqual(['nerdctl exec 6ea9c1390e36', 'ip -d addr', undefined]);
    expect(inside('crictl -r unix:///run/containerd/containerd.sock exec -it 6ea9c1390e36 ip addr')).toEqual(['crictl exec 6ea9c1390e36', 'ip addr', undefined]);
    expect(inside('kubectl --context=prod get pods')).toEqual([undefined, 'kubectl --context=prod get pods', undefined]);
    expect(inside('docker exec -it web')).toEqual([undefined, 'docker exec -it web', undefined]); // no command: not an exec of anything
    expect(inside('docker ps -a')).toEqual([undefined, 'docker ps -a', undefined]);
  });

  it('takes a view from inside a container as its namespace, and nothing else from inside one', async () => {
    const sandbox = 'a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6e7f8a9b0c1d2e3f4a5b6c7d8e9f0a1b2';
    const member = 'f0e1d2c3b4a5968778695a4b3c2d1e0ff0e1d2c3b4a5968778695a4b3c2d1e0f';
    const inspect = JSON.stringify([
      { Id: sandbox, Name: '/k8s_POD_web-0_demo_u1_0', State: { Status: 'running', Running: true, Pid: 4100 }, HostConfig: { NetworkMode: 'default' }, NetworkSettings: { SandboxKey: '/var/run/docker/netns/0a1b2c3d4e5f' }, Config: { Labels: { 'io.kubernetes.pod.name': 'web-0', 'io.kubernetes.pod.namespace': 'demo', 'io.kubernetes.docker.type': 'podsandbox' } } },
      { Id: member, Name: '/k8s_web_web-0_demo_u1_0', State: { Status: 'running', Running: true, Pid: 4200 }, HostConfig: { NetworkMode: `container:${sandbox}` }, Config: { Labels: { 'io.kubernetes.pod.name': 'web-0', 'io.kubernetes.pod.namespace': 'demo', 'io.kubernetes.docker.type': 'container', 'io.kubernetes.sandbox.id': sandbox } } },
    ]);
    const ipAddr = (ip: string) => ['1: lo: <LOOPBACK,UP,LOWER_UP> mtu 65536 qdisc noqueue state UNKNOWN group default qlen 1000', '    inet 127.0.0.1/8 scope host lo', '3: eth0@if9: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc noqueue state UP group default', `    inet ${ip}/24 brd 10.244.1.255 scope global eth0`];
    const session = [
      '[root@node-7 ~]# docker exec -it k8s_web_web-0_demo_u1_0 ip addr',
      ...ipAddr('10.244.1.9'),
      '[root@node-7 ~]# docker exec ghost ip addr',
      ...ipAddr('10.244.1.77'),
      '[root@node-7 ~]# docker exec -it k8s_web_web-0_demo_u1_0 ps aux',
      'USER       PID %CPU %MEM    VSZ   RSS TTY      STAT START   TIME COMMAND',
      'root         1  0.0  0.1   8788  4412 ?        Ss   09:12   0:00 nginx: master process nginx -g daemon off;',
      '[root@node-7 ~]# ip addr',
      '1: lo: <LOOPBACK,UP,LOWER_UP> mtu 65536 qdisc noqueue state UNKNOWN group default qlen 1000',
      '    inet 127.0.0.1/8 scope host lo',
      '2: ens3: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc mq state UP group default qlen 1000',
      '    inet 192.168.7.10/24 brd 192.168.7.255 scope global ens3',
    ].join('\n');
    const a = await analyseHosts({ 'node-7': { 'inspect.json': inspect, 'session.log': session, 'proc/4100/ns/net': link('net:[4026532300]'), 'proc/4200/ns/net': link('net:[4026532300]'), 'proc/1/ns/net': link('net:[4026531992]') } });
    const host = a.hosts[0];
    const viewsOf = (key: string) => host.netns.get(key)?.views.flatMap((v) => v.links.flatMap((l) => l.addrs.map((x) => x.ip))) ?? [];
    expect(viewsOf('4026532300')).toEqual(['127.0.0.1', '10.244.1.9']); // the pod's namespace, through its sandbox
    expect(host.netns.get('4026532300')!.views[0].how).toBe('docker exec into container f0e1d2c3b4a5 (k8s_web_web-0_demo_u1_0)');
    expect(viewsOf('4026531992')).toEqual(['127.0.0.1', '192.168.7.10']); // the host's own, untouched
    expect(viewsOf('container:ghost')).toEqual(['127.0.0.1', '10.244.1.77']);
    expect(a.diagnostics.filter((d) => d.message.includes('ran inside container')).map((d) => d.message)).toEqual([
      '`docker exec -it k8s_web_web-0_demo_u1_0 ps aux` ran inside container k8s_web_web-0_demo_u1_0: only network views (ip addr) are read from inside a container; its ps output describes the container, not the host, and is not read',
    ]);
    expect(host.processes.get(1)?.args).toBeUndefined(); // the container's pid 1 (nginx) is not the host's
    expect(a.findings.filter((f) => f.rule === 'ip-conflict')).toEqual([]);
  });

  it('knows a command whose output went to a file, and ends a block at any user@host prompt', async () => {
    const cases: [string, boolean][] = [
      ['podman inspect $(podman ps -aq) > podman-inspect.json', true],
      ['ps aux >> /tmp/ps.txt', true],
      ['echo a &> /dev/null', true],
      ['cat a>b', true],
      ['journalctl -u kubelet 2>/dev/null', false],
      ['ip addr 2>&1', false],
      ['echo oops >&2', false],
      ["awk '$9 > 3' /proc/1/mountinfo", false],
      ['grep nsfs /proc/*/mountinfo | tee out.txt', false],
    ];
    expect(cases.map(([c]) => [c, toFile(c)])).toEqual(cases);
    const session = [
      '[root@db-edge-03 ~]# docker inspect $(docker ps -aq) > inspect.json',
      '[root@db-edge-03 ~]# exit',
      'logout',
      'ubuntu@node-3:~$ vi notes.txt',
      '[{"Id": "not from any command"}]',
    ].join('\n');
    const r = await parseText('session.log', session);
    expect(r.diagnostics).toEqual([]); // neither the prompt after the redirect nor the editor's text is read as docker inspect
    expect(only(r.facts, 'container')).toEqual([]);
  });

  it('does not read a templated docker inspect as JSON, but does read {{json .}}', async () => {
    const templ = await parseText('s.log', "# docker inspect -f '{{.State.Pid}}' k8s_POD_x\n23117\n");
    expect(templ.diagnostics).toEqual([]);
    const json = await parseText('s.log', `# docker inspect --format '{{json .}}' web\n{"Id":"${'c'.repeat(64)}","State":{"Status":"exited"}}\n`);
    expect(only(json.facts, 'container')[0].container.state).toBe('exited');
  });

  it('splits a pasted session on every prompt style and parses each block by its command', async () => {
    const text = [
      '[root@node-a ~]# date -R',
      'Wed, 08 Feb 2017 16:40:12 +0800',
      'root@node-a:~# cat /proc/8581/mountinfo',
      '201 124 0:3 net:[4026532350] /run/docker/netns/cf51d21b4b4e rw - nsfs nsfs rw',
      '# nsenter -t 8581 -m nsenter --net=/var/run/docker/netns/cf51d21b4b4e ip ad',
      '4032: eth0@if4033: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc noqueue state UP',
      '    inet 10.2.1.15/24 scope global eth0',
      '$ nsenter --net=/proc/4242/fd/7 ip -j addr',
      '[{"ifindex":2,"ifname":"eth0","flags":["UP"],"addr_info":[{"family":"inet","local":"10.9.9.9","prefixlen":24,"scope":"global"}]}]',
      '# this is a comment, not a prompt',
    ].join('\n');
    const { facts, parsers } = await parseText('session.log', text);
    expect(parsers.sort()).toEqual(['date-r', 'ip-addr', 'ip-addr-json', 'mountinfo', 'transcript']);
    expect(only(facts, 'nsMount')[0]).toMatchObject({ pid: 8581, inode: '4026532350', ev: { line: 4 } });
    const views = only(facts, 'netnsView');
    expect(views.map((v) => v.where)).toEqual([
      { kind: 'path', path: '/run/docker/netns/cf51d21b4b4e', viaPid: 8581 },
      { kind: 'fd', pid: 4242, fd: 7 },
    ]);
    expect(views[0].links[0].addrs[0].ev.line).toBe(7);
    expect(only(facts, 'hostname').map((h) => [h.name, h.fromPrompt])).toEqual([['node-a', true], ['node-a', true]]);
  });

  it('reads the prompts of alpine and busybox shells, as in `kubectl debug node` sessions pasted into AKS and EKS tickets', async () => {
    const text = [
      'aks-nodepool1-59385832-vmss000000:/# cat /proc/8581/mountinfo',
      '201 124 0:3 net:[4026532350] /run/netns/cni-24740290-ae7f-ca68-274b-8f3259a70896 rw - nsfs nsfs rw',
      '/ # chroot /host',
      '/host # nsenter --net=/proc/4242/fd/7 ip -j addr',
      '[{"ifindex":2,"ifname":"eth0","flags":["UP"],"addr_info":[{"family":"inet","local":"10.224.0.39","prefixlen":16,"scope":"global"}]}]',
      'time:12# not a prompt, and not a command either',
    ].join('\n');
    const { facts, parsers } = await parseText('aks-debug.txt', text);
    expect(parsers.sort()).toEqual(['ip-addr-json', 'mountinfo', 'transcript']);
    expect(only(facts, 'nsMount')[0]).toMatchObject({ pid: 8581, inode: '4026532350', ev: { line: 2 } });
    expect(only(facts, 'netnsView')[0].where).toEqual({ kind: 'fd', pid: 4242, fd: 7 });
    expect(only(facts, 'hostname').map((h) => h.name)).toEqual(['aks-nodepool1-59385832-vmss000000']);
  });
});

describe('CNI fast paths agree with the slow ones', () => {
  it('scanResultIps gives what JSON.parse gives, for every spec version', async () => {
    const { scanResultIps, resultIps, cniArg } = await import('../../parsers/cni-glog.js');
    for (const r of [
      '{"ip4":{"ip":"10.2.1.15/24","gateway":"10.2.1.1","routes":[{"dst":"0.0.0.0/0"}]},"dns":{}}',
      '{"cniVersion":"0.3.1","interfaces":[{"name":"eth0","mac":"aa:bb","sandbox":"/var/run/netns/x"}],"ips":[{"version":"4","address":"10.244.1.4/24","gateway":"10.244.1.1","interface":0},{"version":"6","address":"fd00::4/64"}]}',
      '{"cniVersion":"1.0.0","ips":[{"address":"10.1.0.5/16","gateway":"10.1.0.1","interface":2}]}',
      '{"ip4":{"ip":"10.9.9.9/32"},"ip6":{"ip":"fd00::9/128"}}',
    ])
      expect(scanResultIps(r)).toEqual(resultIps(JSON.parse(r)));
    expect(scanResultIps('{"ip":"not-an-ip"}')).toBeUndefined();
    expect(cniArg('IgnoreUnknown=1;K8S_POD_NAMESPACE=demo;K8S_POD_NAME=web-1 ;', 'K8S_POD_NAME')).toBe('web-1');
    expect(cniArg('X_K8S_POD_NAME=no;K8S_POD_NAME=yes', 'K8S_POD_NAME')).toBe('yes');
    expect(cniArg('K8S_POD_NAMESPACE=demo', 'K8S_POD_NAME')).toBeUndefined();
  });
});

describe('ip -br addr', () => {
  it('reads each link, its peer index and its addresses, with the scope ip would print; a MAC is not an address', async () => {
    const text = [
      '# nsenter -t 5280 -n ip -br addr',
      'lo               UNKNOWN        127.0.0.1/8 ::1/128',
      'eth0@if10        UP             10.224.0.39/16 fe80::fc86:5dff:fe18:989/64',
      '# ip -br link',
      'lo               UNKNOWN        00:00:00:00:00:00 <LOOPBACK,UP,LOWER_UP>',
      'azvc440f455693@if9 UP           aa:aa:aa:aa:aa:aa <BROADCAST,MULTICAST,UP,LOWER_UP>',
    ].join('\n');
    const views = only((await parseText('session.txt', `${text}\n`)).facts, 'netnsView');
    expect(views.map((v) => v.where)).toEqual([{ kind: 'pid', pid: 5280 }, { kind: 'host' }]);
    expect(views[0].links.map((l) => [l.name, l.ifindex, l.peerIfindex, l.flags, l.addrs.map((a) => `${a.ip}/${a.prefix} ${a.scope}`)])).toEqual([
      ['lo', 0, undefined, ['UP'], ['127.0.0.1/8 host', '::1/128 host']],
      ['eth0', 0, 10, ['UP', 'LOWER_UP'], ['10.224.0.39/16 global', 'fe80::fc86:5dff:fe18:989/64 link']],
    ]);
    expect(views[0].links[1].addrs[0].ev.line).toBe(3);
    expect(views[1].links.map((l) => [l.name, l.peerIfindex, l.addrs.length])).toEqual([['lo', undefined, 0], ['azvc440f455693', 9, 0]]);
  });

  it('is recognised on its own, as a loose file', async () => {
    const { facts, parsers } = await parseText('ip-br-a.txt', 'lo               UNKNOWN        127.0.0.1/8 ::1/128\neth0             UP             10.224.0.33/16 metric 100 fe80::7e1e:52ff:fe3f:a782/64\n');
    expect(parsers).toEqual(['ip-addr']);
    expect(only(facts, 'netnsView')[0].links[1].addrs.map((a) => a.ip)).toEqual(['10.224.0.33', 'fe80::7e1e:52ff:fe3f:a782']);
  });
});

describe('neighbour tables', () => {
  it('reads ip neigh (states, router, FAILED without a MAC, IPv6) and arp -an, in the namespace they were taken in', async () => {
    const text = [
      '# ip neigh',
      '10.88.0.7 dev podman0 lladdr BA:41:7F:02:E9:C6 STALE',
      '192.168.7.1 dev ens3 lladdr 52:54:00:12:35:02 router DELAY',
      '10.2.1.99 dev eth0  FAILED',
      'fe80::1 dev ens3 lladdr 52:54:00:12:35:02 router STALE',
      '# nsenter --net=/run/netns/blue arp -an',
      '? (10.77.0.1) at 0a:58:0a:4d:00:01 [ether] on eth0',
      '? (10.77.0.9) at <incomplete> on eth0',
    ].join('\n');
    const { facts, parsers } = await parseText('session.log', text);
    expect(parsers).toEqual(['transcript', 'ip-neigh']);
    expect(only(facts, 'neighbor').map((n) => [n.ip, n.mac, n.dev, n.state, n.where.kind === 'path' ? n.where.path : n.where.kind])).toEqual([
      ['10.88.0.7', 'ba:41:7f:02:e9:c6', 'podman0', 'STALE', 'host'],
      ['192.168.7.1', '52:54:00:12:35:02', 'ens3', 'DELAY', 'host'],
      ['10.2.1.99', undefined, 'eth0', 'FAILED', 'host'],
      ['fe80::1', '52:54:00:12:35:02', 'ens3', 'STALE', 'host'],
      ['10.77.0.1', '0a:58:0a:4d:00:01', 'eth0', undefined, '/run/netns/blue'],
      ['10.77.0.9', undefined, 'eth0', 'INCOMPLETE', '/run/netns/blue'],
    ]);
    // The collector's layout: netns/<inode>/ip-neigh.txt is that namespace's table.
    const filed = await parseText('netns/4026532300/ip-neigh.txt', '10.88.0.1 dev eth0 lladdr 8e:f1:27:60:3b:0d REACHABLE\n');
    expect(only(filed.facts, 'neighbor')[0].where).toEqual({ kind: 'inode', inode: '4026532300' });
  });

  it('lets ip-conflict say which copy answered last, by the MAC a neighbour table holds', async () => {
    const a = await analyse([new URL('../../samples/podman-firewalld-reload/db-edge-03-case04417', import.meta.url).pathname]);
    const [f] = a.findings.filter((x) => x.rule === 'ip-conflict');
    expect(f.detail).toContain('The neighbour table of db-edge-03.corp.example maps 10.88.0.7 to ba:41:7f:02:e9:c6 (podman0, STALE), the MAC of eth0 in net:[4026532701] at /run/netns/netns-9b3e1d70-44a2-c8f5-0e6d-7a1c2b9f5e48 on db-edge-03.corp.example: its traffic for the address goes to the leaked copy.');
    expect(f.evidence.map((e) => e.text)).toContain('10.88.0.7 dev podman0 lladdr ba:41:7f:02:e9:c6 STALE');
    const [leak] = a.findings.filter((x) => x.rule === 'netns-leaked');
    expect(leak.detail).toContain('It still answers ARP: the neighbour table of db-edge-03.corp.example maps 10.88.0.7 to ba:41:7f:02:e9:c6, its eth0.');
  });
});
