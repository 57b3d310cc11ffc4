// Daemon and plugin logs, on lines quoted verbatim from upstream bug reports (sources in shared/formats 03, 05, 06, 12).
import { describe, expect, it } from 'vitest';
import { parseText } from '../../src/engine/analyse.js';
import { journalMonth, splitLogLine } from '../../src/recognise/logline.js';
import { only } from '../helpers.js';

describe('journald prefixes', () => {
  it('strips short, short-iso, localised and host-less prefixes and keeps unit and pid', () => {
    expect(splitLogLine('Dec 28 00:04:45 node4 kubelet[8024]: E1228 00:04:45.997242    8024 remote_runtime.go:92] x').prefix).toMatchObject({ unit: 'kubelet', pid: 8024, host: 'node4', at: { month: 12, day: 28 } });
    expect(splitLogLine('сеп 26 00:48:39 luboitvbox kubelet[13875]: W0926 00:48:39.928568   13875 cni.go:293] x').prefix).toMatchObject({ unit: 'kubelet', at: { month: 9, day: 26 } });
    expect(splitLogLine('6月 04 00:29:28 10-202-91-13 crio[883769]: time="2024-06-04 00:29:28.046098922+08:00" level=info msg="x"')).toMatchObject({ prefix: { unit: 'crio', at: { month: 6, day: 4 } }, payload: 'time="2024-06-04 00:29:28.046098922+08:00" level=info msg="x"' });
    expect(splitLogLine('sept. 21 00:57:44 etienne-ks141 containerd[929]: time="x"').prefix).toMatchObject({ unit: 'containerd', at: { month: 9 } });
    expect(splitLogLine('Feb 12 19:13:25  kubelet[28371]: W0212 x').prefix).toMatchObject({ unit: 'kubelet', pid: 28371 });
    expect(splitLogLine('Jun  8 22:53:30 atlas-01 dockerd-current: time="x"').prefix).toMatchObject({ unit: 'dockerd-current', pid: undefined });
    expect(splitLogLine('2019-10-02T23:27:34+0000 ip-10-0-60-95 containerd[2639]: time="x"').prefix).toMatchObject({ unit: 'containerd', at: { kind: 'exact', utc: Date.UTC(2019, 9, 2, 23, 27, 34) } });
    expect(splitLogLine('1570058854.417871 ip-10-0-60-95 containerd[2639]: time="x"').prefix).toMatchObject({ unit: 'containerd', pid: 2639, at: { kind: 'exact', utc: 1570058854418 } });
    expect(splitLogLine('Thu 2019-10-03 08:12:40 UTC ip-10-0-60-95 kubelet[2783]: E1003 x')).toMatchObject({ payload: 'E1003 x', prefix: { unit: 'kubelet', at: { kind: 'exact', utc: Date.UTC(2019, 9, 3, 8, 12, 40) } } });
    expect(splitLogLine('Thu 2019-10-03 10:12:40 CEST node kubelet[1]: x').prefix?.at).toEqual({ kind: 'local', year: 2019, month: 10, day: 3, hour: 10, minute: 12, second: 40, millis: 0 });
    // Bare program lines are not mistaken for prefixes.
    for (const bare of ['2019-02-28T07:08:21Z [verbose] Add: default:pod:net:eth0 {}', '2021-10-27 12:32:05.123 [INFO][1] k8s.go 373: x', 'I0912 17:24:28.106047   15221 plugins.go:405] x', 'level=info msg="New endpoint" subsys=endpoint'])
      expect(splitLogLine(bare)).toEqual({ payload: bare });
    expect([journalMonth('Dec'), journalMonth('сеп'), journalMonth('6月'), journalMonth('sept.'), journalMonth('Okt'), journalMonth('xyz')]).toEqual([12, 9, 6, 9, 10, 0]);
  });

  it('keeps the milliseconds of -o short-precise and short-full with a fraction', () => {
    expect(splitLogLine('Dec 02 20:00:03.918273 aks-node containerd[1187]: x').prefix?.at).toEqual({ kind: 'local', month: 12, day: 2, hour: 20, minute: 0, second: 3, millis: 918 });
    expect(splitLogLine('Dec 02 20:00:03.9 aks-node containerd[1187]: x').prefix).toMatchObject({ unit: 'containerd', pid: 1187, at: { millis: 900 } });
    expect(splitLogLine('Mon 2024-12-02 20:00:03.918273 UTC aks-node containerd[1187]: x').prefix?.at).toEqual({ kind: 'exact', utc: Date.UTC(2024, 11, 2, 20, 0, 3, 918) });
    expect(splitLogLine('Mon 2024-12-02 21:00:03.05 CET aks-node kubelet[9]: x').prefix).toMatchObject({ unit: 'kubelet', pid: 9, at: { kind: 'local', hour: 21, millis: 50 } });
  });

  it('reads journalctl -o json lines, MESSAGE as text or as bytes', () => {
    const l = splitLogLine(JSON.stringify({ __REALTIME_TIMESTAMP: '1570058854417871', SYSLOG_IDENTIFIER: 'containerd', _PID: '2639', MESSAGE: 'time="x" level=info msg="y"' }));
    expect(l).toMatchObject({ payload: 'time="x" level=info msg="y"', prefix: { unit: 'containerd', pid: 2639, at: { kind: 'exact', utc: 1570058854417 } } });
    expect(splitLogLine(JSON.stringify({ MESSAGE: [104, 105], _COMM: 'kubelet' })).payload).toBe('hi');
  });
});

