import { describe, expect, it } from 'vitest';
import { type Finding, teardownCause } from '../../src/engine/rule.js';
import { analyseHosts, link } from '../helpers.js';
import { cniLine, hostTree, ID, inspect, ipAddr, nsfs } from './fixture.js';

const byRule = (fs: Finding[], rule: string) => fs.filter((f) => f.rule === rule);

// A host where pid 1 is in the host namespaces and a daemon runs in mount namespace D.
const base = [
  { pid: 1, ppid: 0, comm: 'systemd', net: '4026531840', mnt: '4026531841', mountinfo: [nsfs('4026531840', '/run/docker/netns/default', 'shared:2')] },
  { pid: 900, comm: 'dockerd', args: '/usr/bin/dockerd -H fd://', started: 'Mon Feb  6 15:40:22 2017', net: '4026531840', mnt: '4026531841' },
];

describe('netns-leaked', () => {
  it('fires for a namespace held only by a private mount-namespace copy, naming every pid of it oldest first', async () => {
    const a = await analyseHosts({
      'node-a': hostTree([
        ...base,
        { pid: 51, comm: 'helper', started: 'Sat Feb  4 10:00:00 2017', net: '4026531840', mnt: '4026532201', mountinfo: [nsfs('4026532777', '/run/docker/netns/0123456789ab')] },
        { pid: 50, comm: 'helper', started: 'Fri Feb  3 10:00:00 2017', net: '4026531840', mnt: '4026532201' },
      ], { 'views.txt': ipAddr('nsenter -t 50 -m nsenter --net=/var/run/docker/netns/0123456789ab ip addr', 'eth0@if12', '10.9.0.5/24') }),
    });
    const [f] = byRule(a.findings, 'netns-leaked');
    expect(f).toMatchObject({ severity: 'error', ips: ['10.9.0.5'], netns: [{ inode: '4026532777', paths: ['/run/docker/netns/0123456789ab'] }] });
    expect(f.pinnedBy.map((p) => [p.kind, p.pid, p.mntns, p.path])).toEqual([
      ['mount', 50, 'mnt:[4026532201]', '/run/docker/netns/0123456789ab'],
      ['mount', 51, 'mnt:[4026532201]', '/run/docker/netns/0123456789ab'],
    ]);
    expect(f.remediation).toContain('nsenter -t 50 -m umount /run/docker/netns/0123456789ab   # releases the copy held by mnt:[4026532201]');
    expect(f.evidence.map((e) => e.source)).toContain('node-a/proc/51/mountinfo');
  });

  it('fires for a namespace held only by an open fd, naming the process and fd', async () => {
    const a = await analyseHosts({ h: hostTree([...base, { pid: 4242, comm: 'holder', args: 'sleep infinity', net: '4026531840', mnt: '4026531841', fds: { 7: 'net:[4026532900]', 3: '/dev/null' } }]) });
    const [f] = byRule(a.findings, 'netns-leaked');
    expect(f.pinnedBy).toMatchObject([{ kind: 'fd', pid: 4242, fd: 7, command: 'sleep infinity' }]);
    expect(f.remediation.join('\n')).toMatch(/ls -l \/proc\/4242\/fd\/7 .*restart/);
  });

  it('does not fire for namespaces with a member process, nor for the host namespace mounted at default', async () => {
    const a = await analyseHosts({
      h: hostTree([...base, { pid: 70, comm: 'pause', net: '4026532500', mnt: '4026532499', mountinfo: [] }], {
        'proc/900/mountinfo': `${nsfs('4026532500', '/run/docker/netns/aaaaaaaaaaaa', 'shared:9')}\n${nsfs('4026531840', '/run/docker/netns/default')}\n`,
      }),
    });
    expect(byRule(a.findings, 'netns-leaked')).toEqual([]);
  });

  it('is skipped, with the reason, when the bundle has no /proc/<pid>/ns/net links', async () => {
    const a = await analyseHosts({ h: { 'proc/5/mountinfo': `${nsfs('4026532777', '/run/netns/x')}\n` } });
    expect(byRule(a.findings, 'netns-leaked')).toEqual([]);
    expect(a.skipped).toContainEqual(expect.objectContaining({ rule: 'netns-leaked', reason: expect.stringContaining('/proc/<pid>/ns/net') }));
  });

  describe('a bundle with ns/net links for some processes only', () => {
    // The daemon's table mounts two sandboxes' namespaces; the runtime says both run. Only the second pause
    // process's link was gathered, and it points elsewhere: that sandbox's process really is not in its namespace.
    const mounts = `${nsfs('4026532610', '/run/docker/netns/aaaaaaaaaaaa', 'shared:9')}\n${nsfs('4026532620', '/run/docker/netns/bbbbbbbbbbbb', 'shared:10')}\n`;
    const tree = (state: string, withLink: boolean) =>
      hostTree([...base, { pid: 81, comm: 'pause', ...(withLink ? { net: '4026532699', mnt: '4026532499' } : {}) }, { pid: 82, comm: 'pause', net: '4026532699', mnt: '4026532498' }], {
        'proc/900/mountinfo': mounts,
        'inspect.json': JSON.stringify([
          inspect({ id: ID('a'), state, pid: 81, sandboxKey: '/var/run/docker/netns/aaaaaaaaaaaa', pod: 'web', ip: '10.9.0.21' }),
          inspect({ id: ID('b'), state: 'running', pid: 82, sandboxKey: '/var/run/docker/netns/bbbbbbbbbbbb', pod: 'api', ip: '10.9.0.22' }),
        ]),
      });

    it("does not call a running container's namespace leaked when its process's link is missing; one note says so", async () => {
      const a = await analyseHosts({ h: tree('running', false) });
      const leaks = byRule(a.findings, 'netns-leaked');
      expect(leaks.map((f) => f.netns[0].inode)).toEqual(['4026532620']);
      // ps lists pid 81 without its link: the one leak found says it could be inside, and how to check.
      expect(leaks[0].detail).toMatch(/^None of the 3 processes whose network namespace the bundle shows is in net:\[4026532620\] at \/run\/docker\/netns\/bbbbbbbbbbbb \(1 more process has no \/proc\/<pid>\/ns\/net link in the bundle: if one is inside, it has not leaked; `ls -l \/proc\/\*\/ns\/net \| grep 4026532620` tells\)/);
      expect(a.diagnostics.filter((d) => d.level === 'warning')).toEqual([
        expect.objectContaining({ source: 'h', message: expect.stringMatching(/^a network namespace has no process seen inside, yet a running container owns it, so whether it leaked is unknown \(net:\[4026532610\]: container aaaaaaaaaaaa owns it and is running, but \/proc\/81\/ns\/net is not in the bundle\)\. Collect `ls -l \/proc\/\*\/ns\/net` as root/) }),
      ]);
    });

    it('does not count kernel threads of a ps without parents (ps aux) among the processes with no link', async () => {
      const a = await analyseHosts({
        h: {
          ...hostTree([...base, { pid: 81, comm: 'pause', net: '4026532699', mnt: '4026532499' }]),
          'ps.txt': ['USER PID %CPU %MEM VSZ RSS TTY STAT START TIME COMMAND', 'root 1 0.0 0.1 1 1 ? Ss Oct11 0:42 /sbin/init', 'root 2 0.0 0.0 0 0 ? S Oct11 0:00 [kthreadd]', 'root 3 0.0 0.0 0 0 ? I< Oct11 0:00 [rcu_gp]', 'root 900 0.0 0.0 1 1 ? Ssl Oct11 0:00 /usr/bin/dockerd -H fd://', 'root 81 0.0 0.0 1 1 ? Ss Oct11 0:00 /pause'].join('\n'),
          'proc/900/mountinfo': mounts,
        },
      });
      const leaks = byRule(a.findings, 'netns-leaked');
      expect(leaks.length).toBe(2);
      expect(leaks[0].detail).toMatch(/^None of the 3 processes whose network namespace the bundle shows is in net:\[\d+\] at [^ ]+, yet it exists/);
    });

    it("still fires when the link is there and points elsewhere, or when the owner is not running", async () => {
      const linked = await analyseHosts({ h: tree('running', true) });
      expect(byRule(linked.findings, 'netns-leaked').map((f) => f.netns[0].inode)).toEqual(['4026532610', '4026532620']);
      const exited = await analyseHosts({ h: tree('exited', false) });
      expect(byRule(exited.findings, 'netns-leaked').map((f) => f.netns[0].inode)).toEqual(['4026532610', '4026532620']);
      expect(exited.diagnostics.filter((d) => d.message.includes('whether it leaked is unknown'))).toEqual([]);
    });
  });

  it('finds the pin in findmnt -t nsfs output when the bundle has no mount tables, and what is inside in ip -all netns exec', async () => {
    const a = await analyseHosts({
      h: hostTree([...base, { pid: 70, comm: 'pause', net: '4026532500', mnt: '4026532499' }], {
        'findmnt.txt': ['TARGET                      SOURCE                 FSTYPE OPTIONS', '/run/netns/cni-live        nsfs[net:[4026532500]] nsfs   rw', '/run/netns/cni-ghost       nsfs[net:[4026532777]] nsfs   rw', '/run/snapd/ns/lxd.mnt      nsfs[mnt:[4026532222]] nsfs   rw'].join('\n'),
        'all-netns.txt': ['# ip -all netns exec ip -d addr', '', 'netns: cni-ghost', '3: eth0@if12: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1450 qdisc noqueue state UP', '    inet 10.9.0.77/24 scope global eth0'].join('\n'),
      }),
    });
    expect(a.skipped.filter((s) => s.rule === 'netns-leaked')).toEqual([]);
    const leaks = byRule(a.findings, 'netns-leaked');
    expect(leaks.map((f) => [f.netns[0].inode, f.ips])).toEqual([['4026532777', ['10.9.0.77']]]);
    expect(leaks[0].pinnedBy).toMatchObject([{ kind: 'mount', pid: 1, path: '/run/netns/cni-ghost', mntns: 'mnt:[4026531841]' }]);
    expect(leaks[0].evidence.map((e) => e.source)).toEqual(expect.arrayContaining(['h/findmnt.txt', 'h/all-netns.txt']));
  });

  describe('before kernel 3.19 (procfs mounts without an inode)', () => {
    const oldMount = (id: string) => `201 124 0:3 / /run/docker/netns/${id} rw,nosuid,nodev,noexec,relatime - proc proc rw`;
    const procs = [...base, { pid: 70, comm: 'pause', net: '4026532500', mnt: '4026532499' }, { pid: 71, comm: 'monitor', net: '4026531840', mnt: '4026532201', mountinfo: [oldMount('aaaaaaaaaaaa'), oldMount('bbbbbbbbbbbb'), oldMount('cccccccccccc')] }];
    const containers = [
      inspect({ id: ID('a'), state: 'running', pid: 70, sandboxKey: '/var/run/docker/netns/aaaaaaaaaaaa', pod: 'live' }),
      inspect({ id: ID('b'), state: 'dead', sandboxKey: '/var/run/docker/netns/bbbbbbbbbbbb', pod: 'gone' }),
    ];
    it('joins a running container\'s mount to its live namespace, reports the dead one\'s, and stays silent on an unowned one', async () => {
      const a = await analyseHosts({ h: hostTree(procs, { 'inspect.json': JSON.stringify(containers) }) });
      const leaks = byRule(a.findings, 'netns-leaked');
      expect(leaks.map((f) => f.netns)).toEqual([[{ inode: undefined, paths: ['/run/docker/netns/bbbbbbbbbbbb'] }]]);
      expect(leaks[0].containers).toMatchObject([{ id: ID('b'), state: 'dead', pod: 'demo/gone' }]);
    });
  });
});

