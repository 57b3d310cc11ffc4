// systemd's lines about a firewall service: when the rules CNI plugins and netavark added were dropped. Formats from
// systemd's unit job messages (before and after v247 named the unit beside its description) for firewalld, nftables,
// RHEL's iptables-services and Ubuntu's ufw.
import { describe, expect, it } from 'vitest';
import { parseText } from '../../src/engine/analyse.js';
import { analyseHosts, only } from '../helpers.js';

const ID = '536f01e839281baedbdb0664585b2c80fb0d18164b86fc50e687725636f0c51c';
const failure = (time: string) =>
  `${time} vault-1 podman[9120]: time="2020-10-16T10:02:11+02:00" level=error msg="Error deleting network: running [/usr/sbin/iptables -t nat -D POSTROUTING -s 10.88.0.96 -j CNI-f1d9f8791753a895cccae697 -m comment --comment name: \\"podman\\" id: \\"${ID}\\" --wait]: exit status 2: iptables v1.8.4 (nf_tables): Chain 'CNI-f1d9f8791753a895cccae697' does not exist"`;

describe('firewall services in a journal', () => {
  it('reads a reload, start or stop of firewalld, nftables, iptables or ufw by systemd itself, in either wording', async () => {
    const text = [
      '[root@db-edge-03 ~]# journalctl -u firewalld -u nftables -u iptables -u ufw -o short-iso',
      '2026-11-20T14:02:17-0600 db-edge-03 systemd[1]: Reloading firewalld - dynamic firewall daemon...',
      '2026-11-20T14:02:18-0600 db-edge-03 firewalld[812]: WARNING: COMMAND_FAILED: \'/usr/sbin/iptables -w10 -t nat -F NETAVARK-HOSTPORT-DNAT\' failed: iptables: No chain/target/match by that name.',
      '2026-11-20T14:02:18-0600 db-edge-03 systemd[1]: Reloaded firewalld - dynamic firewall daemon.',
      '2026-11-21T09:00:00-0600 db-edge-03 systemd[1]: Reloaded firewalld.service - firewalld - dynamic firewall daemon.',
      '2026-11-21T09:05:00-0600 db-edge-03 systemd[1]: Started nftables.service - nftables.',
      '2026-11-21T09:06:00-0600 db-edge-03 systemd[1]: Started IPv4 firewall with iptables.',
      '2026-11-21T09:07:00-0600 db-edge-03 systemd[1]: Stopped ufw.service - Uncomplicated firewall.',
      '2026-11-21T09:08:00-0600 db-edge-03 systemd[2211]: Reloaded firewalld - dynamic firewall daemon.', // a user's systemd: not the host's
      '2026-11-21T09:09:00-0600 db-edge-03 systemd[1]: Started firewalld-helper.service - some other unit.',
    ].join('\n');
    const { facts } = await parseText('session.log', text);
    expect(only(facts, 'logEvent').filter((e) => e.event === 'firewall').map((e) => [e.daemon, e.message.split(',')[0], e.at])).toEqual([
      ['firewalld', 'reloaded', { kind: 'exact', utc: Date.parse('2026-11-20T14:02:18-06:00') }],
      ['firewalld', 'reloaded', { kind: 'exact', utc: Date.parse('2026-11-21T09:00:00-06:00') }],
      ['nftables', 'started', { kind: 'exact', utc: Date.parse('2026-11-21T09:05:00-06:00') }],
      ['iptables', 'started', { kind: 'exact', utc: Date.parse('2026-11-21T09:06:00-06:00') }],
      ['ufw', 'stopped', { kind: 'exact', utc: Date.parse('2026-11-21T09:07:00-06:00') }],
    ]);
    // Saved without its command, a firewall's own journal is still known by its lines; a journal of other programs too
    // is another parser's, which hands its lines over.
    const own = text.split('\n').slice(1, 4).join('\n');
    expect((await parseText('fw.txt', own)).parsers).toEqual(['firewall-log']);
    const mixed = `${own}\n${failure('2026-11-20T14:10:03-0600')}`;
    const m = await parseText('journal.txt', mixed);
    expect(m.parsers.sort()).toEqual(['firewall-log', 'podman-log']);
    expect(only(m.facts, 'logEvent').filter((e) => e.event === 'firewall')).toHaveLength(1);
  });

  it('a failed teardown whose rules were gone names the reload before it, with its line; not one after it', async () => {
    const date = 'Fri, 16 Oct 2020 11:00:00 +0200\n';
    const before = ['Oct 16 09:55:40 vault-1 systemd[1]: Reloaded firewalld - dynamic firewall daemon.', failure('Oct 16 10:02:11')].join('\n');
    const a = await analyseHosts({ h: { messages: `${before}\n`, 'date-R.txt': date } });
    const [f] = a.findings.filter((x) => x.rule === 'sandbox-teardown-failed');
    // When its network was set up is not known: said as a condition.
    expect(f.detail).toContain('The journal shows firewalld reloaded at 2020-10-16 09:55:40 +02:00, 6 min before the first failure: if its network was set up before then, that is when its rules were dropped.');
    expect(f.evidence[0].text).toBe('Oct 16 09:55:40 vault-1 systemd[1]: Reloaded firewalld - dynamic firewall daemon.');
    expect(a.hosts[0].events.filter((e) => e.kind === 'daemon:firewall').map((e) => e.message)).toEqual(["firewalld: reloaded, dropping the rules other programs added to the kernel's firewall (CNI plugins' chains)"]);
    // Started before the reload (podman inspect says when): said plainly. Started after it: the reload dropped nothing of it.
    const inspect = (started: string) => JSON.stringify([{ Id: ID, Name: 'vault', State: { Status: 'exited', Running: false, Pid: 0, StartedAt: started, FinishedAt: '2020-10-16T10:02:10+02:00' }, OCIRuntime: 'crun', HostConfig: { NetworkMode: 'bridge' }, NetworkSettings: { SandboxKey: '' } }]);
    const early = await analyseHosts({ h: { messages: `${before}\n`, 'date-R.txt': date, 'podman-inspect.json': inspect('2020-10-16T09:50:00+02:00') } });
    expect(early.findings.find((x) => x.rule === 'sandbox-teardown-failed')!.detail).toContain('6 min before the first failure and after its network was set up (2020-10-16 09:50:00 +02:00): that is when its rules were dropped.');
    const late = await analyseHosts({ h: { messages: `${before}\n`, 'date-R.txt': date, 'podman-inspect.json': inspect('2020-10-16T09:58:00+02:00') } });
    expect(late.findings.find((x) => x.rule === 'sandbox-teardown-failed')!.detail).not.toContain('The journal shows');
    // A reload after the failure is not its cause.
    const after = [failure('Oct 16 10:02:11'), 'Oct 16 10:30:00 vault-1 systemd[1]: Reloaded firewalld - dynamic firewall daemon.'].join('\n');
    const b = await analyseHosts({ h: { messages: `${after}\n`, 'date-R.txt': date } });
    expect(b.findings.find((x) => x.rule === 'sandbox-teardown-failed')!.detail).not.toContain('The journal shows');
  });
});