describe('kubelet', () => {
  it('turns teardown failures into sandbox events with sandbox, pod, netns path and error (k8s#57465, #64940, kubeadm#587)', async () => {
    const text = [
      'E1220 15:42:09.401448    1396 cni.go:278] Error deleting network: failed to Statfs "/proc/115577/ns/net": no such file or directory',
      'E1220 15:42:09.554117    1396 remote_runtime.go:109] StopPodSandbox "159b8a23dccc9a3e8747309b4ba0e968493cc216197dc44046ff0e688989074e" from runtime service failed: rpc error: code = 2 desc = NetworkPlugin cni failed to teardown pod "my-cron-pz1b7_mynamespace" network: failed to Statfs "/proc/115577/ns/net": no such file or directory',
      'Jun  8 22:53:30 atlas-01 kubelet: E0608 22:53:30.195821    7906 kuberuntime_gc.go:153] Failed to stop sandbox "636f41863b1e9b0da2c3a72bbe55f937f71197a20253fd1c6128019403e1ad3a" before removing: rpc error: code = Unknown desc = NetworkPlugin cni failed to teardown pod "es-master-7fb4d9447d-bj7z8_jaeger" network: failed to find plugin "flannel" in path [/opt/flannel/bin /opt/cni/bin]',
      'Dec 28 00:04:45 node4 kubelet[8024]: E1228 00:04:45.997242    8024 remote_runtime.go:92] RunPodSandbox from runtime service failed: rpc error: code = Unknown desc = NetworkPlugin cni failed to set up pod "nginx-596ddc9cb7-q78q4_default" network: failed to allocate for range 0: no IP addresses available in range set: 10.244.1.1-10.244.1.254',
      'I0912 17:24:28.106566   15221 cni.go:326] Got netns path /proc/16933/ns/net',
    ].join('\n');
    const { facts, parsers } = await parseText('var/log/kubelet.log', text);
    expect(parsers).toContain('kubelet-log');
    const ev = only(facts, 'sandboxEvent');
    expect(ev.map((e) => [e.event, e.sandboxId?.slice(0, 12), e.pod, e.podNamespace, e.netnsPath])).toEqual([
      ['teardown-failed', undefined, undefined, undefined, '/proc/115577/ns/net'],
      ['teardown-failed', '159b8a23dccc', 'my-cron-pz1b7', 'mynamespace', '/proc/115577/ns/net'],
      ['teardown-failed', '636f41863b1e', 'es-master-7fb4d9447d-bj7z8', 'jaeger', undefined],
      ['add-failed', undefined, 'nginx-596ddc9cb7-q78q4', 'default', undefined],
    ]);
    expect(ev[2].err).toBe('NetworkPlugin cni failed to teardown pod "es-master-7fb4d9447d-bj7z8_jaeger" network: failed to find plugin "flannel" in path [/opt/flannel/bin /opt/cni/bin]');
    expect(ev[3].err).toMatch(/no IP addresses available in range set: 10\.244\.1\.1-10\.244\.1\.254$/);
    expect(ev[0].at).toMatchObject({ kind: 'local', month: 12, day: 20, hour: 15, minute: 42, second: 9 });
  });

  it('reads klog structured lines', async () => {
    const { facts } = await parseText('kubelet.log', 'E0922 01:07:22.941363     315 log.go:32] "RunPodSandbox from runtime service failed" err="rpc error: code = Unknown desc = failed to setup network for sandbox \\"c4c57d0123456789abcdef0123456789abcdef0123456789abcdef0123456789\\": cni plugin not initialized"\n');
    const [e] = only(facts, 'sandboxEvent');
    expect(e).toMatchObject({ event: 'add-failed', sandboxId: 'c4c57d0123456789abcdef0123456789abcdef0123456789abcdef0123456789' });
    expect(e.err).toMatch(/cni plugin not initialized$/);
  });
});

