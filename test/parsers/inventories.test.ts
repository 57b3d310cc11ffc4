// Inventories: docker ps tables, crictl pods, ip netns, lsns/lsfd JSON, flannel/multus state. Real outputs (shared/formats 04, 08, 10;
// lsns/lsfd captured on util-linux 2.38.1, kernel 6.18).
import { describe, expect, it } from 'vitest';
import { parseText } from '../../src/engine/analyse.js';
import { analyseHosts, only } from '../helpers.js';

describe('docker ps -a', () => {
  it('cuts cells at the header offsets: old wide columns, Dead with no name, Removal In Progress, new 3-space columns', async () => {
    const text = [
      'CONTAINER ID        IMAGE                                      COMMAND             CREATED             STATUS              PORTS               NAMES',
      '1cefb7aab14d        gcr.io/google_containers/pause-amd64:3.0   "/pause"            5 days ago          Dead                                    ',
      '9adaaacc30d3        3d93fd21072f                               "/bin/bash"         12 weeks ago        Removal In Progress                       9adaaacc30_web',
    ].join('\n');
    const { facts, parsers } = await parseText('docker-ps.txt', text);
    expect(parsers).toEqual(['docker-ps']);
    expect(only(facts, 'container').map((f) => [f.container.id, f.container.state, f.container.name, f.container.isSandbox])).toEqual([
      ['1cefb7aab14d', 'dead', undefined, true],
      ['9adaaacc30d3', 'removing', '9adaaacc30_web', false],
    ]);
    const newer = [
      'CONTAINER ID   IMAGE                                              COMMAND                  CREATED        STATUS                PORTS     NAMES',
      '2b116eadcab3   dockerhub.kubekey.local/kubesphereio/pause:3.5   "/pause"                 4 hours ago    Up 4 hours                      k8s_POD_elasticsearch-master-0_lindeci-project_6a4fa112-9845-411f-875c-27750799d196_0',
    ].join('\n');
    const [c] = only((await parseText('ps.txt', newer)).facts, 'container');
    expect(c.container).toMatchObject({ id: '2b116eadcab3', state: 'running', isSandbox: true, pod: 'elasticsearch-master-0', podNamespace: 'lindeci-project' });
  });

  it('merges a docker ps row with the docker inspect of the same container: one record, the 64-digit id, inspect\'s pid', async () => {
    const id = `1cefb7aab14d${'0'.repeat(52)}`;
    const a = await analyseHosts({
      node: {
        'docker-ps.txt': ['CONTAINER ID        IMAGE               COMMAND             CREATED             STATUS              PORTS               NAMES', '1cefb7aab14d        pause:3.0           "/pause"            5 days ago          Dead                                    ', ''].join('\n'),
        'inspect.json': JSON.stringify([{ Id: id, Name: '/k8s_POD_web-1_default_0f0f0f0f-0000-0000-0000-000000000000_0', State: { Status: 'dead', Dead: true, Pid: 0 }, NetworkSettings: { SandboxKey: '/var/run/docker/netns/1cefb7aab14d' } }]),
      },
    });
    const cs = [...a.hosts[0].containers.values()];
    expect(cs.map((c) => [c.id, c.state, c.pod, c.sandboxKey])).toEqual([[id, 'dead', 'web-1', '/var/run/docker/netns/1cefb7aab14d']]);
  });
});