describe('who owns a namespace, when an IP was given again while its old namespace lived on', () => {
  it('joins each sandbox to the namespace its CNI ADD named, also when an agent sees that path under /host', async () => {
    const OLD = ID('a');
    const NEW = ID('b');
    const a = await analyseHosts({
      h: hostTree([...base, { pid: 81, comm: 'pause', net: '4026533011', mnt: '4026533020' }, { pid: 90, comm: 'agent', net: '4026531840', mnt: '4026532650', mountinfo: [nsfs('4026532890', '/host/run/netns/cni-old'), nsfs('4026533011', '/host/run/netns/cni-new')] }], {
        'proc/1/mountinfo': `${nsfs('4026533011', '/run/netns/cni-new', 'shared:5')}\n`,
        // New first: by IP alone, the old sandbox would have been given the first namespace with the address.
        'views.txt': [
          ipAddr('nsenter -t 90 -m nsenter --net=/host/run/netns/cni-new ip addr', 'eth0@if21', '10.9.0.9/32'),
          ipAddr('nsenter -t 90 -m nsenter --net=/host/run/netns/cni-old ip addr', 'eth0@if17', '10.9.0.9/32'),
        ].join('\n'),
        'cni.log': [
          cniLine('ADD', '0514 08:11:02.131000', OLD, 'old', '10.9.0.9', '<nil>', '/var/run/netns/cni-old'),
          cniLine('DEL', '0516 09:30:00.112000', OLD, 'old', undefined, 'rpc error: connection refused', '/var/run/netns/cni-old'),
          cniLine('ADD', '0516 09:42:17.549000', NEW, 'new', '10.9.0.9', '<nil>', '/var/run/netns/cni-new'),
        ].join('\n'),
        'inspect.json': JSON.stringify([inspect({ id: OLD, state: 'exited', pod: 'old' }), inspect({ id: NEW, state: 'running', pod: 'new' })]), // the new one without a pid, as crictl pods or docker ps give it
      }),
    }, { year: 2017 });
    const [leak] = byRule(a.findings, 'netns-leaked');
    expect(leak.netns[0].inode).toBe('4026532890');
    expect(leak.containers.map((c) => c.id)).toEqual([OLD]);
    expect(byRule(a.findings, 'sandbox-netns-not-closed').map((f) => [f.containers[0].id, f.netns[0]?.inode])).toEqual([[OLD, '4026532890']]);
  });
});