describe('containerd and CRI-O', () => {
  it('reads the TTY form and the journald form, escaped or bare inner quotes (containerd#6704, bottlerocket#359, containerd#3667)', async () => {
    const text = [
      'INFO[2022-03-21T12:38:02.420932643+08:00] RunPodSandbox for &PodSandboxMetadata{Name:kube-controller-manager-fedora,Uid:3aaf7f0674570fa1fd7cb4e72be2aa72,Namespace:kube-system,Attempt:0,} returns sandbox id "d7149696f57ebc3f7cabaf3942aca7c0b4b639e29e30bc2e90e97457a84e2060"',
      'INFO[2022-03-21T12:38:16.934826056+08:00] TearDown network for sandbox "c032ad745f82906353acc368b3c5c631682b0f7b3fe97769e1258fa335e445ac" successfully',
      'Oct 02 23:27:34 ip-10-0-60-95.us-west-2.compute.internal containerd[2639]: time="2019-10-02T23:27:34.439359450Z" level=error msg="StopPodSandbox for "cae59246074a27247c54d43ffd3f68be61121bcc741133b940e7188002e34f60" failed" error="failed to destroy network for sandbox "cae59246074a27247c54d43ffd3f68be61121bcc741133b940e7188002e34f60": del cmd: failed to process delete request"',
      'sept. 21 00:57:44 etienne-ks141 containerd[929]: time="2019-09-21T00:57:44.921651140Z" level=error msg="PodSandboxStatus for \\"6dffd308312e2e293b89f19d5fc6c3c8fdfe74eb3e6e7bdc328f4879e42e2a0c\\" failed" error="failed to get sandbox ip: check network namespace closed: remove netns: remove /var/run/netns/cni-3276e31b-c2af-4840-abce-a9d3e8d061b4: device or resource busy"',
    ].join('\n');
    const { facts } = await parseText('containerd.log', text);
    const ev = only(facts, 'sandboxEvent');
    expect(ev.map((e) => [e.daemon, e.event, e.sandboxId?.slice(0, 12), e.pod])).toEqual([
      ['containerd', 'run', 'd7149696f57e', 'kube-controller-manager-fedora'],
      ['containerd', 'teardown-ok', 'c032ad745f82', undefined],
      ['containerd', 'teardown-failed', 'cae59246074a', undefined],
      ['containerd', 'teardown-failed', '6dffd308312e', undefined],
    ]);
    expect(ev[0].at).toEqual({ kind: 'exact', utc: Date.parse('2022-03-21T12:38:02.420932643+08:00') });
    expect(ev[2].err).toBe('failed to destroy network for sandbox "cae59246074a27247c54d43ffd3f68be61121bcc741133b940e7188002e34f60": del cmd: failed to process delete request');
    expect(ev[3].netnsPath).toBe('/var/run/netns/cni-3276e31b-c2af-4840-abce-a9d3e8d061b4');
  });

  it('reads CRI-O sandbox runs and the netns each one uses (cri-o#8250)', async () => {
    const text = [
      '6月 04 00:29:28 10-202-91-13 crio[883769]: time="2024-06-04 00:29:28.046098922+08:00" level=info msg="Ran pod sandbox e24892f993e7128e38039fcc4eaa3c5308bc8de63606321694410c60c97f0596 with infra container: default/example-pod-2/POD" id=b8e28795-0a42-4b11-92ef-1117659ba10d name=/runtime.v1.RuntimeService/RunPodSandbox',
      '6月 04 00:29:29 10-202-91-13 crio[883769]: time="2024-06-04 00:29:29.641156940+08:00" level=info msg="Got pod network &{Name:example-pod-2 Namespace:default ID:e24892f993e7128e38039fcc4eaa3c5308bc8de63606321694410c60c97f0596 UID:994dee55-3502-4e37-bc05-5508d17d9623 NetNS:/var/run/netns/2a092989-6f64-4426-b449-a5d3048329ae Networks:[{Name:crio Ifname:eth0}] RuntimeConfig:map[crio:{IP: MAC: PortMappings:[] Bandwidth:<nil> IpRanges:[] CgroupPath: PodAnnotations:0xc001486058}] Aliases:map[]}"',
    ].join('\n');
    const { facts, parsers } = await parseText('journal.txt', text);
    expect(parsers).toEqual(['crio-log']);
    const ev = only(facts, 'sandboxEvent');
    expect(ev.map((e) => [e.daemon, e.event, e.pod, e.podNamespace, e.netnsPath])).toEqual([
      ['crio', 'run', 'example-pod-2', 'default', undefined],
      ['crio', 'netns', 'example-pod-2', 'default', '/var/run/netns/2a092989-6f64-4426-b449-a5d3048329ae'],
    ]);
    expect(ev[0].at).toEqual({ kind: 'exact', utc: Date.parse('2024-06-04T00:29:28.046098922+08:00') });
  });

  it('a mixed journal: each program reads its own lines, dockerd does not claim containerd\'s errors', async () => {
    const text = [
      'Jun  8 22:53:30 atlas-01 dockerd-current: time="2018-06-08T22:53:30.195593926-07:00" level=error msg="Handler for POST /v1.26/containers/636f41863b1e9b0da2c3a72bbe55f937f71197a20253fd1c6128019403e1ad3a/stop returned error: Container 636f41863b1e9b0da2c3a72bbe55f937f71197a20253fd1c6128019403e1ad3a is already stopped"',
      'Oct 13 19:57:27 node-6 containerd: time="2020-10-13T19:57:27.000650503+08:00" level=error msg="Failed to destroy network for sandbox \\"48579e8be48f4e17144c81e6750947513bd790985c3513a78a84d3569d94b33c\\"" error="delegateDel: error invoking ConflistDel - \\"cni0\\": conflistDel: error in getting result from DelNetworkList"',
      'Jun  8 22:53:30 atlas-01 kubelet: W0608 22:53:30.197413    7906 cni.go:242] CNI failed to retrieve network namespace path: cannot find network namespace for the terminated container "636f41863b1e9b0da2c3a72bbe55f937f71197a20253fd1c6128019403e1ad3a"',
    ].join('\n');
    const { facts, parsers } = await parseText('messages', text);
    expect(parsers.sort()).toEqual(['containerd-log', 'dockerd-log', 'kubelet-log']);
    expect(only(facts, 'logEvent').map((e) => e.daemon + ':' + e.message.slice(0, 20))).toEqual(['dockerd:Handler for POST /v1']);
    expect(only(facts, 'sandboxEvent').map((e) => [e.daemon, e.event, e.sandboxId?.slice(0, 12)])).toEqual([
      ['containerd', 'teardown-failed', '48579e8be48f'],
      ['kubelet', 'stop', '636f41863b1e'],
    ]);
  });
});

describe('years', () => {
  it('a journal\'s year-less kubelet lines take the year of the latest full date in the file, the next one after New Year (bottlerocket#359)', async () => {
    const text = [
      'Oct 02 23:27:34 ip-10-0-60-95.us-west-2.compute.internal containerd[2639]: time="2019-10-02T23:27:34.439359450Z" level=error msg="StopPodSandbox for \\"cae59246074a27247c54d43ffd3f68be61121bcc741133b940e7188002e34f60\\" failed" error="failed to destroy network for sandbox \\"cae59246074a27247c54d43ffd3f68be61121bcc741133b940e7188002e34f60\\": del cmd: failed to process delete request"',
      'Oct 02 23:27:34 ip-10-0-60-95.us-west-2.compute.internal kubelet[2783]: E1002 23:27:34.439481    2783 remote_runtime.go:132] StopPodSandbox "cae59246074a27247c54d43ffd3f68be61121bcc741133b940e7188002e34f60" from runtime service failed: rpc error: code = Unknown desc = failed to destroy network for sandbox "cae59246074a27247c54d43ffd3f68be61121bcc741133b940e7188002e34f60": del cmd: failed to process delete request',
      'Jan 01 00:00:05 ip-10-0-60-95.us-west-2.compute.internal kubelet[2783]: E0101 00:00:05.000000    2783 kuberuntime_gc.go:169] Failed to stop sandbox "cae59246074a27247c54d43ffd3f68be61121bcc741133b940e7188002e34f60" before removing: rpc error: code = Unknown desc = x',
    ].join('\n');
    const { facts } = await parseText('messages', text);
    const kubelet = only(facts, 'sandboxEvent').filter((e) => e.daemon === 'kubelet');
    expect(kubelet.map((e) => e.at)).toMatchObject([{ kind: 'local', year: 2019, month: 10 }, { kind: 'local', year: 2020, month: 1 }]);
  });
});

