// `kubectl get pods -o wide`: the API server's view of pod IPs, and what the leak rules make of it on the seed incident.
import { cp, mkdtemp, rm, writeFile } from 'node:fs/promises';
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