describe('ip-conflict', () => {
  it('fires for one IP live in two namespaces of one host', async () => {
    const a = await analyseHosts({
      h: hostTree([...base, { pid: 70, net: '4026532500', mnt: '4026531841' }, { pid: 80, net: '4026532600', mnt: '4026531841' }], {
        'a.txt': ipAddr('nsenter -t 70 -n ip addr', 'eth0@if5', '10.244.1.9/24'),
        'b.txt': ipAddr('nsenter -t 80 -n ip addr', 'eth0@if7', '10.244.1.9/24'),
      }),
    });
    expect(byRule(a.findings, 'ip-conflict')).toMatchObject([{ severity: 'error', ips: ['10.244.1.9'], netns: [{ inode: '4026532500' }, { inode: '4026532600' }] }]);
  });

  it('fires across hosts for a pod IP, but not for docker0 addresses that every host repeats', async () => {
    const host = (pid: number, cidr: string, cni: boolean) =>
      hostTree([...base, { pid, net: '4026532500', mnt: '4026531841' }], {
        'views.txt': ipAddr(`nsenter -t ${pid} -n ip addr`, 'eth0@if5', cidr) + ipAddr('ip addr', 'docker0', '172.17.0.1/16'),
        ...(cni ? { 'cni.log': `${cniLine('ADD', '0206 12:22:17.639674', ID(String(pid % 10)), `p${pid}`, cidr.split('/')[0])}\n` } : {}),
      });
    const a = await analyseHosts({ a: host(71, '10.2.1.15/24', true), b: host(72, '10.2.1.15/24', false) });
    const conflicts = byRule(a.findings, 'ip-conflict');
    expect(conflicts.map((f) => f.ips)).toEqual([['10.2.1.15']]);
    expect(conflicts[0].host).toContain(', ');
  });

  it('ignores addresses on NOARP interfaces (an LVS VIP on tunl0 in every pod) and host-scoped ones', async () => {
    const a = await analyseHosts({
      h: hostTree([...base, { pid: 70, net: '4026532500', mnt: '4026531841' }, { pid: 80, net: '4026532600', mnt: '4026531841' }], {
        'a.txt': ipAddr('nsenter -t 70 -n ip addr', 'tunl0@NONE', '115.159.246.146/32', 'NOARP,UP,LOWER_UP'),
        'b.txt': ipAddr('nsenter -t 80 -n ip addr', 'tunl0@NONE', '115.159.246.146/32', 'NOARP,UP,LOWER_UP'),
      }),
    });
    expect(byRule(a.findings, 'ip-conflict')).toEqual([]);
  });
});