describe('journalctl -o json', () => {
  it('reads dockerd and containerd lines out of a JSON export, with journald\'s time where the program gives none', async () => {
    const line = (o: object) => JSON.stringify(o);
    const text = [
      line({ __REALTIME_TIMESTAMP: '1695289641037908', _HOSTNAME: 'homeassistant', SYSLOG_IDENTIFIER: 'dockerd', _PID: '222952', MESSAGE: 'time="2023-09-21T09:47:21.037908669Z" level=error msg="Handler for DELETE /v1.42/containers/8633774e12f241dc2caf972676547e12ec7eced697a6c98e2aea00a35f5527bc returned error: container 8633774e12f2: driver \\"overlay2\\" failed to remove root filesystem: unlinkat /mnt/data/docker/overlay2/1fb259d0606f/merged: device or resource busy"' }),
      line({ __REALTIME_TIMESTAMP: '1647837496934826', SYSLOG_IDENTIFIER: 'containerd', _PID: '712', MESSAGE: 'time="2022-03-21T04:38:16.934826056Z" level=info msg="TearDown network for sandbox \\"c032ad745f82906353acc368b3c5c631682b0f7b3fe97769e1258fa335e445ac\\" successfully"' }),
    ].join('\n');
    const { facts } = await parseText('journal.json', text);
    expect(only(facts, 'logEvent').map((e) => [e.daemon, e.event, e.containerId?.slice(0, 12)])).toEqual([['dockerd', 'error', '8633774e12f2']]);
    expect(only(facts, 'sandboxEvent').map((e) => [e.daemon, e.event, e.sandboxId?.slice(0, 12)])).toEqual([['containerd', 'teardown-ok', 'c032ad745f82']]);
  });
});

