// `kubectl describe pod`: kubelet's sandbox events from the Events table, at their age before the collection.
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { analyse, parseText } from '../../src/engine/analyse.js';
import { humanDuration } from '../../parsers/kubectl-describe-pod.js';
import { allEvents } from '../../src/timeline/events.js';
import { only } from '../helpers.js';

const SB = 'aabb5d29eb0361355cedf3fe6636842efb2a36e8f2ae84f2facec3f4618d2b02';
const NEW_SB = 'cb8a846be7902a752bae7f4cdee280111ba8f005e90b6b68c7062bd1cb68a7b4';
// Two pods, as `kubectl describe pods -n kube-system` prints them: the first on worker-2 (today's layout), the second
// on worker-5 with an older kubectl's "kubelet, <node>" in From.
const DESCRIBE = `Name:             calico-kube-controllers-5c5b57ffb5-2hxs5
Namespace:        kube-system
Priority:         2000000000
Service Account:  calico-kube-controllers
Node:             worker-2/10.0.1.12
Start Time:       Tue, 14 May 2024 08:10:00 +0000
Labels:           k8s-app=calico-kube-controllers
Status:           Terminating (lasts 31m)
IP:               10.244.1.7
Containers:
  calico-kube-controllers:
    Container ID:   containerd://0f1e2d3c
    Ready:          False
Events:
  Type     Reason                  Age                  From               Message
  ----     ------                  ----                 ----               -------
  Normal   Scheduled               45m                  default-scheduler  Successfully assigned kube-system/calico-kube-controllers-5c5b57ffb5-2hxs5 to worker-2
  Warning  FailedCreatePodSandBox  44m                  kubelet            Failed to create pod sandbox: rpc error: code = Unknown desc = failed to setup network for sandbox "${NEW_SB}": plugin type="calico" failed (add): connection is unauthorized: Unauthorized
  Normal   SandboxChanged          40m (x8 over 44m)    kubelet            Pod sandbox changed, it will be killed and re-created.
  Warning  FailedKillPod           2m (x14 over 30m)    kubelet            error killing pod: failed to "KillPodSandbox" for "b54120c3-3c62-41ca-8647-c1041c0ab754" with KillPodSandboxError: "rpc error: code = Unknown desc = failed to destroy network for sandbox \\"${SB}\\": plugin type=\\"calico\\" failed (delete): error getting ClusterInformation: Get \\"https://10.233.0.1:443/apis/crd.projectcalico.org/v1/clusterinformations/default\\": Service Unavailable"
  Warning  FailedKillPod           <unknown>            kubelet            error killing pod: failed to "KillPodSandbox" for "b54120c3" with KillPodSandboxError: "rpc error: code = Unknown desc = failed to destroy network for sandbox \\"${SB}\\": Service Unavailable"

Name:           kafka-0
Namespace:      default
Node:           worker-5/10.0.1.15
Events:
  Type     Reason                  Age                 From                    Message
  ----     ------                  ----                ----                    -------
  Warning  FailedCreatePodSandBox  2m                  kubelet, worker-5       Failed to create pod sandbox: rpc error: code = Unknown desc = failed to set up sandbox container "3fe33199939736653d0eb5ffb41ffd4a94630cbf0ee1d9ffa39e1fef7cb40a83" network for pod "kafka-0": networkPlugin cni failed to set up pod "kafka-0_default" network: netplugin failed with no error message
`;