describe('ip-last-holder and cni-del-failed', () => {
  const A = ID('a');
  const B = ID('b');
  const C = ID('c');
  const log = [
    cniLine('ADD', '0203 16:20:01.000000', A, 'first', '10.2.1.15'),
    cniLine('DEL', '0205 11:02:44.000000', A, 'first', undefined),
    cniLine('ADD', '0206 12:22:17.000000', B, 'second', '10.2.1.15'),
    cniLine('DEL', '0207 10:05:31.000000', B, 'second', undefined, 'failed to Statfs "/proc/5145/ns/net": no such file or directory', '/proc/5145/ns/net'),
    cniLine('ADD', '0207 11:00:00.000000', C, 'third', '10.2.1.20'),
  ].join('\n');

  it('names the last holder, its state and the earlier holders; warns when a dead holder\'s IP is still configured', async () => {
    const a = await analyseHosts({
      h: hostTree([...base, { pid: 50, net: '4026531840', mnt: '4026532201', mountinfo: [nsfs('4026532777', '/run/docker/netns/bbbbbbbbbbbb')] }], {
        'galaxy.INFO': `${log}\n`,
        'inspect.json': JSON.stringify([inspect({ id: B, state: 'dead', sandboxKey: '/var/run/docker/netns/bbbbbbbbbbbb', pod: 'second' }), inspect({ id: C, state: 'running', pid: 1, pod: 'third' })]),
        'v.txt': ipAddr('nsenter -t 50 -m nsenter --net=/run/docker/netns/bbbbbbbbbbbb ip addr', 'eth0@if9', '10.2.1.15/24'),
      }),
    });
    const holders = byRule(a.findings, 'ip-last-holder');
    const ip15 = holders.find((f) => f.ips[0] === '10.2.1.15')!;
    expect(ip15).toMatchObject({ severity: 'warning', containers: [{ id: B, state: 'dead' }], netns: [{ inode: '4026532777' }] });
    expect(ip15.detail).toMatch(/Earlier holders, most recent first: aaaaaaaaaaaa \(pod demo\/first\), state gone, CNI ADD at 2017-02-03 16:20:01 \+08:00, released at 2017-02-05 11:02:44 \+08:00/);
    expect(holders.find((f) => f.ips[0] === '10.2.1.20')).toMatchObject({ severity: 'info', containers: [{ id: C, state: 'running' }] });

    const del = byRule(a.findings, 'cni-del-failed');
    expect(del.map((f) => [f.containers[0].id, f.ips])).toEqual([[B, ['10.2.1.15']]]);
    expect(del[0].detail).toContain('/proc/5145/ns/net: once that process exited');
    expect(del[0].detail).not.toContain('firewall rules'); // a Statfs error is not about the firewall
  });

  it('says when a DEL failed on firewall rules that were already gone (portmap after a firewall reload)', async () => {
    const err = 'could not teardown ipv4 dnat: running [/usr/sbin/iptables -t nat -X CNI-DN-8c3f4e1a7b2d9f6e5c0a1 --wait]: exit status 1: iptables: No chain/target/match by that name.';
    const gone = [cniLine('ADD', '0206 12:22:17.000000', B, 'second', '10.2.1.15'), cniLine('DEL', '0207 10:05:31.000000', B, 'second', undefined, err, '/var/run/netns/cni-1b2c')].join('\n');
    const [del] = byRule((await analyseHosts({ h: hostTree(base, { 'galaxy.INFO': `${gone}\n` }) })).findings, 'cni-del-failed');
    expect(del.detail).toContain('The error says the firewall rules or chains the network plugin added are already gone, so deleting them failed');
  });

  it('names the five most recent of many earlier holders and counts the rest', async () => {
    const lines: string[] = [];
    for (let i = 0; i < 40; i++) {
      const id = ID((i % 16).toString(16)).replace(/^./, String(i % 10));
      lines.push(cniLine('ADD', `0203 1${i % 10}:00:${String(i).padStart(2, '0')}.000000`, `${i}`.padStart(2, '0') + id.slice(2), `job-${i}`, '10.2.1.15'));
      lines.push(cniLine('DEL', `0203 1${i % 10}:30:${String(i).padStart(2, '0')}.000000`, `${i}`.padStart(2, '0') + id.slice(2), `job-${i}`, undefined));
    }
    const a = await analyseHosts({ h: hostTree(base, { 'galaxy.INFO': `${lines.join('\n')}\n` }) });
    const f = byRule(a.findings, 'ip-last-holder')[0];
    expect(f.detail).toMatch(/Earlier holders, most recent first \(5 of 39\)/);
    expect(f.evidence.length).toBeLessThanOrEqual(12);
  });

  it('stays quiet on a healthy lifecycle: ADD then DEL, or ADD for a running container', async () => {
    const a = await analyseHosts({ h: hostTree(base, { 'galaxy.INFO': `${[cniLine('ADD', '0203 16:20:01.000000', A, 'first', '10.2.1.15'), cniLine('DEL', '0205 11:02:44.000000', A, 'first', undefined), cniLine('ADD', '0207 11:00:00.000000', C, 'third', '10.2.1.20')].join('\n')}\n`, 'inspect.json': JSON.stringify([inspect({ id: C, state: 'running', pid: 1, pod: 'third' })]) }) });
    expect(a.findings.filter((f) => f.severity !== 'info')).toEqual([]);
    const free = byRule(a.findings, 'ip-last-holder').find((f) => f.ips[0] === '10.2.1.15');
    expect(free?.title).toMatch(/is free/);
    // A released claim is not called "not released" in the same breath as "released at".
    expect(free?.detail).toMatch(/^Last claim, since released: .*released at /);
    expect(free?.detail).not.toMatch(/not released/);
    expect(byRule(a.findings, 'ip-last-holder').find((f) => f.ips[0] === '10.2.1.20')?.detail).toMatch(/^Last claim not released: /);
  });

  it('does not call a container "gone" when the bundle has no container inventory', async () => {
    const a = await analyseHosts({ h: hostTree(base, { 'galaxy.INFO': `${cniLine('ADD', '0203 16:20:01.000000', A, 'first', '10.2.1.15')}\n` }) });
    expect(byRule(a.findings, 'cni-del-failed')).toEqual([]);
    expect(byRule(a.findings, 'ip-last-holder')[0].containers[0].state).toBe('unknown');
  });

  it('takes a failed DEL in the newer log file for a retry when the older file shows a clean DEL of that sandbox, however many claims of its IP came after', async () => {
    // kubelet tears a sandbox down more than once; the retry, after rotation, cannot find /proc/<pid>/ns/net any more.
    const older = (released: string) => [
      cniLine('ADD', '0203 16:20:01.000000', released, 'first', '10.2.1.15'),
      cniLine('DEL', '0203 16:30:00.000000', released, 'first', undefined),
      // The IP passes to eight more sandboxes: the ledger's ring of six claims per IP no longer holds the first one.
      ...Array.from({ length: 8 }, (_, i) => [cniLine('ADD', `0204 1${i}:00:00.000000`, ID(String(i + 1)), `job-${i}`, '10.2.1.15'), cniLine('DEL', `0204 1${i}:30:00.000000`, ID(String(i + 1)), `job-${i}`, undefined)]).flat(),
    ];
    const newer = cniLine('DEL', '0206 09:00:00.000000', A, 'first', undefined, 'failed to Statfs "/proc/99/ns/net": no such file or directory');
    const bundle = (released: string) =>
      hostTree(base, { 'var/log/cni/cni.log.1': `${older(released).join('\n')}\n`, 'var/log/cni/cni.log': `${newer}\n`, 'inspect.json': JSON.stringify([inspect({ id: C, state: 'running', pid: 1, pod: 'third' })]) });
    expect(byRule((await analyseHosts({ h: bundle(A) })).findings, 'cni-del-failed')).toEqual([]);
    // The same files where the clean DEL was another sandbox's: A's failed DEL stands alone, and is reported.
    const other = byRule((await analyseHosts({ h: bundle(ID('9')) })).findings, 'cni-del-failed');
    expect(other.map((f) => f.containers[0].id)).toEqual([A]);
    expect(other[0].title).toMatch(/^CNI DEL failed for aaaaaaaaaaaa/);
    // The same sandbox set up again in the newer file (docker restarts a container under its id): that DEL's failure
    // follows a new ADD, and is reported, whatever the older file released.
    const readded = hostTree(base, {
      'var/log/cni/cni.log.1': `${older(A).join('\n')}\n`,
      'var/log/cni/cni.log': `${cniLine('ADD', '0206 08:00:00.000000', A, 'first', '10.2.1.30')}\n${newer}\n`,
      'inspect.json': JSON.stringify([inspect({ id: C, state: 'running', pid: 1, pod: 'third' })]),
    });
    expect(byRule((await analyseHosts({ h: readded })).findings, 'cni-del-failed')).toMatchObject([{ containers: [{ id: A }], ips: ['10.2.1.30'] }]);
  });

  it('does not call an address "never released" once it was given to another container after the failed DEL', async () => {
    const failedThenReused = [
      cniLine('ADD', '0206 12:22:17.000000', B, 'second', '10.2.1.15'),
      cniLine('DEL', '0207 10:05:31.000000', B, 'second', undefined, 'failed to Statfs "/proc/5145/ns/net": no such file or directory', '/proc/5145/ns/net'),
      cniLine('ADD', '0207 11:00:00.000000', C, 'third', '10.2.1.15'),
    ];
    const run = async (lines: string[]) => byRule((await analyseHosts({ h: hostTree(base, { 'galaxy.INFO': `${lines.join('\n')}\n`, 'inspect.json': JSON.stringify([inspect({ id: C, state: 'running', pid: 1, pod: 'third' })]) }) })).findings, 'cni-del-failed');
    const [f] = await run(failedThenReused);
    expect(f).toMatchObject({ containers: [{ id: B }], ips: ['10.2.1.15'] });
    expect(f.title).toMatch(/^CNI DEL failed for bbbbbbbbbbbb .*; 10\.2\.1\.15 was given to another container since$/);
    expect(f.detail).toMatch(/10\.2\.1\.15 was given to cccccccccccc \(pod demo\/third\) at 2017-02-07 11:00:00 \+08:00, although no DEL of this container had succeeded/);
    expect(f.evidence.map((e) => e.line)).toContain(3);
    // Given to another container before this one's ADD: that is history, and the address was never released since.
    const [g] = await run([failedThenReused[2].replace('0207 11:00:00', '0206 11:00:00'), failedThenReused[0], failedThenReused[1]]);
    expect(g.title).toMatch(/10\.2\.1\.15 was never released$/);
  });

  it('fires for a dead container with an ADD and no DEL at all', async () => {
    const a = await analyseHosts({ h: hostTree(base, { 'galaxy.INFO': `${cniLine('ADD', '0203 16:20:01.000000', A, 'first', '10.2.1.15')}\n`, 'inspect.json': JSON.stringify([inspect({ id: A, state: 'dead', pod: 'first' })]) }) });
    expect(byRule(a.findings, 'cni-del-failed')).toMatchObject([{ title: expect.stringMatching(/never a DEL/) }]);
  });
});

