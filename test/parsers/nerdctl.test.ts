// nerdctl (containerd without docker): its `ps -a` and `inspect` print docker's table and keys, so only its command
// line or its labels ("nerdctl/namespace", nerdctl's pkg/labels) tell them apart; Kubernetes' containers in containerd's
// namespace k8s.io carry the CRI plugin's "io.cri-containerd.kind" and are removed with crictl.
import { describe, expect, it } from 'vitest';
import { parseText } from '../../src/engine/analyse.js';
import { removeCommand } from '../../src/model/host.js';
import { nerdctlCommand } from '../../src/recognise/command.js';
import { analyseHosts, only } from '../helpers.js';

const WEB = '5b1ee7c79e1f8b4f6d1c0a2e3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e';
const BUILD = '0c2f4e6a8b0d2f4a6c8e0b2d4f6a8c0e2b4d6f8a0c2e4b6d8f0a2c4e6b8d0f2a';
const SANDBOX = '9d8c7b6a5f4e3d2c1b0a9f8e7d6c5b4a3f2e1d0c9b8a7f6e5d4c3b2a1f0e9d8c';
const COREDNS = '1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b1c2d3e4f5a6b7c8d9e0f1a2b';

/** An item as nerdctl's dockercompat.Container prints it (no SandboxKey, no NetworkMode, no State.Dead). */
const item = (id: string, labels: Record<string, string>, state: Record<string, unknown>) => ({
  Id: id,
  Created: '2026-03-02T08:11:04.118026417Z',
  Path: '/docker-entrypoint.sh',
  Args: ['nginx', '-g', 'daemon off;'],
  State: { Status: 'running', Running: true, Paused: false, Restarting: false, Pid: 41233, ExitCode: 0, Error: '', StartedAt: '2026-03-02T08:11:04.52Z', FinishedAt: '', ...state },
  Image: 'docker.io/library/nginx:alpine',
  Name: labels['nerdctl/name'] ?? '',
  RestartCount: 0,
  Driver: 'overlayfs',
  Platform: 'linux',
  Mounts: null,
  Config: { Hostname: id.slice(0, 12), AttachStdin: false, Labels: labels },
  NetworkSettings: { Ports: {}, GlobalIPv6Address: '', GlobalIPv6PrefixLen: 0, IPAddress: '10.4.0.12', IPPrefixLen: 24, MacAddress: '8e:41:0b:52:2d:6e', Networks: { 'unknown-eth0': { IPAddress: '10.4.0.12', IPPrefixLen: 24, GlobalIPv6Address: '', GlobalIPv6PrefixLen: 0, MacAddress: '8e:41:0b:52:2d:6e' } } },
});