describe('CNI plugin logs', () => {
  it('Calico: IPs per container, teardown, errors; new format bare and under a runtime\'s journald prefix (calico#5093, #6183, #1964)', async () => {
    const text = [
      '2021-10-27 12:32:05.123 [INFO][2659767] k8s.go 373: Calico CNI using IPs: [172.29.168.137/32] ContainerID="1022b90629c7c0d92f57bd3d8f6c696c9799611bd6293aeac9199f6c4a2f1002" Namespace="userz" Pod="zyk-3-redis-master-0" WorkloadEndpoint="dce--10--23--20--156-k8s-zyk--3--redis--master--0-eth0"',
      '2022-06-03 00:57:27.114 [INFO][10100] k8s.go 582: Teardown processing complete. ContainerID="a2e6d984a2dc2b0c3a53d208a10ef45031528c76e8a3cbb8a27cbfe1596279a4"',
      'May 07 15:39:01 az04.wjs.lab.com kubelet-wrapper[14586]: 2018-05-07 00:39:00.914 [INFO][30024] utils.go 379: Configured environment: [PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin CNI_COMMAND=DEL CNI_CONTAINERID=2c579536d0407c4d5e8298cfe4596173fd594487a6e37a6d9f47b0af02583437 CNI_NETNS=/proc/24288/ns/net CNI_ARGS=IgnoreUnknown=1;IgnoreUnknown=1;K8S_POD_NAMESPACE=default;K8S_POD_NAME=busybox]',
      'May 07 15:39:01 az04.wjs.lab.com kubelet-wrapper[14586]: 2018-05-07 00:39:01.001 [ERROR][30024] k8s.go 400: Failed to release IP ContainerID="2c579536d0407c4d5e8298cfe4596173fd594487a6e37a6d9f47b0af02583437" error="connection refused"',
    ].join('\n');
    const { facts, diagnostics } = await parseText('var/log/calico/cni/cni.log', text);
    const ops = only(facts, 'cniOp');
    expect(ops.map((o) => [o.op, o.containerId.slice(0, 12), o.ips, o.pod, o.podNamespace, o.netnsPath, o.err])).toEqual([
      ['ADD', '1022b90629c7', ['172.29.168.137'], 'zyk-3-redis-master-0', 'userz', undefined, undefined],
      ['DEL', 'a2e6d984a2dc', [], undefined, undefined, undefined, undefined],
      ['DEL', '2c579536d040', [], 'busybox', 'default', '/proc/24288/ns/net', 'Failed to release IP: connection refused'],
    ]);
    expect(ops[0].at).toMatchObject({ kind: 'local', year: 2021, month: 10, day: 27, hour: 12, minute: 32, second: 5, millis: 123 });
    // journald says 15:39, Calico 00:39: the program's own time is kept, and the report says so once.
    expect(ops[2].at).toMatchObject({ hour: 0, minute: 39 });
    expect(diagnostics.filter((d) => /differ by 15 h/.test(d.message))).toHaveLength(1);
  });

  it('multus: Add/Del before and after v3.4.2 joined to the request\'s container id (multus PR #275, #403, 2025 thick plugin)', async () => {
    const text = [
      '2019-11-08T18:47:06-08:00 [debug] cmdAdd: &{9ca905eb2de594629bb2fd8b53a1e19d1e4b12838aaf27c766a48030857b2c7f /proc/597/ns/net eth0 IgnoreUnknown=1;K8S_POD_NAMESPACE=default;K8S_POD_NAME=pod-case-01;K8S_POD_INFRA_CONTAINER_ID=9ca905eb2de594629bb2fd8b53a1e19d1e4b12838aaf27c766a48030857b2c7f /opt/cni/bin [123 34 98',
      '2019-02-28T07:08:22Z [verbose] Add: default:pod-case-01:vlan-conf-1-1:net1 {"cniVersion":"0.3.0","interfaces":[{"name":"net1","mac":"52:54:00:12:5b:4e","sandbox":"/proc/23187/ns/net"}],"ips":[{"version":"4","interface":0,"address":"172.16.1.101/24"}],"dns":{}}',
      '2019-02-28T07:09:50Z [verbose] Del: default:pod-case-01:vlan-conf-1-1:net1 {"cniVersion":"0.3.0","ipam":{"addresses":[{"address":"172.16.1.101/24"}],"type":"static"},"master":"eth1","name":"vlan-conf-1-1","type":"vlan","vlanid":1}',
      '2025-04-19T19:19:58Z [verbose] ADD starting CNI request ContainerID:"663af540f32650814f06579e37f2a59505d8285ff4beb60f2ae905a5cbf4ec30" Netns:"/var/run/netns/42c19e0e-af60-4d5b-8714-9c446ab8ac83" IfName:"eth0" Args:"IgnoreUnknown=1;K8S_POD_NAMESPACE=demo-udn-2;K8S_POD_NAME=virt-launcher-fedora-black-elephant-21-msldg;K8S_POD_INFRA_CONTAINER_ID=663af540f32650814f06579e37f2a59505d8285ff4beb60f2ae905a"',
      '2025-04-19T19:19:59Z [verbose] Add: demo-udn-2:virt-launcher-fedora-black-elephant-21-msldg:526e5f4e-f646-4aec-b3f6-1f9ccc33f330:ovn-kubernetes(ovn-kubernetes):eth0 {"cniVersion":"0.4.0","interfaces":[{"name":"663af540f326508","mac":"f6:f5:bc:30:ee:d3"},{"name":"eth0","mac":"0a:58:0a:80:00:ba","sandbox":"/var/run/netns/42c19e0e-af60-4d5b-8714-9c446ab8ac83"}],"ips":[{"version":"4","interface":1,"address":"10.128.0.186/23"}]}',
      '2019-02-28T07:08:21Z [verbose] Add: other:unknown-pod:net:eth0 {"ips":[{"address":"10.9.9.9/24"}]}',
    ].join('\n');
    const { facts } = await parseText('var/log/multus.log', text);
    expect(only(facts, 'cniOp').map((o) => [o.op, o.containerId.slice(0, 12), o.ips, o.pod, o.netnsPath])).toEqual([
      ['ADD', '9ca905eb2de5', ['172.16.1.101'], 'pod-case-01', '/proc/23187/ns/net'],
      ['DEL', '9ca905eb2de5', [], 'pod-case-01', '/proc/597/ns/net'],
      ['ADD', '663af540f326', ['10.128.0.186'], 'virt-launcher-fedora-black-elephant-21-msldg', '/var/run/netns/42c19e0e-af60-4d5b-8714-9c446ab8ac83'],
    ]);
  });

  it('Cilium CNI: DEL requests with netns and pod; other subsystems ignored (cilium PR #31686)', async () => {
    const text = [
      'time="2024-03-30T03:44:04Z" level=debug msg="Processing CNI DEL request &skel.CmdArgs{ContainerID:\\"46885c8d75614f3f4cccb7431960d333843659269512dbbac645ff3ceccf638b\\", Netns:\\"/var/run/netns/cni-3821158e-66fd-6d5c-6b30-572f23a2d5f5\\", IfName:\\"eth0\\", Args:\\"K8S_POD_UID=44083a1a;IgnoreUnknown=1;K8S_POD_NAMESPACE=default;K8S_POD_NAME=hello-t16-01-j06-28529503-85cxv;K8S_POD_INFRA_CONTAINER_ID=46885c8d\\", Path:\\"/opt/cni/bin\\", StdinData:[]uint8{0x7b}}" subsys=cilium-cni',
      'time="2024-03-30T03:44:04Z" level=warning msg="Errors encountered while deleting endpoint" containerID=602c74abc749a26ea7cf68316ea42bb94e0018d243a67d4144754b7b461e9244 error="[DELETE /endpoint][404] deleteEndpointNotFound " eventUUID=ed588318-8a35-49e5-a24b-1f5e061dc6aa subsys=cilium-cni',
    ].join('\n');
    const { facts, parsers } = await parseText('var/run/cilium/cilium-cni.log', text);
    expect(parsers).toEqual(['cilium-cni-log']);
    expect(only(facts, 'cniOp').map((o) => [o.op, o.containerId.slice(0, 12), o.netnsPath, o.pod, o.podNamespace])).toEqual([
      ['DEL', '46885c8d7561', '/var/run/netns/cni-3821158e-66fd-6d5c-6b30-572f23a2d5f5', 'hello-t16-01-j06-28529503-85cxv', 'default'],
    ]);
    expect(only(facts, 'logEvent')).toEqual([]);
  });
});