describe('mount-propagation-pin', () => {
  const leak = (mountFlags: string | undefined, monitorStart: string) =>
    hostTree(
      [
        ...base.map((p) => (p.pid === 900 ? { ...p, mnt: '4026532300' } : p)),
        { pid: 8581, comm: 'docker_monitor', started: monitorStart, net: '4026531840', mnt: '4026532201', mountinfo: [nsfs('4026532777', '/run/docker/netns/cf51d21b4b4e')] },
      ],
      mountFlags === undefined ? {} : { 'etc/systemd/system/docker.service': `[Service]\nExecStart=/usr/bin/dockerd\nMountFlags=${mountFlags}\n`, 'uname.txt': '# uname -r\n3.10.0-327.el7.x86_64\n' },
    );

  it('explains a pin by MountFlags=slave and a daemon restart after the pinning process started, citing the unit line', async () => {
    const a = await analyseHosts({ h: leak('slave', 'Fri Feb  3 14:02:11 2017') });
    const [f] = byRule(a.findings, 'mount-propagation-pin');
    expect(f.severity).toBe('warning');
    expect(f.detail).toMatch(/MountFlags=slave/);
    expect(f.detail).toMatch(/started at 2017-02-06 15:40:22 \+08:00, after 1 of the pinning processes/);
    expect(f.detail).toMatch(/before 3\.18/);
    expect(f.evidence).toContainEqual(expect.objectContaining({ source: 'h/etc/systemd/system/docker.service', line: 3, text: 'MountFlags=slave' }));
    expect(f.pinnedBy.map((p) => p.pid)).toEqual([8581]);
  });

  it('reads numeric MountFlags from older systemctl show output', async () => {
    const a = await analyseHosts({ h: { ...leak(undefined, 'Fri Feb  3 14:02:11 2017'), 'show.txt': '# systemctl show docker\nMountFlags=524288\nMainPID=900\nId=docker.service\n' } });
    expect(byRule(a.findings, 'mount-propagation-pin')[0].detail).toMatch(/MountFlags=slave/);
  });

  it('does not blame a copy while the host still has the namespace mounted too (ip netns exec took a slave copy)', async () => {
    const a = await analyseHosts({
      h: hostTree([
        { ...base[0], mountinfo: [nsfs('4026532777', '/run/netns/old-pod', 'shared:2')] },
        base[1],
        { pid: 7393, args: 'sleep 900', net: '4026532900', mnt: '4026532319', mountinfo: [nsfs('4026532777', '/run/netns/old-pod', 'master:2')] },
      ]),
    });
    const [leak] = byRule(a.findings, 'netns-leaked');
    // The host's mount namespace is named once, by its oldest process; the copy by each of its own.
    expect(leak.pinnedBy.map((p) => [p.mntns, p.pid])).toEqual([['mnt:[4026531841]', 1], ['mnt:[4026532319]', 7393]]);
    expect(leak.detail).toContain("in mnt:[4026531841] (the host's, pid 1), seen by both processes of the host; a bind mount at /run/netns/old-pod in mnt:[4026532319], shared by 1 process (oldest first: 7393 sleep");
    expect(leak.remediation).toEqual([
      'nsenter --net=/run/netns/old-pod ip -d addr   # check what is still inside',
      'umount /run/netns/old-pod && rm -f /run/netns/old-pod',
      "nsenter -t 7393 -m umount /run/netns/old-pod   # only if still mounted there: the copy in mnt:[4026532319] is a slave of the host's mount and goes with it",
    ]);
    expect(byRule(a.findings, 'mount-propagation-pin')).toEqual([]);
  });

  it('does not blame propagation when the pin is in the host\'s own mount namespace', async () => {
    const a = await analyseHosts({ h: hostTree([...base, { pid: 77, net: '4026531840', mnt: '4026531841', mountinfo: [nsfs('4026532777', '/run/netns/stale')] }]) });
    expect(byRule(a.findings, 'netns-leaked')).toHaveLength(1);
    expect(byRule(a.findings, 'mount-propagation-pin')).toEqual([]);
  });
});

