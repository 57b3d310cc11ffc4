// `kubectl get pods -o wide`: the API server's view of pod IPs, and what the leak rules make of it on the seed incident.
import { cp, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { analyse, parseText } from '../../src/engine/analyse.js';
import { only } from '../helpers.js';
import { isNode } from '../../src/engine/rule.js';
import type { HostModel } from '../../src/model/host.js';

const ALL = [
  'NAMESPACE     NAME                                READY   STATUS      RESTARTS       AGE    IP            NODE        NOMINATED NODE   READINESS GATES',
  'demo          webserver-1815263422-q3xkz          1/1     Running     0              3h     10.2.1.15     10.2.1.6    <none>           <none>',
  'demo          nginx-3137573019-lcbn2              1/1     Running     2 (4d ago)     5d     10.2.1.11     10.2.1.4    <none>           <none>',
  'demo          report-27791040-x8v2p               0/1     Completed   0              6h     10.2.1.15     10.2.1.4    <none>           <none>',
  'kube-system   kube-proxy-8xk2d                    1/1     Running     1              9d     10.2.1.4      10.2.1.4    <none>           <none>',
  'kube-system   node-exporter-q2w9l                 1/1     Running     0              9d     10.2.1.4      10.2.1.4    <none>           <none>',
  'demo          pending-7d9f8-abcde                 0/1     Pending     0              1m     <none>        <none>      <none>           <none>',
].join('\n');

describe('kubectl get pods -o wide', () => {
  it('reads pod, namespace, IP, node and status by the header\'s columns; leaves out host-network pods and pods without an IP', async () => {
    const { facts, parsers } = await parseText('pods.txt', ALL);
    expect(parsers).toEqual(['kubectl-pods']);
    expect(only(facts, 'podIp').map((p) => [p.podNamespace, p.pod, p.ip, p.node, p.status])).toEqual([
      ['demo', 'webserver-1815263422-q3xkz', '10.2.1.15', '10.2.1.6', 'Running'],
      ['demo', 'nginx-3137573019-lcbn2', '10.2.1.11', '10.2.1.4', 'Running'],
      ['demo', 'report-27791040-x8v2p', '10.2.1.15', '10.2.1.4', 'Completed'],
    ]);
  });

  it('knows which statuses still hold the address, and which node a host is', async () => {
    const rows = ['NAME   READY   STATUS             RESTARTS      AGE   IP          NODE                          NOMINATED NODE   READINESS GATES',
      'a      0/1     CrashLoopBackOff   9 (2m ago)    1h    10.4.0.7    ip-10-0-1-5.ec2.internal      <none>           <none>',
      'b      0/1     Evicted            0             2d    10.4.0.8    ip-10-0-1-5.ec2.internal      <none>           <none>',
      'c      0/1     Init:0/1           0             1m    10.4.0.9    ip-10-0-1-6.ec2.internal      <none>           <none>'].join('\n');
    const { facts } = await parseText('pods.txt', rows);
    expect(only(facts, 'podIp').map((p) => [p.pod, p.holds])).toEqual([['a', true], ['b', false], ['c', true]]);
    const host = (name: string, addresses: string[] = []) => ({ name, addresses }) as unknown as HostModel;
    expect([
      isNode(host('ip-10-0-1-5'), 'ip-10-0-1-5.ec2.internal'),
      isNode(host('ip-10-0-1-6.ec2.internal'), 'ip-10-0-1-5.ec2.internal'),
      isNode(host('node-10-2-1-6', ['10.2.1.6']), '10.2.1.6'),
      isNode(host('10.2.1.4'), '10.2.1.6'), // "10" is not a short name
    ]).toEqual([true, false, true, false]);
  });

  it('takes the namespace from -n when the table has no NAMESPACE column', async () => {
    const text = ['$ kubectl get pods -n shop -o wide', ...ALL.split('\n').slice(0, 3).map((l) => l.slice(14))].join('\n');
    const { facts } = await parseText('session.log', text);
    expect(only(facts, 'podIp').map((p) => [p.podNamespace, p.pod, p.ip])).toEqual([
      ['shop', 'webserver-1815263422-q3xkz', '10.2.1.15'],
      ['shop', 'nginx-3137573019-lcbn2', '10.2.1.11'],
    ]);
  });

  it('on the seed incident, tells which copy of 10.2.1.15 the API server means, and that the leaked one answers for a live pod', async () => {
    const root = await mkdtemp(join(tmpdir(), 'forensics-kubectl-'));
    try {
      for (const h of ['10.2.1.4', '10.2.1.6']) await cp(new URL(`../../samples/seed-incident/${h}`, import.meta.url), join(root, h), { recursive: true, verbatimSymlinks: true });
      await writeFile(join(root, '10.2.1.6', 'kubectl-get-pods.txt'), `${ALL}\n`);
      const a = await analyse([join(root, '10.2.1.4'), join(root, '10.2.1.6')]);
      const [conflict] = a.findings.filter((f) => f.rule === 'ip-conflict');
      expect(conflict.detail).toContain('The API server (kubectl get pods -o wide) gives 10.2.1.15 to pod demo/webserver-1815263422-q3xkz on node 10.2.1.6 (Running): that is the copy in');
      expect(conflict.detail).toMatch(/on node-10-2-1-6; the other should not have it\.$/); // the node is named by its address, the host by its hostname
      expect(conflict.evidence.map((e) => e.text)).toContain(ALL.split('\n')[1]);
      const [leak] = a.findings.filter((f) => f.rule === 'netns-leaked');
      expect(leak.detail).toContain("The API server gives 10.2.1.15 to pod demo/webserver-1815263422-q3xkz on node 10.2.1.6 (Running): this copy answers for a live pod's address.");
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });
});

// `kubectl get events -A -o json`: kubelet's events about sandboxes, with the messages kubelet logs (kubernetes#72044,
// containerd#3667: the teardown that fails while a netns is busy), for two nodes of which the bundle is one.
const SANDBOX = 'a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f90';
const event = (over: Record<string, unknown>) => ({
  apiVersion: 'v1',
  kind: 'Event',
  metadata: { name: 'web-7d4b9c-x2k8q.17a2b3c4d5e6f708', namespace: 'shop', uid: 'f0e1d2c3-b4a5-9687-7869-5a4b3c2d1e0f' },
  involvedObject: { apiVersion: 'v1', kind: 'Pod', name: 'web-7d4b9c-x2k8q', namespace: 'shop', uid: '2a8f6c1e-3b4d-4e5f-9a0b-1c2d3e4f5a6b' },
  reason: 'FailedKillPod',
  message: `error killing pod: failed to "KillPodSandbox" for "2a8f6c1e-3b4d-4e5f-9a0b-1c2d3e4f5a6b" with KillPodSandboxError: "rpc error: code = Unknown desc = failed to destroy network for sandbox \\"${SANDBOX}\\": plugin type=\\"calico\\" failed (delete): error getting ClusterInformation: Get \\"https://10.96.0.1:443/apis/crd.projectcalico.org/v1/clusterinformations/default\\": dial tcp 10.96.0.1:443: i/o timeout"`,
  source: { component: 'kubelet', host: 'worker-2' },
  firstTimestamp: '2024-05-14T09:12:03Z',
  lastTimestamp: '2024-05-14T09:40:41Z',
  count: 14,
  type: 'Warning',
  eventTime: null,
  reportingComponent: 'kubelet',
  reportingInstance: 'worker-2',
  ...over,
});
const EVENTS = JSON.stringify(
  {
    apiVersion: 'v1',
    kind: 'EventList',
    items: [
      event({}),
      event({ metadata: { name: 'api-0.17a2b3c4d5e6f709', namespace: 'shop' }, source: { component: 'kubelet', host: 'worker-5' }, reportingInstance: 'worker-5', involvedObject: { kind: 'Pod', name: 'api-0', namespace: 'shop' } }),
      event({ reason: 'Scheduled', message: 'Successfully assigned shop/web-7d4b9c-x2k8q to worker-2', type: 'Normal', count: 1 }),
      event({ involvedObject: { kind: 'Node', name: 'worker-2' }, reason: 'NodeNotReady', message: 'Node worker-2 status is now: NodeNotReady' }),
      event({ source: {}, reportingInstance: '' }), // no node: not put on any host
    ],
  },
  null,
  4,
);

describe('kubectl get events -o json', () => {
  it('reads kubelet\'s sandbox events of this node, at their first and last time; other nodes\' are left to them', async () => {
    const { facts, parsers } = await parseText('events.json', EVENTS);
    expect(parsers).toEqual(['kubectl-events']);
    const ev = only(facts, 'sandboxEvent');
    expect(ev.map((e) => e.times)).toEqual([13, 1, 13, 1]); // the event's count of 14, at its first and last time
    expect(ev.map((e) => [e.node, e.event, e.sandboxId?.slice(0, 12), e.podNamespace, e.pod, e.at])).toEqual([
      ['worker-2', 'teardown-failed', SANDBOX.slice(0, 12), 'shop', 'web-7d4b9c-x2k8q', { kind: 'exact', utc: Date.parse('2024-05-14T09:12:03Z') }],
      ['worker-2', 'teardown-failed', SANDBOX.slice(0, 12), 'shop', 'web-7d4b9c-x2k8q', { kind: 'exact', utc: Date.parse('2024-05-14T09:40:41Z') }],
      ['worker-5', 'teardown-failed', SANDBOX.slice(0, 12), 'shop', 'api-0', { kind: 'exact', utc: Date.parse('2024-05-14T09:12:03Z') }],
      ['worker-5', 'teardown-failed', SANDBOX.slice(0, 12), 'shop', 'api-0', { kind: 'exact', utc: Date.parse('2024-05-14T09:40:41Z') }],
    ]);
    expect(ev[0].ev.text).toMatch(/^FailedKillPod shop\/web-7d4b9c-x2k8q on worker-2 \(14 times from 2024-05-14T09:12:03.000Z to 2024-05-14T09:40:41.000Z\): error killing pod/);
    expect(ev[0].err).toContain('dial tcp 10.96.0.1:443: i/o timeout');
    // Each event's evidence is the line of its own name.
    const lines = EVENTS.split('\n');
    expect(ev.map((e) => lines[e.ev.line - 1].trim())).toEqual([...Array(2).fill('"name": "web-7d4b9c-x2k8q.17a2b3c4d5e6f708",'), ...Array(2).fill('"name": "api-0.17a2b3c4d5e6f709",')]);
    // On the bundle of worker-2 (its hostname says so), only its own pod's failure is a finding, with the cause.
    const root = await mkdtemp(join(tmpdir(), 'forensics-events-'));
    try {
      await writeFile(join(root, 'events.json'), EVENTS);
      await mkdir(join(root, 'etc'));
      await writeFile(join(root, 'etc/hostname'), 'worker-2.prod.example\n');
      await writeFile(join(root, 'date-R.txt'), 'Tue, 14 May 2024 10:00:00 +0000\n');
      const a = await analyse([root]);
      const f = a.findings.filter((x) => x.rule === 'sandbox-teardown-failed');
      expect(f.map((x) => x.title)).toEqual([`kubelet failed to tear down the network of sandbox ${SANDBOX.slice(0, 12)} (pod shop/web-7d4b9c-x2k8q) (14 times)`]);
      expect(f[0].detail).toContain('The error says the plugin could not reach the service it keeps its state in');
      expect(a.diagnostics.some((d) => d.level === 'info' && /^2 sandbox events of the cluster's \(kubectl get events, kubectl describe pod\) are about nodes other than worker-2\.prod\.example \(worker-5\); not read for this host/.test(d.message))).toBe(true);
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });
  it('reads events.k8s.io/v1 events (regarding, note, deprecatedSource…) and events counted by a series, as core/v1 ones', async () => {
    const core = event({});
    // The same failure as the newer API writes it (`kubectl get events.events.k8s.io -o json`).
    const v1 = {
      apiVersion: 'events.k8s.io/v1',
      kind: 'Event',
      metadata: core.metadata,
      regarding: core.involvedObject,
      reason: core.reason,
      note: core.message,
      type: 'Warning',
      eventTime: null,
      reportingController: 'kubelet',
      reportingInstance: 'worker-2',
      deprecatedSource: { component: 'kubelet', host: 'worker-2' },
      deprecatedFirstTimestamp: core.firstTimestamp,
      deprecatedLastTimestamp: core.lastTimestamp,
      deprecatedCount: 14,
    };
    // Recorded through the newer API, read as core/v1: no first or last timestamp nor count, an eventTime and a series.
    const series = event({ firstTimestamp: null, lastTimestamp: null, count: undefined, source: {}, eventTime: '2024-05-14T09:12:03.000000Z', series: { count: 14, lastObservedTime: '2024-05-14T09:40:41.000000Z' } });
    const read = async (item: unknown, command?: string) => {
      const list = JSON.stringify({ apiVersion: 'v1', kind: 'EventList', items: [item] }, null, 2);
      const { facts, parsers } = await parseText(command ? 'session.log' : 'events.json', command ? `$ ${command}\n${list}\n` : list);
      expect(parsers).toContain('kubectl-events');
      return only(facts, 'sandboxEvent').map((e) => [e.node, e.event, e.sandboxId?.slice(0, 12), e.pod, e.times, e.at]);
    };
    const expected = await read(core);
    expect(expected).toHaveLength(2);
    expect(await read(v1)).toEqual(expected);
    expect(await read(series)).toEqual(expected);
    // `kubectl events` (the newer command) prints the same list.
    expect(await read(core, 'kubectl events -A -o json')).toEqual(expected);
  });
});