describe('crictl pods, ip netns, lsns, lsfd, CNI state', () => {
  it('crictl pods: Ready and NotReady sandboxes', async () => {
    const text = [
      'POD ID              CREATED             STATE               NAME                                       NAMESPACE           ATTEMPT             RUNTIME',
      '6dffd308312e2       2 days ago          NotReady            rook-ceph-mon-a-59cbf85446-jwprv           rook-ceph           0                   (default)',
      'd7149696f57eb       3 hours ago         Ready               kube-controller-manager-fedora             kube-system         4                   (default)',
    ].join('\n');
    const cs = only((await parseText('crictl-pods.txt', text)).facts, 'container').map((f) => f.container);
    expect(cs.map((c) => [c.id, c.state, c.pod, c.podNamespace, c.runtime, c.isSandbox])).toEqual([
      ['6dffd308312e2', 'exited', 'rook-ceph-mon-a-59cbf85446-jwprv', 'rook-ceph', 'cri', true],
      ['d7149696f57eb', 'running', 'kube-controller-manager-fedora', 'kube-system', 'cri', true],
    ]);
  });

  it('ip netns list and list-id (captured on 6.18; calico#7977)', async () => {
    const list = (await parseText('t.txt', '# ip netns list\nblue (id: 13)\nred (id: 9)\ncni-cce577f5-a0d5-d09c-15dd-8226724d338b\n')).facts;
    expect(only(list, 'netnsName').map((f) => [f.name, f.nsid])).toEqual([['blue', 13], ['red', 9], ['cni-cce577f5-a0d5-d09c-15dd-8226724d338b', undefined]]);
    const ids = (await parseText('list-id.txt', 'nsid 0 (iproute2 netns name: fx-demo)\nnsid 1 \n')).facts;
    expect(only(ids, 'netnsName').map((f) => [f.name, f.nsid])).toEqual([['fx-demo', 0]]);
  });

  it('lsns --json: the pid in each netns and its nsfs mounts', async () => {
    const text = '{\n   "namespaces": [\n      {\n         "ns": 4026531833,\n         "type": "net",\n         "nprocs": 66,\n         "pid": 2,\n         "user": "root",\n         "netnsid": "unassigned",\n         "nsfs": null,\n         "command": "kthreadd"\n      },{\n         "ns": 4026532177,\n         "type": "net",\n         "nprocs": 1,\n         "pid": 8873,\n         "netnsid": "0",\n         "nsfs": "/run/netns/fxtest",\n         "command": "sleep"\n      }\n   ]\n}\n';
    const { facts } = await parseText('lsns.json', text);
    expect(only(facts, 'nsLink').map((f) => [f.pid, f.inode])).toEqual([[2, '4026531833'], [8873, '4026532177']]);
    expect(only(facts, 'nsMount').map((f) => [f.path, f.inode])).toEqual([['/run/netns/fxtest', '4026532177']]);
  });

  it('lsfd --json: an fd on a netns bind mount (printed as its path) becomes a pin once the inode is known as a netns', async () => {
    const text = JSON.stringify({ lsfd: [
      { command: 'sleep', pid: 8873, user: 'root', assoc: 'net', mode: '---', type: 'REG', source: 'nsfs', mntid: 0, inode: 4026531833, name: 'net:[4026531833]' },
      { command: 'sleep', pid: 8873, user: 'root', assoc: '7', mode: 'r--', type: 'REG', source: 'nsfs', mntid: 43, inode: 4026532177, name: '/run/netns/fxtest' },
      { command: 'sleep', pid: 8873, user: 'root', assoc: 'cwd', mode: '---', type: 'DIR', source: 'vda', mntid: 0, inode: 260072, name: '/tmp' },
    ] }, null, 3);
    const { facts } = await parseText('lsfd.json', text);
    expect(only(facts, 'nsLink').map((f) => [f.pid, f.ns, f.inode])).toEqual([[8873, 'net', '4026531833']]);
    expect(only(facts, 'fdLink').map((f) => [f.pid, f.fd, f.ns, f.inode])).toEqual([[8873, 7, 'nsfs', '4026532177']]);
  });

  it('flannel and multus per-container state, and a host-local file with CRLF', async () => {
    const flannel = await parseText('host/var/lib/cni/flannel/0dc487cc6e4faf25ddd504d0e59339f2edf94f10ea664f9765be514bb3219cff', '{"hairpinMode":true,"ipMasq":false,"ipam":{"routes":[{"dst":"10.244.0.0/16"}],"subnet":"10.244.1.0/24","type":"host-local"},"isDefaultGateway":true,"isGateway":true,"mtu":1400,"name":"cbr0","type":"bridge"}');
    expect(only(flannel.facts, 'cniLeftover')).toMatchObject([{ via: 'flannel', containerId: '0dc487cc6e4faf25ddd504d0e59339f2edf94f10ea664f9765be514bb3219cff', network: 'cbr0' }]);
    const hl = await parseText('var/lib/cni/networks/cbr0/172.22.0.30', `${'a'.repeat(64)}\r\neth0`);
    expect(only(hl.facts, 'ipReservation')).toMatchObject([{ ip: '172.22.0.30', containerId: 'a'.repeat(64), ifname: 'eth0', network: 'cbr0' }]);
  });
});