describe('netns-leaked joins the host side of a veth', () => {
  it('names the host interface whose peer index points into the leaked namespace (the seed\'s veth-hb786fa8)', async () => {
    const a = await analyseHosts({
      h: hostTree([...base, { pid: 50, net: '4026531840', mnt: '4026532201', mountinfo: [nsfs('4026532777', '/run/docker/netns/cf51d21b4b4e')] }], {
        'host.txt': '# ip addr\n2: eth0: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500\n    inet 10.2.1.4/24 scope global eth0\n4033: veth-hb786fa8@if4032: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500\n    link/ether 8e:91:3c:0a:77:d2 brd ff:ff:ff:ff:ff:ff link-netnsid 2\n4041: veth-other@if7: <BROADCAST,UP> mtu 1500\n',
        'ns.txt': ipAddr('nsenter -t 50 -m nsenter --net=/run/docker/netns/cf51d21b4b4e ip ad', 'eth0@if4033', '10.2.1.15/24').replace('3: eth0@if4033', '4032: eth0@if4033'),
      }),
    });
    const [f] = byRule(a.findings, 'netns-leaked');
    expect(f.detail).toContain('veth-hb786fa8 (ifindex 4033) is the other end of its eth0');
    expect(f.detail).not.toContain('veth-other');
    expect(f.remediation).toContain('ip link show veth-hb786fa8   # gone once the namespace is released; if not, ip link del veth-hb786fa8');
  });
});

