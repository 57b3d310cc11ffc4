// podman: its inspect output (docker's keys plus its own) and its network teardown failures, on lines quoted from
// upstream bug reports (containers/podman#19702, #19721, #22791; the infra container of Finsys/dockhand#1221).
import { describe, expect, it } from 'vitest';
import { analyse, parseText } from '../../src/engine/analyse.js';
import { removeCommand } from '../../src/model/host.js';
import { analyseHosts, link, only } from '../helpers.js';

const INFRA = '916a0bcfdda6a20c8e7d27114542d501a4e35c1c813c66e115e8a8c147b21da7';
const MEMBER = '3c1a5e0f9b7d4c2a8e6f1b3d5c7a9e0f2b4d6c8a0e1f3b5d7c9a1e3f5b7d9c0a';
const STANDALONE = 'e57c422616e5467aed877756aaae65eabb17782e0c62c9972064090ea9ca5aa8';
const POD = '86b3b5a947248a687c35bb7aed1ba6651070bf5c7ea335b1960240a92e7cb63f';

const podmanItem = (id: string, extra: Record<string, unknown>) => ({
  Id: id,
  Created: '2026-07-24T07:25:17.711607897+02:00',
  State: { OciVersion: '1.2.1', Status: 'running', Running: true, Paused: false, Restarting: false, OOMKilled: false, Dead: false, Pid: 3516, ConmonPid: 3645, ExitCode: 0, Error: '', StartedAt: '2026-07-24T07:25:22.823804726+02:00', FinishedAt: '0001-01-01T00:00:00Z' },
  OCIRuntime: 'crun',
  ConmonPidFile: `/run/containers/storage/overlay-containers/${id}/userdata/conmon.pid`,
  ...extra,
});

const INSPECT = JSON.stringify(
  [
    podmanItem(INFRA, { Name: '86b3b5a94724-infra', Pod: POD, IsInfra: true, HostConfig: { NetworkMode: 'bridge' }, NetworkSettings: { SandboxKey: '/run/netns/netns-df447e5f-edcb-acdc-4984-0f5380d6fb43', Networks: { podman: { IPAddress: '10.88.0.103' } } } }),
    podmanItem(MEMBER, { Name: 'web', Pod: POD, IsInfra: false, HostConfig: { NetworkMode: `container:${INFRA}` }, NetworkSettings: { SandboxKey: '' } }),
    podmanItem(STANDALONE, {
      Name: 'api',
      Pod: '',
      IsInfra: false,
      State: { Status: 'stopped', Running: false, Pid: 0, ConmonPid: 0, StartedAt: '2026-07-24T07:25:22Z', FinishedAt: '2026-07-24T09:00:00Z' },
      HostConfig: { NetworkMode: 'bridge' },
      NetworkSettings: { SandboxKey: '/run/netns/netns-75483bef-09ef-d471-4538-1dca691fc819', Networks: { podman: { IPAddress: '10.88.0.7' } } },
    }),
  ],
  null,
  5,
);

