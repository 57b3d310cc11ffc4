import { logSink, splitLogLine } from '../src/recognise/logline.js';
import { defineParser } from '../src/recognise/parser.js';

// systemd's own lines about a firewall service (in a journal, or syslog's /var/log/messages): a reload, a start or a stop
// rebuilds the kernel's rules from the firewall's own configuration and drops the chains and rules other programs added
// (a CNI plugin's CNI-… chains, netavark's NETAVARK-…), so a teardown after it finds them gone (containers/podman#8048,
// containers/netavark#302). systemd names the unit by its description, and since v247 by its name as well:
//   systemd[1]: Reloaded firewalld - dynamic firewall daemon.
//   systemd[1]: Reloaded firewalld.service - firewalld - dynamic firewall daemon.
//   systemd[1]: Started nftables.service - nftables.   systemd[1]: Started IPv4 firewall with iptables.
//   systemd[1]: Stopped ufw.service - Uncomplicated firewall.
// Only the finished step is read ("Reloaded", not "Reloading…"): that is when the rules were replaced.
const WORDS = ['firewall', 'nftables', 'iptables'];
const STEP = /^(Reloaded|Started|Stopped) (?:(firewalld|nftables|iptables|ip6tables|ufw)\.service - .*|(firewalld - dynamic firewall daemon|nftables|IPv4 firewall with iptables|IPv6 firewall with ip6tables|Uncomplicated firewall))\.?\s*$/;
const NAME_OF: Record<string, string> = {
  'firewalld - dynamic firewall daemon': 'firewalld',
  nftables: 'nftables',
  'IPv4 firewall with iptables': 'iptables',
  'IPv6 firewall with ip6tables': 'ip6tables',
  'Uncomplicated firewall': 'ufw',
};

export default defineParser({
  id: 'firewall-log',
  describe: "systemd's lines about a firewall service in a journal or syslog (firewalld, nftables, iptables, ufw reloaded, started or stopped): when the rules other programs added were dropped",
  collect: 'journalctl -u firewalld -u nftables -u iptables -u ufw --since "7 days ago" -o short-iso   (or /var/log/messages)',
  family: 'log',
  recognise: {
    command: /^journalctl\b.*(?:(?:-u|--unit)[ =](?:firewalld|nftables|iptables|ufw)\b)/,
    // A firewall's own journal (journalctl -u firewalld saved without its command): every line of it is systemd's
    // about the firewall, or the firewall's. A journal of several programs is claimed by another of the family, which
    // hands its lines to this parser too.
    sniff: (h) => {
      const lines = h.split('\n').slice(0, 30).filter((l) => l.trim() && !/^-- /.test(l)).map(splitLogLine);
      const bySystemd = (l: ReturnType<typeof splitLogLine>) => l.prefix?.unit === 'systemd' && l.prefix.pid === 1;
      return lines.some((l) => bySystemd(l) && STEP.test(l.payload)) && lines.every((l) => (bySystemd(l) && WORDS.some((w) => l.payload.includes(w))) || /^(?:firewalld|ufw|nft|iptables)$/.test(l.prefix?.unit ?? ''));
    },
  },
  open(ctx) {
    return logSink(ctx, WORDS, ({ text, no, payload, prefix, pick }) => {
      if (!prefix || prefix.unit !== 'systemd' || (prefix.pid !== undefined && prefix.pid !== 1)) return; // pid 1, not a user's systemd
      const m = STEP.exec(payload);
      if (!m) return;
      const at = pick(undefined, prefix, no);
      if (!at) return;
      const step = m[1] === 'Reloaded' ? 'reloaded' : m[1] === 'Started' ? 'started' : 'stopped';
      // The message follows the daemon's name on the timeline ("firewalld: reloaded, dropping …").
      ctx.emit({ kind: 'logEvent', daemon: m[2] ?? NAME_OF[m[3]], event: 'firewall', message: `${step}, dropping the rules other programs added to the kernel's firewall (CNI plugins' chains)`, at, ev: ctx.evidence(no, text) });
    });
  },
});