describe('the host namespaces, kernel threads and empty namespaces', () => {
  // A sandboxed init whose ns links cannot be read (no links for pid 1); kthreadd's can. `ip netns add blue` on the host.
  const kernel = [
    { pid: 2, ppid: 0, args: '[kthreadd]', net: '4026531833', mnt: '4026531832', mountinfo: [nsfs('4026532177', '/run/netns/blue', 'shared:2')] },
    { pid: 3, ppid: 2, args: '[kworker/R-rcu_gp]', net: '4026531833', mnt: '4026531832' },
    { pid: 14, ppid: 2, args: '[ksoftirqd/0]', net: '4026531833', mnt: '4026531832' },
  ];
  const init = { pid: 1, ppid: 0, args: '/sbin/init' };
  const shell = { pid: 700, ppid: 1, args: '-bash', started: 'Tue Feb  7 09:00:00 2017', net: '4026531833', mnt: '4026531832' };
  const inside = (extra = '') => `# nsenter --net=/run/netns/blue ip -d addr\n1: lo: <LOOPBACK,UP,LOWER_UP> mtu 65536\n    inet 127.0.0.1/8 scope host lo\n${extra}`;

  it("takes kthreadd's namespaces for the host's when pid 1's cannot be read, and leaves kernel threads out of the pinners", async () => {
    const a = await analyseHosts({ h: hostTree([init, ...kernel, shell], { 'blue.txt': inside() }) });
    const [f] = byRule(a.findings, 'netns-leaked');
    expect(f.pinnedBy.map((p) => p.pid)).toEqual([700]);
    expect(f.detail).toContain("in mnt:[4026531832] (the host's, pid 1), seen by the one process and 3 kernel threads of the host.");
    expect(f.remediation).toContain('umount /run/netns/blue && rm -f /run/netns/blue');
    expect(byRule(a.findings, 'mount-propagation-pin')).toEqual([]); // the host's own mount namespace is no foreign copy
  });

  it("gives the host's mount namespace a mount table printed from a host shell (findmnt), though pid 1's links cannot be read", async () => {
    const kthreadd = { ...kernel[0], mountinfo: [] };
    const findmnt = '# findmnt -t nsfs\nTARGET          SOURCE                 FSTYPE OPTIONS\n/run/netns/blue nsfs[net:[4026532177]] nsfs   rw\n';
    const [f] = byRule((await analyseHosts({ h: hostTree([init, kthreadd, ...kernel.slice(1), shell], { 'findmnt.txt': findmnt, 'blue.txt': inside() }) })).findings, 'netns-leaked');
    expect(f.pinnedBy.map((p) => [p.kind, p.mntns, p.path])).toEqual([['mount', 'mnt:[4026531832]', '/run/netns/blue']]);
    expect(f.detail).toContain("(the host's, pid 1)");
  });

  it('calls a namespace holding only lo, never owned by a container, a warning; one holding an address a warning when named by hand, else an error', async () => {
    const empty = byRule((await analyseHosts({ h: hostTree([init, ...kernel, shell], { 'blue.txt': inside() }) })).findings, 'netns-leaked')[0];
    expect(empty).toMatchObject({ severity: 'warning', title: expect.stringMatching(/, empty$/) });
    expect(empty.detail).toMatch(/holds only lo: it costs kernel memory, not traffic/);
    const full = byRule(
      (await analyseHosts({ h: hostTree([init, ...kernel, shell], { 'blue.txt': inside('3: eth0@if12: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 state UP\n    inet 10.77.0.9/24 scope global eth0\n') }) })).findings,
      'netns-leaked',
    )[0];
    // /run/netns/blue: no runtime gives that name, no container owns it; `ip netns add` keeps such on purpose (a VPN, a VRF).
    expect(full).toMatchObject({ severity: 'warning', ips: ['10.77.0.9'] });
    expect(full.detail).toMatch(/keeps answering for its addresses although nothing runs in it\. But no container the bundle knows owns it, and \/run\/netns\/blue is not a name a container runtime gives/);
    // The same namespace under a name containerd gives (cni-<uuid>) is a runtime's leftover: an error.
    const cni = '/run/netns/cni-3276e31b-c2af-4840-abce-a9d3e8d061b4';
    const swap = (t: string) => t.replaceAll('/run/netns/blue', cni);
    const kernelCni = kernel.map((k) => (k.mountinfo ? { ...k, mountinfo: k.mountinfo.map(swap) } : k));
    const runtime = byRule(
      (await analyseHosts({ h: hostTree([init, ...kernelCni, shell], { 'blue.txt': swap(inside('3: eth0@if12: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 state UP\n    inet 10.77.0.9/24 scope global eth0\n')) }) })).findings,
      'netns-leaked',
    )[0];
    expect(runtime).toMatchObject({ severity: 'error', ips: ['10.77.0.9'] });
    expect(runtime.detail).not.toMatch(/not a name a container runtime gives/);
    // Not seen inside at all: what it holds is unknown, so it is not called empty; named by hand, it is still a warning,
    // and under a runtime's name an error.
    const unseen = byRule((await analyseHosts({ h: hostTree([init, ...kernel, shell]) })).findings, 'netns-leaked')[0];
    expect([unseen.severity, unseen.title]).toEqual(['warning', 'Network namespace net:[4026532177] has no process but is still alive']);
    expect(byRule((await analyseHosts({ h: hostTree([init, ...kernelCni, shell]) })).findings, 'netns-leaked')[0].severity).toBe('error');
    // An `ip addr` taken inside that lists nothing (cut short, or failed) shows nothing either.
    const blank = byRule((await analyseHosts({ h: hostTree([init, ...kernelCni, shell], { 'blue.txt': swap('# nsenter --net=/run/netns/blue ip -d addr\n') }) })).findings, 'netns-leaked')[0];
    expect(blank.severity).toBe('error');
  });

  it('does not take pid 2 for kthreadd in a bundle taken inside a pid namespace', async () => {
    const procs = [
      init,
      { pid: 2, ppid: 1, args: 'sleep 100', net: '4026531833', mnt: '4026532400', mountinfo: [nsfs('4026532177', '/run/netns/blue')] },
      { pid: 3, ppid: 2, args: '[sh]', net: '4026531833', mnt: '4026532400' }, // looks like a kernel thread, but pid 2 is no kthreadd
    ];
    const a = await analyseHosts({ h: hostTree(procs, { 'blue.txt': inside('3: eth0@if12: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 state UP\n    inet 10.77.0.9/24 scope global eth0\n') }) });
    const [f] = byRule(a.findings, 'netns-leaked');
    expect(f.pinnedBy.map((p) => p.pid)).toEqual([2, 3]);
    expect(f.detail).not.toContain("the host's");
    // No container daemon in the bundle: the title does not name dockerd.
    const [pin] = byRule(a.findings, 'mount-propagation-pin');
    expect(pin.title).toBe("net:[4026532177] is pinned by a mount namespace that is not the host's");
  });
});