describe('podman inspect', () => {
  it('is read as podman containers: the infra container owns the pod netns, members join it, podman states map to docker\'s', async () => {
    const { facts, parsers } = await parseText('podman-inspect.json', INSPECT);
    expect(parsers).toEqual(['docker-inspect']);
    const cs = only(facts, 'container').map((f) => f.container);
    expect(cs.map((c) => [c.id.slice(0, 12), c.runtime, c.isSandbox, c.sandboxOf?.slice(0, 12), c.podId?.slice(0, 12), c.state, c.ips])).toEqual([
      ['916a0bcfdda6', 'podman', true, undefined, '86b3b5a94724', 'running', ['10.88.0.103']],
      ['3c1a5e0f9b7d', 'podman', false, '916a0bcfdda6', '86b3b5a94724', 'running', []],
      ['e57c422616e5', 'podman', true, undefined, undefined, 'exited', ['10.88.0.7']],
    ]);
    expect(cs[2].sandboxKey).toBe('/run/netns/netns-75483bef-09ef-d471-4538-1dca691fc819');
  });

  it('maps podman\'s own states, and leaves docker\'s items as docker\'s', async () => {
    const states = ['configured', 'initialized', 'stopping', 'stopped', 'exited'].map((Status, i) =>
      podmanItem(`${'ab'.repeat(31)}${String(i).padStart(2, '0')}`, { Name: `c${i}`, State: { Status, Running: Status === 'stopping', Pid: 0 } }),
    );
    const docker = { Id: 'cd'.repeat(32), Name: '/plain', State: { Status: 'exited', Running: false, Pid: 0 }, HostConfig: { NetworkMode: 'default' } };
    const { facts } = await parseText('inspect.json', JSON.stringify([...states, docker]));
    expect(only(facts, 'container').map((f) => [f.container.state, f.container.runtime])).toEqual([
      ['created', 'podman'],
      ['created', 'podman'],
      ['running', 'podman'],
      ['exited', 'podman'],
      ['exited', 'podman'],
      ['exited', 'docker'],
    ]);
  });

  it('podman ps is podman\'s table; read before the inspect, its guesses give way to what the inspect says', async () => {
    const ps = [
      '[root@db-edge-03 ~]# podman ps -a',
      'CONTAINER ID  IMAGE                                   COMMAND               CREATED      STATUS                  PORTS       NAMES',
      'e57c422616e5  registry.corp.example/api:2.3.1         /usr/bin/api-serv...  7 hours ago  Exited (0) 2 hours ago              api',
      'ffe3a1b2c4d5  registry.corp.example/tools:1.0         sleep infinity        2 hours ago  Up 2 hours ago                      toolbox',
      'a0b1c2d3e4f5  registry.corp.example/tools:1.0         sleep infinity        2 hours ago  Stopped                             paused-pod-member',
      'b0b1c2d3e4f5  registry.corp.example/tools:1.0         sleep infinity        2 hours ago  Initialized                         init-only',
    ].join('\n');
    const a = await analyseHosts({ 'db-edge-03': { 'a-session.log': ps, 'podman-inspect.json': INSPECT } });
    const c = (id: string) => [...a.hosts[0].containers.values()].find((x) => x.id.startsWith(id))!;
    expect([c('e57c422616e5').runtime, c('e57c422616e5').isSandbox, c('e57c422616e5').id.length, c('e57c422616e5').name]).toEqual(['podman', true, 64, 'api']);
    expect([c('ffe3a1b2c4d5').runtime, c('ffe3a1b2c4d5').state]).toEqual(['podman', 'running']);
    expect([c('a0b1c2d3e4f5').state, c('b0b1c2d3e4f5').state]).toEqual(['exited', 'created']); // podman's own statuses
    expect(a.diagnostics.filter((d) => d.level === 'warning')).toEqual([]);
    // The same with full ids (ps --no-trunc): the inspect still wins, and its line is the evidence.
    const full = ps.replace('podman ps -a', 'podman ps -a --no-trunc').replace(/^e57c422616e5 /m, `${STANDALONE} `).replace(/(IMAGE {35})/, `$1${' '.repeat(52)}`);
    const b = await analyseHosts({ 'db-edge-03': { 'a-session.log': full, 'podman-inspect.json': INSPECT } });
    const api = [...b.hosts[0].containers.values()].find((x) => x.id === STANDALONE)!;
    expect([api.isSandbox, api.ev.source]).toEqual([true, 'db-edge-03/podman-inspect.json']);
  });

  it('removes an infra container with its pod, any other podman container with podman rm', () => {
    expect(removeCommand({ id: INFRA, runtime: 'podman', isSandbox: true, podId: POD }, 'why')).toBe('podman pod rm -f 86b3b5a94724   # why (with the pod: podman removes its infra container only so)');
    expect(removeCommand({ id: STANDALONE, runtime: 'podman', isSandbox: true }, 'why')).toBe('podman rm -f e57c422616e5   # why');
    expect(removeCommand({ id: STANDALONE, runtime: 'docker', isSandbox: true }, 'why')).toBe('docker rm -f e57c422616e5   # why');
  });
});