describe('Amazon VPC CNI plugin.log', () => {
  const A = '6397e269c6b847d56d8d99b0a423bb50444f861fe68fff9a6773f70467dc1cdc';
  const B = 'd78e79e2f3c65976885cf228da933b8d35471497f1bdfacbff8d24644f175222';
  const C = '401bc7b65225585f61faa3c078f45c5abc7479f4f3fa442e74214a30c4f8a0e4';
  const zap = (ts: string, msg: string, level = 'info') => JSON.stringify({ level, ts, caller: 'routed-eni-cni-plugin/cni.go:125', msg });
  const request = (op: string, id: string, netns: string, pod: string) =>
    `Received CNI ${op} request: ContainerID(${id}) Netns(${netns}) IfName(eth0) Args(IgnoreUnknown=1;K8S_POD_NAMESPACE=shop;K8S_POD_NAME=${pod};K8S_POD_INFRA_CONTAINER_ID=${id}) Path(/opt/cni/bin) argsStdinData({"cniVersion":"0.4.0","name":"aws-cni","type":"aws-cni","vethPrefix":"eni"})`;
  const log = [
    zap('2024-03-10T17:25:08.487Z', request('add', A, '/var/run/netns/cni-eaf6f3e4', 'web-1')),
    zap('2024-03-10T17:25:08.487Z', 'Prev Result: <nil>\n', 'debug'),
    zap('2024-03-10T17:25:08.499Z', `Received add network response from ipamd for container ${A} interface eth0: Success:true IPv4Addr:"10.0.1.186" VPCv4CIDRs:"10.0.0.0/16" `),
    zap('2024-03-10T18:00:00.100Z', request('del', A, '/var/run/netns/cni-eaf6f3e4', 'web-1')),
    zap('2024-03-10T18:00:00.200Z', `Received del network response for pod web-1 namespace shop sandbox ${A}: Success:true IPv4Addr:"10.0.1.186" `),
    zap('2024-03-10T18:00:01.000Z', request('add', B, '/var/run/netns/cni-a1e04c19', 'web-2')),
    zap('2024-03-10T18:00:01.200Z', `Received add network response from ipamd for container ${B} interface eth0: Success:true IPv4Addr:"10.0.1.186" DeviceNumber:2 `),
    '2019-03-12T20:40:42Z [INFO] ' + request('del', C, '', 'ingress-1'),
    `2019-03-12T20:40:42Z [ERROR] Failed to process delete request for pod ingress-1 namespace kube-ingress container ${C}: <nil>`,
  ].join('\n');

  it('joins each request to ipamd\'s reply: the address, the netns, the pod; and a failed DEL', async () => {
    const ops = only((await parseText('var/log/aws-routed-eni/plugin.log', `${log}\n`)).facts, 'cniOp');
    expect(ops.map((o) => [o.op, o.containerId.slice(0, 4), o.ips, o.netnsPath, o.pod, o.podNamespace, o.err, o.ev.line])).toEqual([
      ['ADD', '6397', ['10.0.1.186'], '/var/run/netns/cni-eaf6f3e4', 'web-1', 'shop', undefined, 3],
      ['DEL', '6397', [], '/var/run/netns/cni-eaf6f3e4', 'web-1', 'shop', undefined, 5],
      ['ADD', 'd78e', ['10.0.1.186'], '/var/run/netns/cni-a1e04c19', 'web-2', 'shop', undefined, 7],
      ['DEL', '401b', [], undefined, 'ingress-1', 'shop', 'ipamd returned no success', 9],
    ]);
    expect(ops[0].at).toEqual({ kind: 'exact', utc: Date.parse('2024-03-10T17:25:08.499Z') });
  });

  it('tells who last held an address, whatever the file is called', async () => {
    const { analyseHosts } = await import('../helpers.js');
    const a = await analyseHosts({ h: { 'plugin.log.2024-03-10-18': `${log}\n` } });
    const holder = a.findings.find((f) => f.rule === 'ip-last-holder' && f.ips[0] === '10.0.1.186');
    expect(holder?.title).toMatch(/^10\.0\.1\.186 is held by d78e79e2f3c6 \(pod shop\/web-2\)/);
    expect(holder?.detail).toMatch(/Earlier holders, most recent first: 6397e269c6b8 \(pod shop\/web-1\), state unknown, CNI ADD at .*, released at /);
  });
});

