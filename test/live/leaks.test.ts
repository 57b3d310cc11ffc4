// Real-kernel end-to-end: build leaked and healthy network namespaces for real, collect, report.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readlinkSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ROOT = join(__dirname, '../..');
const BIN = join(ROOT, 'dist/src/cli/main.js');
const need = ['unshare', 'nsenter', 'ip', 'mount', 'umount', 'tar'];
const missing = need.filter((c) => spawnSync('sh', ['-c', `command -v ${c}`]).status !== 0);
const isRoot = process.getuid?.() === 0;
const reason = !isRoot ? 'not running as root' : missing.length ? `missing ${missing.join(', ')}` : '';
if (reason) console.log(`skipping real-kernel tests: ${reason} (CI runs them as root)`);

function sh(cmd: string, args: string[]): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.status}): ${r.stderr}`);
  return r.stdout;
}

async function waitFor(test: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 100; i++) {
    if (test()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out waiting for ${what}`);
}

interface Finding { rule: string; netns: { inode: string | null; paths: string[] }[]; ips: string[]; pinnedBy: { kind: string; pid: number; fd: number | null; path: string | null; mntns: string | null }[] }

describe.skipIf(Boolean(reason))('real kernel: collect then report', () => {
  const dir = mkdtempSync('/tmp/forensics-live-');
  const tag = String(process.pid % 100000).padStart(5, '0');
  const mountFile = join(dir, 'docker/netns', `3f2a9c${tag}7`.slice(0, 12));
  const fdFile = join(dir, `fd-held-${tag}`);
  const named = `fx-${tag}`;
  const procs: ChildProcess[] = [];
  const links: string[] = [];
  let mountPinner = 0;
  let fdHolder = 0;
  let healthy = 0;
  const inode: Record<string, string> = {};

  beforeAll(async () => {
    mkdirSync(join(dir, 'docker/netns'), { recursive: true });
    // (1) The seed leak on a modern kernel: a netns bind-mounted at a runtime-like path, with a veth and an
    // address inside; a process takes a private copy of the mount namespace; then the host unmounts.
    writeFileSync(mountFile, '');
    sh('unshare', [`--net=${mountFile}`, 'true']);
    inode.mount = String(statSync(mountFile).ino);
    const hostVeth = `fxh${tag}`;
    links.push(hostVeth);
    sh('nsenter', [`--net=${mountFile}`, 'ip', 'link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', hostVeth]);
    sh('nsenter', [`--net=${mountFile}`, 'ip', 'link', 'set', hostVeth, 'netns', String(process.pid)]);
    sh('nsenter', [`--net=${mountFile}`, 'ip', 'addr', 'add', '198.51.100.5/24', 'dev', 'eth0']);
    const pin = spawn('unshare', ['-m', '--propagation', 'private', 'sleep', '600'], { stdio: 'ignore' });
    procs.push(pin);
    mountPinner = pin.pid!;
    await waitFor(() => existsSync(`/proc/${mountPinner}/ns/mnt`) && readlinkSync(`/proc/${mountPinner}/ns/mnt`) !== readlinkSync('/proc/self/ns/mnt'), 'the private mount namespace');
    sh('umount', [mountFile]);

    // (2) A netns held only by an open fd of a process that lives elsewhere.
    writeFileSync(fdFile, '');
    sh('unshare', [`--net=${fdFile}`, 'true']);
    inode.fd = String(statSync(fdFile).ino);
    // veth rather than dummy: not every kernel has the dummy module.
    sh('nsenter', [`--net=${fdFile}`, 'ip', 'link', 'add', 'fxd0', 'type', 'veth', 'peer', 'name', 'fxd0p']);
    sh('nsenter', [`--net=${fdFile}`, 'ip', 'addr', 'add', '198.51.100.6/24', 'dev', 'fxd0']);
    const holder = spawn('sh', ['-c', `exec 7<"${fdFile}"; exec sleep 600`], { stdio: 'ignore' });
    procs.push(holder);
    fdHolder = holder.pid!;
    await waitFor(() => existsSync(`/proc/${fdHolder}/fd/7`) && statSync(`/proc/${fdHolder}/fd/7`).ino === Number(inode.fd), 'the fd holder');
    // The runtime's way (MNT_DETACH): the fd now reads back as "/", and only stat says it is a namespace.
    sh('umount', ['-l', fdFile]);

    // (4) A named netns (ip netns add) with an address and no process: pinned by the host's own mount.
    sh('ip', ['netns', 'add', named]);
    sh('ip', ['-n', named, 'link', 'add', 'fxn0', 'type', 'veth', 'peer', 'name', 'fxn0p']);
    sh('ip', ['-n', named, 'addr', 'add', '198.51.100.8/24', 'dev', 'fxn0']);
    inode.named = String(statSync(`/run/netns/${named}`).ino);

    // (3) A healthy netns with a member process.
    const member = spawn('unshare', ['--net', 'sleep', '600'], { stdio: 'ignore' });
    procs.push(member);
    healthy = member.pid!;
    await waitFor(() => existsSync(`/proc/${healthy}/ns/net`) && readlinkSync(`/proc/${healthy}/ns/net`) !== readlinkSync('/proc/self/ns/net'), 'the healthy namespace');
    inode.healthy = readlinkSync(`/proc/${healthy}/ns/net`).replace(/\D/g, '');
    sh('nsenter', ['-t', String(healthy), '-n', 'ip', 'link', 'add', 'fxd1', 'type', 'veth', 'peer', 'name', 'fxd1p']);
    sh('nsenter', ['-t', String(healthy), '-n', 'ip', 'addr', 'add', '198.51.100.7/24', 'dev', 'fxd1']);
  });

  afterAll(() => {
    // Killing the holders frees the namespaces, and with them the veth and the addresses.
    for (const p of procs) p.kill('SIGKILL');
    for (const f of [mountFile, fdFile]) spawnSync('umount', [f]);
    for (const l of links) spawnSync('ip', ['link', 'del', l]);
    spawnSync('ip', ['netns', 'del', named]);
    rmSync(dir, { recursive: true, force: true });
  });

  function check(findings: Finding[]): void {
    const leaks = findings.filter((f) => f.rule === 'netns-leaked');
    const byInode = (i: string) => leaks.find((f) => f.netns.some((n) => n.inode === i));
    const viaMount = byInode(inode.mount);
    expect(viaMount, 'the mount-pinned namespace is reported').toBeDefined();
    expect(viaMount!.ips).toContain('198.51.100.5');
    expect(viaMount!.pinnedBy).toContainEqual(expect.objectContaining({ kind: 'mount', pid: mountPinner, path: mountFile }));
    const viaFd = byInode(inode.fd);
    expect(viaFd, 'the fd-held namespace is reported').toBeDefined();
    expect(viaFd!.ips).toContain('198.51.100.6');
    expect(viaFd!.pinnedBy).toEqual([expect.objectContaining({ kind: 'fd', pid: fdHolder, fd: 7 })]);
    expect(byInode(inode.healthy), 'the namespace with a process is not reported').toBeUndefined();
    expect(findings.filter((f) => f.ips.includes('198.51.100.7'))).toEqual([]);
    // The host end of the leaked namespace's veth, paired by ifindex on the real kernel.
    const veth = findings.filter((f) => f.rule === 'veth-dangling');
    expect(veth.map((f) => [f.title.split(' ')[2], f.netns[0]?.inode, f.ips])).toContainEqual([links[0], inode.mount, ['198.51.100.5']]);
    expect(veth.filter((f) => f.netns.some((n) => n.inode === inode.healthy))).toEqual([]);
  }

  function report(bundle: string): Finding[] {
    const r = spawnSync(process.execPath, [BIN, 'report', bundle, '--format', 'json', '--fail-on', 'none'], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    return JSON.parse(r.stdout).findings;
  }

  it('forensics collect → report finds the mount-pinned and fd-held leaks, with pinners and addresses, and not the healthy one', () => {
    const out = join(dir, 'node.tar.gz');
    const r = spawnSync(process.execPath, [BIN, 'collect', '-o', out, '--no-logs'], { encoding: 'utf8', cwd: dir });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/wrote .*node\.tar\.gz/);
    check(report(out));
  });

  it('collect.sh → report gives the same findings', () => {
    const out = join(dir, 'node-sh.tar.gz');
    const r = spawnSync('sh', [join(ROOT, 'collect.sh'), '-o', out, '--no-logs'], { encoding: 'utf8', cwd: dir });
    expect(r.status, r.stderr).toBe(0);
    check(report(out));
  });

  it('a bundle made by hand (ps aux, ls -l, lsns, findmnt, ip -all netns exec) gives the same mount-held leaks', () => {
    // What an SRE types on the node, saved as transcripts: the real outputs of this machine's util-linux and iproute2.
    const hand = join(dir, 'by-hand');
    mkdirSync(hand);
    const save = (name: string, cmd: string) => writeFileSync(join(hand, name), `# ${cmd}\n${sh('sh', ['-c', `${cmd} 2>/dev/null; true`])}`);
    save('ps.txt', 'ps aux');
    save('ns-links.txt', 'ls -l /proc/[0-9]*/ns/net /proc/[0-9]*/ns/mnt');
    save('lsns.txt', 'lsns -t net');
    save('findmnt.txt', 'findmnt -t nsfs');
    save('findmnt-pinner.txt', `nsenter -t ${mountPinner} -m findmnt -t nsfs`);
    save('all-netns.txt', 'ip -all netns exec ip -d addr');
    save('pinned.txt', `nsenter -t ${mountPinner} -m nsenter --net=${mountFile} ip -d addr`);
    const leaks = report(hand).filter((f) => f.rule === 'netns-leaked');
    const byInode = (i: string) => leaks.find((f) => f.netns.some((n) => n.inode === i));
    expect(byInode(inode.mount)?.ips).toEqual(['198.51.100.5']);
    expect(byInode(inode.mount)?.pinnedBy).toContainEqual(expect.objectContaining({ kind: 'mount', pid: mountPinner, path: mountFile }));
    expect(byInode(inode.named)?.ips).toEqual(['198.51.100.8']);
    expect(byInode(inode.named)?.pinnedBy).toContainEqual(expect.objectContaining({ kind: 'mount', path: `/run/netns/${named}` }));
    expect(byInode(inode.healthy), 'the namespace with a process is not reported').toBeUndefined();
  });

  it('leaves the mount table and the set of network namespaces as they were', () => {
    const nsfsMounts = () => sh('cat', ['/proc/self/mountinfo']).split('\n').filter((l) => l.includes(' nsfs ')).sort().join('\n');
    const netns = () => [...new Set(sh('sh', ['-c', 'readlink /proc/[0-9]*/ns/net 2>/dev/null | sort -u; true']).split('\n'))].filter(Boolean).sort();
    const before = { mounts: nsfsMounts(), table: sh('cat', ['/proc/self/mountinfo']), netns: netns() };
    for (const argv of [[process.execPath, BIN, 'collect', '-o', join(dir, 'again.tar.gz'), '--no-logs'], ['sh', join(ROOT, 'collect.sh'), '-o', join(dir, 'again-sh.tar.gz'), '--no-logs']]) {
      expect(spawnSync(argv[0], argv.slice(1), { cwd: dir }).status).toBe(0);
      expect(sh('cat', ['/proc/self/mountinfo'])).toBe(before.table);
      expect(nsfsMounts()).toBe(before.mounts);
      expect(netns()).toEqual(before.netns);
    }
  });

  it('runs without root, collects what it can, and says what it could not', () => {
    const r0 = spawnSync('sh', ['-c', 'command -v setpriv'], { encoding: 'utf8' });
    if (r0.status !== 0) return void console.log('skipping the non-root run: no setpriv');
    const out = mkdtempSync('/tmp/forensics-nobody-');
    try {
      spawnSync('chmod', ['777', out]);
      const r = spawnSync('setpriv', ['--reuid=nobody', '--regid=nogroup', '--clear-groups', process.execPath, BIN, 'collect', '-o', join(out, 'b.tar.gz'), '--no-logs'], { encoding: 'utf8', cwd: out });
      expect(r.status, r.stderr).toBe(0);
      expect(r.stderr).toMatch(/not running as root/);
      const rep = spawnSync(process.execPath, [BIN, 'report', join(out, 'b.tar.gz'), '--format', 'json', '--fail-on', 'none'], { encoding: 'utf8' });
      expect(JSON.parse(rep.stdout).diagnostics).toContainEqual(expect.objectContaining({ message: expect.stringMatching(/collected as uid \d+, not root/) }));
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });

  it('completes while processes start and exit underneath it, and says so', () => {
    const churn = [0, 1, 2].map(() => spawn('sh', ['-c', 'while :; do /bin/true; done'], { stdio: 'ignore' }));
    try {
      const r = spawnSync(process.execPath, [BIN, 'collect', '-o', join(dir, 'churn.tar.gz'), '--no-logs'], { encoding: 'utf8', cwd: dir });
      expect(r.status, r.stderr).toBe(0);
      expect(r.stderr).toMatch(/processes exited during the scan/);
      const rep = spawnSync(process.execPath, [BIN, 'report', join(dir, 'churn.tar.gz'), '--format', 'json', '--fail-on', 'none'], { encoding: 'utf8' });
      expect(rep.status, rep.stderr).toBe(0);
    } finally {
      for (const c of churn) c.kill('SIGKILL');
    }
  });
});