describe('podman logs', () => {
  it('turns network teardown failures into sandbox events, with the netns path and the error unquoted (podman#19702, #19721)', async () => {
    const text = [
      'time="2023-09-18T13:14:55-04:00" level=error msg="IPAM error: failed to get ips for container ID e57c422616e5467aed877756aaae65eabb17782e0c62c9972064090ea9ca5aa8 on network podman"',
      'time="2023-09-18T13:14:55-04:00" level=error msg="tearing down network namespace configuration for container e57c422616e5467aed877756aaae65eabb17782e0c62c9972064090ea9ca5aa8: netavark: open container netns: open /run/netns/netns-75483bef-09ef-d471-4538-1dca691fc819: IO error: No such file or directory (os error 2)"',
      'time="2023-11-10T13:36:19-06:00" level=error msg="Unable to clean up network for container 5562c7db09b37c167612109c79237ac32f7fb7575d0b9819ad8949b8499e4cec: \\"unmounting network namespace for container 5562c7db09b37c167612109c79237ac32f7fb7575d0b9819ad8949b8499e4cec: failed to unmount NS: at /run/user/2815/netns/netns-6ae41715-c698-4a92-8658-020349c94f6f: no such file or directory\\""',
      'time="2023-11-10T13:36:20-06:00" level=info msg="Network for container 5562c7db09b37c167612109c79237ac32f7fb7575d0b9819ad8949b8499e4cec is already cleaned up"',
    ].join('\n');
    const { facts, parsers } = await parseText('podman.log', text);
    expect(parsers).toEqual(['podman-log']);
    const ev = only(facts, 'sandboxEvent');
    expect(ev.map((e) => [e.daemon, e.event, e.sandboxId?.slice(0, 12), e.netnsPath])).toEqual([
      ['podman', 'teardown-failed', 'e57c422616e5', '/run/netns/netns-75483bef-09ef-d471-4538-1dca691fc819'],
      ['podman', 'teardown-failed', '5562c7db09b3', '/run/user/2815/netns/netns-6ae41715-c698-4a92-8658-020349c94f6f'],
    ]);
    expect(ev[0].at).toEqual({ kind: 'exact', utc: Date.parse('2023-09-18T13:14:55-04:00') });
    expect(ev[1].err).toBe('unmounting network namespace for container 5562c7db09b37c167612109c79237ac32f7fb7575d0b9819ad8949b8499e4cec: failed to unmount NS: at /run/user/2815/netns/netns-6ae41715-c698-4a92-8658-020349c94f6f: no such file or directory');
  });

  it('says a failure once when podman logs it and then its caller wraps it; podman 3 wording; the journal and the terminal form', async () => {
    const id = 'b16be2b430aafd4b33d0235a4290a84afc22ac54dea4e8fcf3ca593e64766575';
    const inner = `tearing down network namespace configuration for container ${id}: netavark: code: 1, msg: iptables: Bad rule (does a matching rule exist in that chain?)`;
    const text = [
      `2026-11-20T14:10:03-0600 db-edge-03 podman[48211]: time="2026-11-20T14:10:03-06:00" level=error msg="${inner}"`,
      `2026-11-20T14:10:03-0600 db-edge-03 podman[48211]: time="2026-11-20T14:10:03-06:00" level=error msg="Unable to clean up network for container ${id}: \\"${inner}\\""`,
      `2026-11-20T14:12:40-0600 db-edge-03 podman[48377]: time="2026-11-20T14:12:40-06:00" level=error msg="Unable to cleanup network for container ${id}: \\"error tearing down CNI namespace configuration for container ${id}: netplugin failed\\""`,
      `2026-11-20T14:13:00-0600 db-edge-03 podman[48390]: ERRO[0002] Unmounting partially created network namespace for container ${id}: failed to remove ns path: remove /run/user/0/netns/netns-b8d9b493-1423-df26-84d6-9f7d8c601986: device or resource busy `,
      `2026-11-20T14:13:01-0600 db-edge-03 podman[48390]: DEBU[0002] Network is already cleaned up, skipping...`,
      `2026-11-20T14:13:02-0600 db-edge-03 podman[48391]: 2026-11-20 14:13:02.41 -0600 CST m=+0.2 container remove ${id} (image=registry.example.com/api:2.3, name=api)`,
    ].join('\n');
    const { facts } = await parseText('journal.txt', text);
    const ev = only(facts, 'sandboxEvent');
    expect(ev.map((e) => [e.event, e.err?.slice(0, 40), e.netnsPath])).toEqual([
      ['teardown-failed', 'netavark: code: 1, msg: iptables: Bad ru', undefined],
      ['teardown-failed', 'error tearing down CNI namespace configu', undefined],
      ['teardown-failed', 'failed to remove ns path: remove /run/us', '/run/user/0/netns/netns-b8d9b493-1423-df26-84d6-9f7d8c601986'],
    ]);
    expect(ev[2].at).toEqual({ kind: 'exact', utc: Date.parse('2026-11-20T14:13:00-06:00') }); // the journal's time: the terminal form has none
  });

  it('reads its container events, from the journal (with or without their own time) and from `podman events` (podman#5537, #15617, #20018)', async () => {
    const id = 'f4afca196a33111c1c956e5283deed1e092d2bbde96e59b6e94eb0d0113d67d1';
    const journal = [
      `2026-11-20T14:10:03-0600 db-edge-03 podman[48211]: 2026-11-20 14:10:03.250863214 -0600 CST m=+0.463116267 container died ${id} (image=registry.corp.example/api:2.3.1, name=api, io.containers.autoupdate=registry)`,
      'Mar 18 10:02:11 fedora podman[3310]: container kill 8f3ff324c6a5188c9ff63ac3f870cc6c4ffc1a3046f4db025dc2d62f4de39f76 (image=dev-registry.sbis.ru/local_stand/inside:20.2100, name=inside)',
      `2026-11-20T14:10:04-0600 db-edge-03 podman[48211]: 2026-11-20 14:10:04.1 -0600 CST m=+1.2 container exec_died ${id} (image=x, name=api)`,
      `2026-11-20T14:10:05-0600 db-edge-03 conmon[48200]: container died ${id} (image=x, name=api)`,
    ].join('\n');
    const j = await parseText('journal.txt', journal);
    expect(only(j.facts, 'logEvent').map((e) => [e.daemon, e.event, e.message, e.containerId?.slice(0, 12), e.at])).toEqual([
      ['podman', 'container', 'container died f4afca196a33 (name api, image registry.corp.example/api:2.3.1)', 'f4afca196a33', { kind: 'exact', utc: Date.parse('2026-11-20T14:10:03.250-06:00') }],
      ['podman', 'container', 'container kill 8f3ff324c6a5 (name inside, image dev-registry.sbis.ru/local_stand/inside:20.2100)', '8f3ff324c6a5', expect.objectContaining({ kind: 'local', month: 3, day: 18, hour: 10, minute: 2, second: 11 })], // journald's time: the line has none
    ]);
    const session = [
      '$ podman events --since 1h --until 1s',
      `2023-09-20 10:15:44.651305503 +0300 MSK container init ${id} (image=docker.io/mongodb/mongodb-community-server:latest, name=mongodb, maintainer=support@mongodb.com, name=MongoDB Standalone)`,
      `2022-09-02 18:09:41.520258047 +0200 CEST image pull  busybox`,
    ].join('\n');
    const s = await parseText('session.log', session);
    expect(only(s.facts, 'logEvent').map((e) => [e.message, e.at])).toEqual([
      ['container init f4afca196a33 (name mongodb, image docker.io/mongodb/mongodb-community-server:latest)', { kind: 'exact', utc: Date.parse('2023-09-20T10:15:44.651+03:00') }],
    ]);
  });

  it("reads podman 2's CNI wording, whose container id is only in the rule's comment (podman#8048), and says the rules were gone", async () => {
    const id = '536f01e839281baedbdb0664585b2c80fb0d18164b86fc50e687725636f0c51c';
    const line = `Oct 16 10:02:11 vault-1 podman[9120]: time="2020-10-16T10:02:11+02:00" level=error msg="Error deleting network: running [/usr/sbin/iptables -t nat -D POSTROUTING -s 10.88.0.96 -j CNI-f1d9f8791753a895cccae697 -m comment --comment name: \\"podman\\" id: \\"${id}\\" --wait]: exit status 2: iptables v1.8.4 (nf_tables): Chain 'CNI-f1d9f8791753a895cccae697' does not exist"`;
    const kubelet = 'Dec 20 15:42:09 node-1 kubelet[1396]: E1220 15:42:09.401448    1396 cni.go:278] Error deleting network: failed to Statfs "/proc/115577/ns/net": no such file or directory';
    const { facts } = await parseText('messages', `${line}\n${kubelet}\n`);
    const ev = only(facts, 'sandboxEvent').filter((e) => e.daemon === 'podman');
    expect(ev.map((e) => [e.event, e.sandboxId])).toEqual([['teardown-failed', id]]);
    expect(ev[0].err).toMatch(/^running \[\/usr\/sbin\/iptables -t nat -D POSTROUTING .*Chain 'CNI-f1d9f8791753a895cccae697' does not exist$/);
    const a = await analyseHosts({ h: { 'messages': `${line}\n`, 'date-R.txt': 'Fri, 16 Oct 2020 11:00:00 +0200\n' } });
    const [f] = a.findings.filter((x) => x.rule === 'sandbox-teardown-failed');
    expect(f.detail).toContain('The error says the firewall rules or chains the network plugin added are already gone, so deleting them failed: a firewall reload');
    expect(f.remediation).toContain('podman network reload --all   # puts back the firewall rules of the running containers after a firewall reload');
  });

  it('the rule tells podman\'s remedy, not kubelet\'s', async () => {
    const journal = `2026-11-20T14:10:03-0600 db-edge-03 podman[48211]: time="2026-11-20T14:10:03-06:00" level=error msg="Unable to clean up network for container ${STANDALONE}: \\"tearing down network namespace configuration for container ${STANDALONE}: netavark: code: 1, msg: iptables: Bad rule\\""`;
    const a = await analyseHosts({ 'db-edge-03': { 'podman-inspect.json': INSPECT, 'journal.txt': journal } });
    const f = a.findings.filter((x) => x.rule === 'sandbox-teardown-failed');
    expect(f).toHaveLength(1);
    expect(f[0].title).toMatch(/^podman failed to tear down the network of container e57c422616e5/);
    expect(f[0].detail).toContain('Removing the container does not redo it');
    expect(f[0].remediation[0]).toMatch(/podman does not retry/);
    expect(f[0].remediation).toContain('podman rm -f e57c422616e5   # removing the sandbox runs the network teardown again');
  });
});

describe('podman version', () => {
  it('reads the client release from podman version (4 and 3), podman --version and rpm -q podman', async () => {
    const forms: [string, string][] = [
      ['$ podman version\nClient:       Podman Engine\nVersion:      4.2.0\nAPI Version:  4.2.0\nGo Version:   go1.18.4', '4.2.0'],
      ['$ podman version\nVersion:      3.4.4\nAPI Version:  3.4.4\nGo Version:   go1.17.3', '3.4.4'],
      ['$ podman --version\npodman version 5.2.2', '5.2.2'],
      ['# rpm -q podman\npodman-4.2.0-4.module+el8.7.0+17064+3b31f55c.x86_64', '4.2.0'],
    ];
    for (const [text, version] of forms) expect(only((await parseText('session.log', text)).facts, 'runtimeVersion').map((v) => v.version)).toEqual([version]);
  });

  it('tells what a failed teardown leaves behind with this podman: the namespace before 4.3, firewall rules and IPAM after', async () => {
    const journal = `2026-11-20T14:10:03-0600 db-edge-03 podman[48211]: time="2026-11-20T14:10:03-06:00" level=error msg="Unable to clean up network for container ${STANDALONE}: \\"tearing down network namespace configuration for container ${STANDALONE}: netavark: code: 1, msg: iptables: Bad rule\\""`;
    const run = async (version: string) => (await analyseHosts({ h: { 'podman-inspect.json': INSPECT, 'journal.txt': journal, 'v.log': `$ podman --version\npodman version ${version}\n` } })).findings.find((f) => f.rule === 'sandbox-teardown-failed')!;
    const old = await run('4.2.0');
    expect(old.detail).toContain("This host's podman is 4.2.0: before 4.3 podman keeps the namespace mounted when its teardown fails");
    expect(old.remediation).toContain('# upgrade podman (4.2.0 here) to 4.3 or later: it then removes the namespace even when the teardown fails (containers/podman#16016)');
    const recent = await run('4.6.1');
    expect(recent.detail).toContain("This host's podman is 4.6.1, which removes the namespace even when the teardown fails");
    expect(recent.remediation.some((r) => r.includes('upgrade podman'))).toBe(false);
  });
});

describe('the podman-firewalld-reload sample, in words', () => {
  it('releases the namespace from the host shell and names the container its address went to', async () => {
    const a = await analyse([new URL('../../samples/podman-firewalld-reload/db-edge-03-case04417', import.meta.url).pathname]);
    const [leak] = a.findings.filter((f) => f.rule === 'netns-leaked');
    // findmnt from a host shell: pid 1's mount namespace, the host's, though no /proc/<pid>/ns/mnt link was collected
    expect(leak.detail).toContain("pinned by a bind mount at /run/netns/netns-9b3e1d70-44a2-c8f5-0e6d-7a1c2b9f5e48 in the host's mount namespace (pid 1's)");
    expect(leak.remediation).toContain('umount /run/netns/netns-9b3e1d70-44a2-c8f5-0e6d-7a1c2b9f5e48 && rm -f /run/netns/netns-9b3e1d70-44a2-c8f5-0e6d-7a1c2b9f5e48');
    expect(leak.detail).toContain('10.88.0.7 is also claimed by container 4e9a0c7b2d5f (name api), state running: two namespaces answer for it (see ip-conflict).');
    // the view from `podman exec -it api ip addr` is the new api's namespace, not the host's
    expect(a.hosts[0].netns.get('4026532789')!.views.map((v) => v.how)).toContain('podman exec into container 4e9a0c7b2d5f (api)');
    expect(a.diagnostics.filter((d) => d.level !== 'info')).toEqual([]);
  });
});

describe('rootless podman', () => {
  it("names the pause process's mount namespace as rootless podman's own, not a stray copy, and says nothing of propagation", async () => {
    const OLD = '3a9c0e517f2d4b8ea1c659d0e2f84b173a9c0e517f2d4b8ea1c659d0e2f84b17';
    const NEW = '8e4b2d9f1c3a4f7eb2d86a0c9e5f3b218e4b2d9f1c3a4f7eb2d86a0c9e5f3b21';
    const netns = (id: string) => `/run/user/1000/netns/netns-${id.slice(0, 8)}-${id.slice(8, 12)}-${id.slice(12, 16)}`;
    const item = (id: string, name: string, running: boolean, pid: number, ip: string) => ({
      Id: id, Name: name, OCIRuntime: 'crun', IsInfra: false, Pod: '', HostConfig: { NetworkMode: 'bridge' },
      State: { Status: running ? 'running' : 'exited', Running: running, Pid: pid, ConmonPid: running ? pid - 10 : 0, StartedAt: '2026-11-23T09:00:00Z', FinishedAt: running ? '0001-01-01T00:00:00Z' : '2026-11-23T09:10:00Z' },
      NetworkSettings: { SandboxKey: netns(id), Networks: { podman: { IPAddress: ip } } },
    });
    const tree = (pause: string) => ({
      'proc/1/ns/net': link('net:[4026531992]'), 'proc/1/ns/mnt': link('mnt:[4026531840]'),
      'proc/2345/ns/net': link('net:[4026531992]'), 'proc/2345/ns/mnt': link('mnt:[4026532700]'),
      'proc/2400/ns/net': link('net:[4026532900]'), 'proc/2400/ns/mnt': link('mnt:[4026532901]'),
      'proc/1/mountinfo': '22 1 252:1 / / rw,relatime shared:1 - ext4 /dev/vda1 rw\n',
      'proc/2345/mountinfo': `22 1 252:1 / / rw,relatime master:1 - ext4 /dev/vda1 rw\n640 25 0:4 net:[4026532811] ${netns(OLD)} rw - nsfs nsfs rw\n641 25 0:4 net:[4026532900] ${netns(NEW)} rw - nsfs nsfs rw\n`,
      'ps.txt': ['    PID    PPID                  STARTED COMMAND', '      1       0 Mon Nov 23 08:00:01 2026 /sbin/init', `   2345       1 Mon Nov 23 09:12:44 2026 ${pause}`, '   2400       1 Mon Nov 23 09:12:45 2026 nginx: master process nginx -g daemon off;', ''].join('\n'),
      'date-R.txt': 'Tue, 24 Nov 2026 10:00:00 +0000\n',
      'podman-inspect.json': JSON.stringify([item(OLD, 'old-web', false, 0, '10.89.0.4'), item(NEW, 'web', true, 2400, '10.89.0.5')]),
    });
    const rootless = await analyseHosts({ h: tree('catatonit -P') });
    const [leak] = rootless.findings.filter((f) => f.rule === 'netns-leaked');
    expect(leak.detail).toContain("in mnt:[4026532700], rootless podman's own mount namespace (pid 2345, its pause process catatonit -P)");
    expect(leak.detail).toContain(`podman unshare umount ${netns(OLD)}`);
    expect(rootless.findings.filter((f) => f.rule === 'mount-propagation-pin')).toEqual([]);
    // The same mount held by any other process's namespace is a copy, and propagation is the question.
    const copy = await analyseHosts({ h: tree('/usr/sbin/some-agent --watch /run') });
    expect(copy.findings.filter((f) => f.rule === 'mount-propagation-pin')).toHaveLength(1);
    expect(copy.findings.find((f) => f.rule === 'netns-leaked')!.detail).not.toContain('rootless podman');
  });
});