describe('nerdctl', () => {
  it('reads the containerd namespace and the subcommand past nerdctl\'s global options', () => {
    expect(nerdctlCommand('nerdctl ps -a')).toEqual({ namespace: 'default', rest: ['ps', '-a'] });
    expect(nerdctlCommand('nerdctl --debug -n k8s.io ps -a')).toEqual({ namespace: 'k8s.io', rest: ['ps', '-a'] });
    expect(nerdctlCommand('nerdctl --namespace=buildkit --address /run/k3s/containerd/containerd.sock inspect x')).toEqual({ namespace: 'buildkit', rest: ['inspect', 'x'] });
    expect(nerdctlCommand('docker ps -a')).toBeUndefined();
  });

  it('nerdctl ps is nerdctl\'s table, "Up" without a duration is running, and namespace k8s.io holds Kubernetes\' sandboxes', async () => {
    const session = [
      'root@edge-7:~# nerdctl ps -a',
      'CONTAINER ID    IMAGE                             COMMAND                   CREATED          STATUS                      PORTS    NAMES',
      '5b1ee7c79e1f    docker.io/library/nginx:alpine    "/docker-entrypoint.…"    2 hours ago      Up                                   web',
      '0c2f4e6a8b0d    docker.io/moby/buildkit:latest    "buildkitd"               3 days ago       Exited (137) 2 days ago              builder',
      'root@edge-7:~# nerdctl -n k8s.io ps -a',
      'CONTAINER ID    IMAGE                                      COMMAND                   CREATED        STATUS    PORTS    NAMES',
      '9d8c7b6a5f4e    registry.k8s.io/pause:3.9                  "/pause"                  5 hours ago    Up                 k8s://kube-system/coredns-5d78c9869d-7x2kq',
      '1a2b3c4d5e6f    registry.k8s.io/coredns/coredns:v1.10.1    "/coredns -conf /etc…"    5 hours ago    Up                 k8s://kube-system/coredns-5d78c9869d-7x2kq/coredns',
      'root@edge-7:~# exit',
    ].join('\n');
    const { facts, diagnostics } = await parseText('session.log', session);
    expect(diagnostics.filter((d) => d.level === 'warning')).toEqual([]);
    expect(only(facts, 'container').map(({ container: c }) => [c.id, c.runtime, c.state, c.isSandbox, c.podNamespace, c.pod])).toEqual([
      ['5b1ee7c79e1f', 'nerdctl', 'running', false, undefined, undefined], // a table tells a sandbox by its name only, as docker ps
      ['0c2f4e6a8b0d', 'nerdctl', 'exited', false, undefined, undefined],
      ['9d8c7b6a5f4e', 'cri', 'running', true, 'kube-system', 'coredns-5d78c9869d-7x2kq'],
      ['1a2b3c4d5e6f', 'cri', 'running', false, 'kube-system', 'coredns-5d78c9869d-7x2kq'],
    ]);
  });

  it('nerdctl inspect is nerdctl\'s by its command line or its labels; the CRI plugin\'s containers are crictl\'s', async () => {
    const own = JSON.stringify([item(WEB, { 'nerdctl/name': 'web', 'nerdctl/namespace': 'default', 'nerdctl/networks': '["bridge"]' }, {})], null, 4);
    const k8s = JSON.stringify(
      [
        item(SANDBOX, { 'io.cri-containerd.kind': 'sandbox', 'io.kubernetes.pod.name': 'coredns-5d78c9869d-7x2kq', 'io.kubernetes.pod.namespace': 'kube-system', 'io.kubernetes.pod.uid': '4e1b8f0a-2c3d-4e5f-8a9b-0c1d2e3f4a5b' }, {}),
        item(COREDNS, { 'io.cri-containerd.kind': 'container', 'io.kubernetes.container.name': 'coredns', 'io.kubernetes.pod.name': 'coredns-5d78c9869d-7x2kq', 'io.kubernetes.pod.namespace': 'kube-system' }, {}),
      ],
      null,
      4,
    );
    // A build container of another namespace, without nerdctl's labels: its command line says whose it is.
    const other = JSON.stringify([item(BUILD, {}, { Status: 'exited', Running: false, Pid: 0, ExitCode: 137, FinishedAt: '2026-03-03T10:00:00Z' })], null, 4);
    const session = [`root@edge-7:~# nerdctl --namespace=buildkit inspect ${BUILD.slice(0, 12)}`, other, 'root@edge-7:~# exit'].join('\n');
    const a = await analyseHosts({ 'edge-7': { 'nerdctl-inspect.json': own, 'k8s-inspect.json': k8s, 'session.log': session } });
    const c = (id: string) => [...a.hosts[0].containers.values()].find((x) => x.id === id)!;
    expect([c(WEB).runtime, c(WEB).ctrNamespace, c(WEB).state, c(WEB).ips]).toEqual(['nerdctl', 'default', 'running', ['10.4.0.12']]);
    expect([c(SANDBOX).runtime, c(SANDBOX).isSandbox, c(SANDBOX).pod, c(COREDNS).runtime, c(COREDNS).isSandbox]).toEqual(['cri', true, 'coredns-5d78c9869d-7x2kq', 'cri', false]);
    expect([c(BUILD).runtime, c(BUILD).ctrNamespace, c(BUILD).state]).toEqual(['nerdctl', 'buildkit', 'exited']);
    expect(removeCommand(c(WEB), 'why')).toBe('nerdctl rm -f 5b1ee7c79e1f   # why');
    expect(removeCommand(c(BUILD), 'why')).toBe('nerdctl -n buildkit rm -f 0c2f4e6a8b0d   # why');
    expect(removeCommand(c(SANDBOX), 'why')).toBe('crictl rmp -f 9d8c7b6a5f4e   # why');
    expect(removeCommand(c(COREDNS), 'why')).toBe('crictl rm -f 1a2b3c4d5e6f   # why');
    // docker's own items stay docker's.
    const docker = (await parseText('docker-inspect.json', JSON.stringify([{ ...item(WEB, { app: 'web' }, {}), HostConfig: { NetworkMode: 'bridge' } }]))).facts;
    expect(only(docker, 'container').map((f) => f.container.runtime)).toEqual(['docker']);
  });

  it('does not put a namespace that is not a plain name into a command', () => {
    expect(removeCommand({ id: WEB, runtime: 'nerdctl', isSandbox: true, ctrNamespace: 'x; rm -rf /' }, 'why')).toBe('nerdctl rm -f 5b1ee7c79e1f   # why');
  });
});