describe('sosreport', () => {
  const sample = 'samples/sosreport-eks-stuck-sandbox/sosreport-ip-10-0-60-95-2019-10-03-kqzbmtw.tar.xz';
  it('reads a .tar.xz sosreport: commands from sos_commands file names, proc/mounts by path, a note for a .tailed file', async () => {
    const { analyse } = await import('../../src/engine/analyse.js');
    const a = await analyse([sample]);
    const h = a.hosts[0];
    expect(h.name).toBe('ip-10-0-60-95.us-west-2.compute.internal');
    expect([...h.netnsNames.keys()].sort()).toEqual(['cni-0f9e8d7c-6b5a-4c3d-2e1f-0a9b8c7d6e5f', 'cni-5a1b3c7d-90ef-4a12-b3c4-d5e6f7a8b9c0']);
    expect([...h.containers.values()].map((c) => [c.id.slice(0, 12), c.state, c.netnsClosed])).toEqual([
      ['4c1d2e3f4a5b', 'running', false],
      ['cae59246074a', 'exited', false],
    ]);
    expect(a.diagnostics.some((d) => /journalctl_--no-pager\.tailed$/.test(d.source) && /only the tail/.test(d.message))).toBe(true);
    expect(h.sandboxEvents.filter((e) => e.event === 'teardown-failed')).toHaveLength(12); // 4 rounds × (containerd + 2 kubelet lines)
  });

  it('a truncated .tar.xz costs a diagnostic naming the file, not the report', async () => {
    const { mkdtempSync, readFileSync, writeFileSync, rmSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const dir = mkdtempSync(join(tmpdir(), 'forensics-xz-'));
    try {
      const cut = join(dir, 'cut.tar.xz');
      writeFileSync(cut, readFileSync(sample).subarray(0, 1500));
      const { analyse } = await import('../../src/engine/analyse.js');
      const a = await analyse([cut]).catch((e: Error) => e);
      // The diagnostic names the file once, as its source (or the whole run's error does, when nothing was usable).
      const text = a instanceof Error ? a.message : a.diagnostics.map((d) => `${d.source}: ${d.message}`).join('\n');
      expect(text).toMatch(/cut\.tar\.xz: corrupt xz data/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('sosreport manifest', () => {
  it('maps files to the command lines sos ran, and finds truncated output under sos_strings', async () => {
    const { readSosManifest, sosCommand } = await import('../../src/engine/analyse.js');
    const map = new Map<string, string>();
    const doc = { components: { report: { plugins: { crio: { commands: [{ exec: 'crictl pods --no-trunc', filepath: 'sos_commands/crio/pods_table' }] }, logs: { commands: [{ exec: 'journalctl --no-pager', filepath: 'sos_strings/logs/journalctl_--no-pager.tailed' }] } } } } };
    readSosManifest(JSON.stringify(doc), map, () => undefined);
    expect(sosCommand('sosreport-x/sos_commands/crio/pods_table', map)?.context.inner).toBe('crictl pods --no-trunc');
    expect(sosCommand('sosreport-x/sos_strings/logs/journalctl_--no-pager.tailed', map)).toMatchObject({ tailed: true, context: { inner: 'journalctl --no-pager' } });
    // Without the manifest, the name spells the command; other sos_strings files are not command output.
    expect(sosCommand('s/sos_commands/networking/ip_-d_address')?.context.inner).toBe('ip -d address');
    expect(sosCommand('s/sos_strings/foo/bar')).toBeUndefined();
    const warnings: string[] = [];
    readSosManifest('{not json', new Map(), (m) => warnings.push(m));
    expect(warnings[0]).toMatch(/not JSON/);
  });
});

describe('crictl inspect (containers)', () => {
  it('reads state, pod, sandbox, pid and the host paths mounted (containerd/cri#475, #479 shape)', async () => {
    const doc = {
      status: {
        id: '98ad5842a62844f62d4468c52dbfcc081a08ba25c95c842a967de7058f60dd24',
        metadata: { attempt: 0, name: 'nginx' },
        state: 'CONTAINER_EXITED',
        createdAt: '2017-11-30T21:57:26.038813532Z',
        startedAt: '2017-11-30T21:57:26.235406355Z',
        finishedAt: '2017-12-01T20:08:56.523559866Z',
        exitCode: 255,
        labels: { 'io.kubernetes.container.name': 'nginx', 'io.kubernetes.pod.name': 'nginx', 'io.kubernetes.pod.namespace': 'e2e-tests-kubectl-2jdtb', 'io.kubernetes.pod.uid': '6ffc887b-d619-11e7-8e8b-42010af00002' },
        mounts: [{ containerPath: '/var/run/secrets/kubernetes.io/serviceaccount', hostPath: '/var/lib/kubelet/pods/6ffc887b/volumes/kubernetes.io~secret/default-token-8pzw2', readonly: true }],
      },
      info: { sandboxID: '6ecc8a386012aa3d8cc41e986263a56c039044b7f9dcceda012cc3fc045e58c9', pid: 0, removing: false },
    };
    const { facts, parsers } = await parseText('inspect.json', `# crictl inspect 98ad5842a6284\n${JSON.stringify(doc, null, 2)}\n`);
    expect(parsers).toContain('crictl-inspect');
    expect(only(facts, 'container').map((f) => f.container)).toMatchObject([
      { id: doc.status.id, runtime: 'cri', isSandbox: false, state: 'exited', pod: 'nginx', podNamespace: 'e2e-tests-kubectl-2jdtb', sandboxOf: doc.info.sandboxID, binds: [{ source: doc.status.mounts[0].hostPath, destination: doc.status.mounts[0].containerPath }] },
    ]);
    // Its sandbox's inspectp is a different format: not taken for a container.
    const sandbox = { status: { id: doc.info.sandboxID, metadata: { name: 'nginx', namespace: 'x' }, state: 'SANDBOX_NOTREADY' }, info: { pid: 0 } };
    expect((await parseText('p.json', JSON.stringify(sandbox))).parsers).toEqual(['crictl-inspectp']);
  });
});

describe('table rows', () => {
  it('a row longer than 4 KiB costs a warning, not a quadratic status search', async () => {
    const header = 'CONTAINER ID        IMAGE               COMMAND             CREATED             STATUS              PORTS               NAMES';
    const { facts, diagnostics } = await parseText('docker-ps.txt', `${header}\nabcdef012345  ${'Up x '.repeat(200_000)}\n1cefb7aab14d        pause:3.0           "/pause"            5 days ago          Dead                                    \n`);
    expect(only(facts, 'container').map((f) => f.container.id)).toEqual(['1cefb7aab14d']);
    expect(diagnostics.map((d) => d.message)).toEqual(['table row longer than 4 KiB; skipped']);
  });
});