describe('what a teardown error says about its cause', () => {
  it('knows dropped firewall rules, a missing plugin binary and an unreachable datastore, and nothing else', () => {
    const cause = (e: string) => teardownCause([e]) ?? '';
    expect(cause('running [/usr/sbin/iptables -t nat -D POSTROUTING -s 10.88.0.96 -j CNI-f1d9f8791753a895cccae697 -m comment --comment name: "podman" --wait]: exit status 2: iptables v1.8.4 (nf_tables): Chain \'CNI-f1d9f8791753a895cccae697\' does not exist')).toMatch(/^The error says the firewall rules or chains the network plugin added are already gone/);
    expect(cause('NetworkPlugin cni failed to teardown pod "web-1_demo" network: failed to find plugin "loopback" in path [/opt/cni/bin]')).toBe('The error says the plugin binary "loopback" is not in the CNI path (/opt/cni/bin): it was removed or never installed on this node (an upgrade, or the network\'s DaemonSet has not put it back yet), and no DEL can run until it is there again.');
    expect(cause('error getting ClusterInformation: Get "https://10.96.0.1:443/apis/crd.projectcalico.org/v1/clusterinformations/default": dial tcp 10.96.0.1:443: i/o timeout')).toMatch(/could not reach the service it keeps its state in/);
    expect(cause('rpc error: code = Unavailable desc = connection error: desc = "transport: Error while dialing dial tcp 127.0.0.1:50051: connect: connection refused"')).toMatch(/could not reach the service it keeps its state in/);
    expect(teardownCause(['failed to Statfs "/proc/5145/ns/net": no such file or directory', 'del cmd: failed to process delete request'])).toBeUndefined();
    // Two causes in one history are both told, each once.
    expect(teardownCause(['failed to find plugin "calico" in path [/opt/cni/bin]', 'dial tcp 10.96.0.1:443: i/o timeout', 'dial tcp 10.96.0.1:443: i/o timeout'])?.match(/The error says/g)).toHaveLength(2);
  });
});