describe('Azure CNI azure-vnet.log', () => {
  // Lines as AKS nodes write them (Azure/azure-container-networking cni/network/network.go; a 2024 AKS node's log quoted
  // in a bug report): the text logger before 2023 and on older releases, zap JSON since.
  const A = 'd3fd815826ae0dfd564d257a17c19ff5c6601f4b0638874393321b0e0c666e1a';
  const B = 'ee86fb8be61987b83e1da1338b09fc0a83dcd12f9754455e668b16dc98f20f48';
  const C = '0ffde0741e3e96ac0394991ae0fa86f01ffdcb39acdd0877c04843de7a8f7a6d';
  const netns = (k: string) => `/var/run/netns/cni-${k}-ae7f-ca68-274b-8f3259a70896`;
  const args = (pod: string, id: string) => `IgnoreUnknown=1;K8S_POD_NAMESPACE=shop;K8S_POD_NAME=${pod};K8S_POD_INFRA_CONTAINER_ID=${id};K8S_POD_UID=d02bf488-3589-4d20-9dcf-5aee17dac3a7`;
  const stdin = '{"cniVersion":"0.3.0","ipam":{"type":"azure-vnet-ipam"},"ipsToRouteViaHost":["169.254.20.10"],"mode":"transparent","name":"azure","type":"azure-vnet"}';
  const text = [
    `2024/12/02 18:32:16 [5205] [cni-net] Processing ADD command with args {ContainerID:${A} Netns:${netns('2474')} IfName:eth0 Args:${args('web-1', A)} Path:/opt/cni/bin StdinData:${stdin}}.`,
    // another invocation runs meanwhile: lines are joined by pid, not by order
    `2024/12/02 18:32:16 [5230] [cni-net] Processing DEL command with args {ContainerID:${C} Netns: IfName:eth0 Args:${args('old-0', C)} Path:/opt/cni/bin, StdinData:${stdin}}.`,
    '2024/12/02 18:32:17 [5205] [cni] Plugin azure-vnet-ipam returned result:&{CNIVersion:1.0.0 Interfaces:[] IPs:[{Interface:<nil> Address:{IP:10.224.0.39 Mask:ffff0000} Gateway:10.224.0.1}] Routes:[{Dst:{IP:0.0.0.0 Mask:00000000} GW:10.224.0.1}] DNS:{Nameservers:[168.63.129.16] Domain: Search:[] Options:[]}}, err:<nil>.',
    '2024/12/02 18:32:17 [5223] [cni-ipam] ADD command completed with result:&{CNIVersion:1.0.0 Interfaces:[] IPs:[{Interface:<nil> Address:{IP:10.224.0.77 Mask:ffff0000} Gateway:10.224.0.1}]} err:<nil>.',
    '2024/12/02 18:32:17 [5205] [cni-net] ADD command completed for pod web-1 with IPs:[{Interface:<nil> Address:{IP:10.224.0.39 Mask:ffff0000} Gateway:10.224.0.1}] err:<nil>.',
    '2024/12/02 18:32:18 [5230] [cni-net] DEL command completed for pod old-0 with err:Failed to delete endpoint: netlink: no such file or directory.',
    `2024/12/02 19:00:00 [6120] [cni-net] Processing DEL command with args {ContainerID:${A} Netns:${netns('2474')} IfName:eth0 Args:${args('web-1', A)} Path:/opt/cni/bin, StdinData:${stdin}}.`,
    '2024/12/02 19:00:01 [6120] [cni-net] DEL command completed for pod web-1 with err:<nil>.',
    // an older release prints the whole result; its routes hold addresses too
    `2024/12/02 19:00:05 [6200] [cni-net] Processing ADD command with args {ContainerID:${B} Netns:${netns('1770')} IfName:eth0 Args:${args('web-2', B)} Path:/opt/cni/bin StdinData:${stdin}}.`,
    '2024/12/02 19:00:06 [6200] [cni-net] ADD command completed for pod web-2 with result:&{CNIVersion:0.3.0 Interfaces:[{Name:eth0 Mac: Sandbox:}] IPs:[{Version:4 Interface:<nil> Address:{IP:10.224.0.39 Mask:ffff0000} Gateway:10.224.0.1}] Routes:[{Dst:{IP:0.0.0.0 Mask:00000000} GW:10.224.0.1}] DNS:{Nameservers:[168.63.129.16] Domain: Search:[] Options:[]}} err:<nil>.',
    // a failed ADD holds no address, whatever the result printed
    `2024/12/02 19:10:00 [6300] [cni-net] Processing ADD command with args {ContainerID:${C} Netns:${netns('9999')} IfName:eth0 Args:${args('web-3', C)} Path:/opt/cni/bin StdinData:${stdin}}.`,
    '2024/12/02 19:10:01 [6300] [cni-net] ADD command completed for pod web-3 with IPs:[{Interface:<nil> Address:{IP:10.224.0.40 Mask:ffff0000} Gateway:10.224.0.1}] err:Failed to create endpoint: timed out.',
  ].join('\n');

  it('joins each request to its completion by pid: the address, the netns, the pod, the error', async () => {
    const { facts, parsers } = await parseText('var/log/azure-vnet.log', `${text}\n`);
    expect(parsers).toEqual(['azure-cni-log']);
    const ops = only(facts, 'cniOp');
    expect(ops.map((o) => [o.op, o.containerId.slice(0, 4), o.ips, o.netnsPath, o.pod, o.podNamespace, o.err, o.ev.line])).toEqual([
      ['ADD', 'd3fd', ['10.224.0.39'], netns('2474'), 'web-1', 'shop', undefined, 5],
      ['DEL', '0ffd', [], undefined, 'old-0', 'shop', 'Failed to delete endpoint: netlink: no such file or directory', 6],
      ['DEL', 'd3fd', [], netns('2474'), 'web-1', 'shop', undefined, 8],
      ['ADD', 'ee86', ['10.224.0.39'], netns('1770'), 'web-2', 'shop', undefined, 10],
      ['ADD', '0ffd', [], netns('9999'), 'web-3', 'shop', 'Failed to create endpoint: timed out', 12],
    ]);
    expect(ops[0].at).toEqual({ kind: 'local', year: 2024, month: 12, day: 2, hour: 18, minute: 32, second: 17, millis: 0 });
  });

  it('reads the zap JSON lines of newer releases', async () => {
    const zap = (o: object) => JSON.stringify({ level: 'info', ...o });
    const log = [
      zap({ ts: '2023-08-15T20:44:48.779Z', msg: '[cni-net] Processing ADD command', pid: 3139991, component: 'cni', containerId: A, netNS: netns('55d0'), ifName: 'eth0', args: args('web-1', A), path: '/opt/cni/bin', stdinData: stdin }),
      zap({ ts: '2023-08-15T20:44:48.780Z', msg: '[cni-net] Found network with subnet', pid: 3139991, component: 'cni', network: 'azure', subnet: '10.244.0.0/16' }),
      zap({ ts: '2023-08-15T20:44:49.001Z', msg: 'ADD command completed for', pid: 3139991, pod: 'web-1', IPs: [{ interface: 0, address: '10.244.0.9/16', gateway: '10.244.0.1' }] }),
      zap({ ts: '2023-08-15T21:00:00.000Z', msg: 'Processing DEL command', pid: 3140500, containerId: A, netNS: netns('55d0'), ifName: 'eth0', args: args('web-1', A), path: '/opt/cni/bin', stdinData: stdin }),
      zap({ ts: '2023-08-15T21:00:00.500Z', msg: 'DEL command completed', pid: 3140500, pod: 'web-1', error: 'failed to delete endpoint: netns gone' }),
      zap({ ts: '2023-08-15T21:00:05.000Z', msg: 'Processing ADD command', pid: 3140600, containerId: B, netNS: netns('1770'), args: args('web-2', B) }),
      zap({ ts: '2023-08-15T21:00:05.300Z', msg: 'ADD command completed for', pid: 3140600, pod: 'web-2', IPs: [{ Address: { IP: '10.244.0.9', Mask: '//8AAA==' }, Gateway: '10.244.0.1' }] }),
    ].join('\n');
    const ops = only((await parseText('azure-vnet.log.1', `${log}\n`)).facts, 'cniOp');
    expect(ops.map((o) => [o.op, o.containerId.slice(0, 4), o.ips, o.pod, o.err])).toEqual([
      ['ADD', 'd3fd', ['10.244.0.9'], 'web-1', undefined],
      ['DEL', 'd3fd', [], 'web-1', 'failed to delete endpoint: netns gone'],
      ['ADD', 'ee86', ['10.244.0.9'], 'web-2', undefined],
    ]);
    expect(ops[0].at).toEqual({ kind: 'exact', utc: Date.parse('2023-08-15T20:44:49.001Z') });
  });

  it('is recognised by its lines whatever the file is called, and tells who held an address', async () => {
    const { analyseHosts } = await import('../helpers.js');
    const a = await analyseHosts({ h: { 'etc/timezone': 'UTC\n', 'logs/cni-plugin.txt': `${text}\n` } });
    const holder = a.findings.find((f) => f.rule === 'ip-last-holder' && f.ips[0] === '10.224.0.39');
    expect(holder?.title).toMatch(/^10\.224\.0\.39 is held by ee86fb8be619 \(pod shop\/web-2\)/);
    expect(holder?.detail).toMatch(/Earlier holders, most recent first: d3fd815826ae \(pod shop\/web-1\), state unknown, CNI ADD at 2024-12-02 18:32:17.*, released at 2024-12-02 19:00:01/);
    expect(a.findings.some((f) => f.rule === 'cni-del-failed' && f.title.includes('0ffde0741e3e'))).toBe(true);
  });

  it('reads the releases that wrote no pid (2017: Azure/azure-container-networking#76)', async () => {
    const F = 'f363b81299c8676e0e5b491b05e31649d39ebb07b076864b7ace76064e2e300c';
    const log = [
      `2017/09/30 14:20:11 [cni-net] Processing ADD command with args {ContainerID:${F} Netns:/proc/4242/ns/net IfName:eth0 Args:IgnoreUnknown=1;K8S_POD_NAMESPACE=default;K8S_POD_NAME=yyy-1506541740-fms3c;K8S_POD_INFRA_CONTAINER_ID=${F} Path:/opt/azure-vnet/bin:/opt/cni/bin}.`,
      '2017/09/30 14:20:12 [cni-net] ADD command completed with result:&{CNIVersion:0.2.0 Interfaces:[{Name:eth0 Mac: Sandbox:}] IPs:[{Version:4 Interface:<nil> Address:{IP:10.240.0.77 Mask:ffff0000} Gateway:10.240.0.1}] Routes:[{Dst:{IP:0.0.0.0 Mask:00000000} GW:10.240.0.1}] DNS:{Nameservers:[] Domain: Search:[] Options:[]}} err:<nil>.',
      `2017/09/30 14:34:58 [cni-net] Processing DEL command with args {ContainerID:${F} Netns: IfName:eth0 Args:IgnoreUnknown=1;K8S_POD_NAMESPACE=default;K8S_POD_NAME=yyy-1506541740-fms3c;K8S_POD_INFRA_CONTAINER_ID=${F} Path:/opt/azure-vnet/bin:/opt/cni/bin}.`,
      '2017/09/30 14:34:58 [net] Failed to delete veth pair azvethf363b81: route ip+net: no such network interface.',
      '2017/09/30 14:34:58 [cni-net] DEL command completed with err:Failed to delete endpoint: route ip+net: no such network interface.',
    ].join('\n');
    const ops = only((await parseText('var/log/azure-vnet.log', `${log}\n`)).facts, 'cniOp');
    expect(ops.map((o) => [o.op, o.containerId.slice(0, 4), o.ips, o.netnsPath, o.pod, o.err, o.ev.line])).toEqual([
      ['ADD', 'f363', ['10.240.0.77'], '/proc/4242/ns/net', 'yyy-1506541740-fms3c', undefined, 2],
      ['DEL', 'f363', [], undefined, 'yyy-1506541740-fms3c', 'Failed to delete endpoint: route ip+net: no such network interface', 5],
    ]);
  });

  it('reads nothing from a log that only looks alike', async () => {
    const ipam = '2024/12/02 18:32:17 [5223] [cni-ipam] ADD command completed with result:&{IPs:[{Address:{IP:10.224.0.77 Mask:ffff0000}}]} err:<nil>.';
    const orphan = '2024/12/02 18:32:17 [7000] [cni-net] ADD command completed for pod x with IPs:[{Interface:<nil> Address:{IP:10.224.0.78 Mask:ffff0000} Gateway:10.224.0.1}] err:<nil>.';
    const { facts } = await parseText('var/log/azure-vnet.log', `${ipam}\n${orphan}\n`);
    expect(only(facts, 'cniOp')).toEqual([]);
  });
});