describe('kubectl describe pod', () => {
  it('reads ages as kubectl prints them', () => {
    expect(['45s', '3m2s', '5h10m', '7d18h', '2y30d', '101s', '<unknown>', '<invalid>', '', 'm'].map(humanDuration)).toEqual([45e3, 182e3, 18600e3, 669600e3, (2 * 365 + 30) * 86400e3, 101e3, undefined, undefined, undefined, undefined]);
  });

  it("reads kubelet's sandbox events of each pod, for its node, at their age; a repeated one at its first and last", async () => {
    const { facts, parsers, diagnostics } = await parseText('describe.txt', DESCRIBE);
    expect(parsers).toEqual(['kubectl-describe-pod']);
    const ev = only(facts, 'sandboxEvent');
    expect(ev.map((e) => [e.event, e.node, e.podNamespace, e.pod, e.sandboxId?.slice(0, 12), e.at, e.times])).toEqual([
      ['add-failed', 'worker-2', 'kube-system', 'calico-kube-controllers-5c5b57ffb5-2hxs5', NEW_SB.slice(0, 12), { kind: 'ago', ms: 44 * 60e3 }, 1],
      ['teardown-failed', 'worker-2', 'kube-system', 'calico-kube-controllers-5c5b57ffb5-2hxs5', SB.slice(0, 12), { kind: 'ago', ms: 30 * 60e3 }, 13],
      ['teardown-failed', 'worker-2', 'kube-system', 'calico-kube-controllers-5c5b57ffb5-2hxs5', SB.slice(0, 12), { kind: 'ago', ms: 2 * 60e3 }, 1],
      ['add-failed', 'worker-5', 'default', 'kafka-0', '3fe331999397', { kind: 'ago', ms: 2 * 60e3 }, 1],
    ]);
    expect(ev[1].err).toContain('error getting ClusterInformation');
    expect(ev[1].ev).toMatchObject({ line: 20, text: expect.stringMatching(/^FailedKillPod kube-system\/calico-kube-controllers-5c5b57ffb5-2hxs5 on worker-2, 2m \(x14 over 30m\) before the collection: error killing pod/) });
    // The event whose age is not a duration is said once, not placed at a made-up time.
    expect(diagnostics).toEqual([expect.objectContaining({ level: 'warning', source: 'test/describe.txt:21', message: expect.stringMatching(/^1 event with an age that is not a duration/) })]);
  });

  it('cuts a row by runs of spaces when a paste squeezed its alignment', async () => {
    const squeezed = DESCRIBE.split('\n')
      .map((l) => (l.includes('FailedKillPod           2m') ? l.replace('FailedKillPod           2m (x14 over 30m)    kubelet', 'FailedKillPod  2m (x14 over 30m)  kubelet') : l))
      .join('\n');
    const ev = only((await parseText('describe.txt', squeezed)).facts, 'sandboxEvent');
    expect(ev.filter((e) => e.event === 'teardown-failed').map((e) => [e.at, e.times])).toEqual([[{ kind: 'ago', ms: 30 * 60e3 }, 13], [{ kind: 'ago', ms: 2 * 60e3 }, 1]]);
  });

  it("on worker-2's bundle: a teardown failing 14 times, placed by age before the collection, and the other node's event left out", async () => {
    const root = await mkdtemp(join(tmpdir(), 'forensics-describe-'));
    try {
      await mkdir(join(root, 'etc'));
      await writeFile(join(root, 'etc/hostname'), 'worker-2\n');
      await writeFile(join(root, 'date-R.txt'), 'Tue, 14 May 2024 10:00:00 +0000\n');
      await writeFile(join(root, 'describe-pods.txt'), `$ kubectl describe pods -n kube-system\n${DESCRIBE}`);
      const a = await analyse([root]);
      const [f] = a.findings.filter((x) => x.rule === 'sandbox-teardown-failed');
      expect(f.title).toBe(`kubelet failed to tear down the network of sandbox ${SB.slice(0, 12)} (pod kube-system/calico-kube-controllers-5c5b57ffb5-2hxs5) (14 times)`);
      expect(f.detail).toMatch(/^First failure about 2024-05-14 09:30:00 \+00:00, last about 2024-05-14 09:58:00 \+00:00 \(from ages in kubectl describe, counted back from the collection\);/);
      expect(a.diagnostics.some((d) => /^1 sandbox events of the cluster's .* are about nodes other than worker-2 \(worker-5\)/.test(d.message))).toBe(true);
      // On the timeline, a time from an age is marked as inferred.
      const sandbox = allEvents(a).filter((e) => e.kind === 'sandbox:teardown-failed');
      expect(sandbox.map((e) => [new Date(e.at).toISOString(), e.how])).toEqual([['2024-05-14T09:30:00.000Z', 'age'], ['2024-05-14T09:58:00.000Z', 'age']]);
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });
});

describe('kubectl get events, the table', () => {
  const MSG = (sb: string) => `error killing pod: failed to "KillPodSandbox" for "b54120c3" with KillPodSandboxError: "rpc error: code = Unknown desc = failed to destroy network for sandbox \\"${sb}\\": plugin type=\\"calico\\" failed (delete): error getting ClusterInformation: Service Unavailable"`;
  const OTHER = 'e205e9f8895948918ee930bce34fd7997a83a0dbd3f3f8b7e66939f31a8c25d9';
  // -A, as calico#7958 pasted it: no node; one event names this host's sandbox, one another's.
  const ALL = [
    'NAMESPACE     LAST SEEN   TYPE      REASON          OBJECT                                          MESSAGE',
    `kube-system   4s          Warning   FailedKillPod   pod/calico-kube-controllers-5c5b57ffb5-2hxs5    ${MSG(SB)}`,
    `kube-system   6s          Warning   FailedKillPod   pod/calico-kube-controllers-5c5b57ffb5-7st6m    ${MSG(OTHER)}`,
    'default       36m         Normal    Scheduled       pod/web-1                                       Successfully assigned default/web-1 to worker-2',
  ].join('\n');
  /** A table as kubectl's tabwriter prints it: each column as wide as its widest cell, then 3 spaces. */
  const table = (rows: string[][]) => rows.map((r) => r.map((c, k) => (k === r.length - 1 ? c : c.padEnd(Math.max(...rows.map((x) => x[k].length)) + 3))).join('').trimEnd()).join('\n');
  const EVENT = 'calico-kube-controllers-5c5b57ffb5-2hxs5.17a2b3c4d5e6f708';
  const WIDE = table([
    ['LAST SEEN', 'TYPE', 'REASON', 'OBJECT', 'SUBOBJECT', 'SOURCE', 'MESSAGE', 'FIRST SEEN', 'COUNT', 'NAME'],
    ['2m', 'Warning', 'FailedKillPod', 'pod/calico-kube-controllers-5c5b57ffb5-2hxs5', '', 'kubelet, worker-2', MSG(SB), '30m', '14', EVENT],
  ]);
  const OLD = table([
    ['LAST SEEN', 'FIRST SEEN', 'COUNT', 'NAME', 'KIND', 'SUBOBJECT', 'TYPE', 'REASON', 'SOURCE', 'MESSAGE'],
    ['2m', '30m', '14', EVENT, 'Pod', '', 'Warning', 'FailedKillPod', 'kubelet, worker-2', MSG(SB)],
  ]);

  it('reads the default, -A, -o wide and the old layout by their headers', async () => {
    const read = async (text: string, cmd = '') => only((await parseText('events.txt', `${cmd}${text}\n`)).facts, 'sandboxEvent').map((e) => [e.node ?? (e.nodeUnknown ? '?' : '-'), e.podNamespace, e.pod, e.sandboxId?.slice(0, 12), e.at, e.times]);
    expect(await read(ALL)).toEqual([
      ['?', 'kube-system', 'calico-kube-controllers-5c5b57ffb5-2hxs5', SB.slice(0, 12), { kind: 'ago', ms: 4e3 }, 1],
      ['?', 'kube-system', 'calico-kube-controllers-5c5b57ffb5-7st6m', OTHER.slice(0, 12), { kind: 'ago', ms: 6e3 }, 1],
    ]);
    const repeated = [
      ['worker-2', 'kube-system', 'calico-kube-controllers-5c5b57ffb5-2hxs5', SB.slice(0, 12), { kind: 'ago', ms: 30 * 60e3 }, 13],
      ['worker-2', 'kube-system', 'calico-kube-controllers-5c5b57ffb5-2hxs5', SB.slice(0, 12), { kind: 'ago', ms: 2 * 60e3 }, 1],
    ];
    expect(await read(WIDE, '$ kubectl get events -n kube-system -o wide\n')).toEqual(repeated);
    expect(await read(OLD, '$ kubectl get events --namespace=kube-system\n')).toEqual(repeated);
  });

  it("puts an event that names no node on this host only when it names one of this host's sandboxes", async () => {
    const root = await mkdtemp(join(tmpdir(), 'forensics-events-table-'));
    try {
      await writeFile(join(root, 'date-R.txt'), 'Tue, 14 May 2024 10:00:00 +0000\n');
      await writeFile(join(root, 'events.txt'), `$ kubectl get events -A\n${ALL}\n`);
      // This host's containerd knows SB (its own log says so); OTHER is another node's.
      await writeFile(join(root, 'containerd.log'), `time="2024-05-14T09:59:50.000000000Z" level=error msg="StopPodSandbox for \\"${SB}\\" failed" error="failed to destroy network for sandbox \\"${SB}\\": plugin type=\\"calico\\" failed (delete): error getting ClusterInformation: Service Unavailable"\n`);
      const a = await analyse([root]);
      const f = a.findings.filter((x) => x.rule === 'sandbox-teardown-failed');
      expect(f.map((x) => x.containers[0]?.id.slice(0, 12))).toEqual([SB.slice(0, 12)]);
      expect(f[0].evidence.map((e) => e.source.split('/').pop())).toEqual(expect.arrayContaining(['containerd.log', 'events.txt']));
      expect(a.diagnostics.some((d) => /^1 sandbox events of the cluster's \(a kubectl get events table\) name no node, nor a sandbox this host's evidence knows/.test(d.message))).toBe(true);
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });
});
