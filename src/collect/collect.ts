import { execFile } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { open, readdir, readFile, readlink, stat } from 'node:fs/promises';
import { hostname as osHostname } from 'node:os';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import fg from 'fast-glob';
import tar from 'tar-stream';
import { parseNsMountLine } from '../../parsers/mountinfo.js';
import { parseNsTarget } from '../model/facts.js';
import { TOOL } from '../version.js';
import { pushTo, shellQuote } from '../util.js';

export interface CollectOptions {
  output?: string;
  sinceDays: number;
  maxFileBytes: number;
  cniLogs: string[];
  logs: boolean;
  commandTimeoutMs: number;
  totalTimeoutMs: number;
  progress?: (message: string) => void;
}

export interface ManifestEntry {
  path: string;
  command?: string;
  source?: string;
  exitCode?: number | null;
  ms: number;
  bytes: number;
  truncated?: boolean;
  error?: string;
}

export interface CollectResult {
  output: string;
  bytes: number;
  entries: ManifestEntry[];
  failures: ManifestEntry[];
  notes: string[];
}

// Where CNI plugins and runtimes log, on the distributions seen in bug reports.
const WELL_KNOWN_CNI_LOGS = ['/var/log/cni/*.log*', '/var/log/calico/cni/*.log*', '/var/log/multus*.log*', '/var/log/galaxy/*', '/var/log/aws-routed-eni/*.log*', '/var/log/azure-vnet.log*', '/var/log/flannel*.log*', '/var/run/cilium/cilium-cni.log*'];
const UNIT_FILES = ['/lib/systemd/system/docker.service', '/usr/lib/systemd/system/docker.service', '/etc/systemd/system/docker.service', '/etc/systemd/system/docker.service.d/*.conf', '/run/systemd/system/docker.service.d/*.conf'];

type Item = { path: string; data: Buffer } | { path: string; link: string };

function utcStamp(d: Date): string {
  return d.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
}

/** Gathers the evidence `forensics report` reads, read-only, into one .tar.gz. */
export async function collect(opts: CollectOptions): Promise<CollectResult> {
  const started = new Date();
  const deadline = Date.now() + opts.totalTimeoutMs;
  const proc = '/proc';
  const host = (await readFile('/etc/hostname', 'utf8').catch(() => osHostname())).trim() || osHostname();
  const top = `${host}-${utcStamp(started)}`;
  const output = opts.output ?? `incident-${host}-${utcStamp(started)}.tar.gz`;
  const items: Item[] = [];
  const entries: ManifestEntry[] = [];
  const notes: string[] = [];
  const say = opts.progress ?? (() => {});
  const timeLeft = () => deadline - Date.now();

  const add = (path: string, data: Buffer | string, meta: Omit<ManifestEntry, 'path' | 'bytes'> = { ms: 0 }) => {
    const buf = typeof data === 'string' ? Buffer.from(data) : data;
    items.push({ path, data: buf });
    entries.push({ path, bytes: buf.length, ...meta });
  };
  const addLink = (path: string, target: string) => items.push({ path, link: target });

  /** Runs a command; its output is stored as a one-block transcript, so `report` knows where it ran. */
  const run = async (path: string, argv: string[], opt: { optional?: boolean } = {}): Promise<string | undefined> => {
    if (timeLeft() <= 0) {
      entries.push({ path, command: argv.join(' '), ms: 0, bytes: 0, error: 'skipped: total time limit reached' });
      return undefined;
    }
    const t0 = Date.now();
    const r = await exec(argv, Math.min(opts.commandTimeoutMs, timeLeft()), opts.maxFileBytes);
    const ms = Date.now() - t0;
    const command = argv.map(shellQuote).join(' ');
    if (r.notFound) {
      if (!opt.optional) entries.push({ path, command, ms, bytes: 0, exitCode: null, error: `${argv[0]}: not installed` });
      return undefined;
    }
    const body = r.stdout;
    add(path, `# ${command}\n${body}${body.endsWith('\n') || !body ? '' : '\n'}`, { command, exitCode: r.code, ms, truncated: r.truncated || undefined, error: r.code === 0 ? undefined : r.stderr.trim().replace(/\s*\n\s*/g, ' | ').slice(0, 500) || r.error });
    return body;
  };

  /** Copies a host file under its own path, keeping the tail of a large one. */
  const copy = async (hostPath: string) => {
    const t0 = Date.now();
    try {
      const st = await stat(hostPath);
      if (!st.isFile()) return;
      const size = st.size;
      const fh = await open(hostPath, 'r');
      try {
        const len = Math.min(size, opts.maxFileBytes);
        const buf = Buffer.alloc(len);
        const { bytesRead } = await fh.read(buf, 0, len, size - len);
        add(hostPath.replace(/^\/+/, ''), buf.subarray(0, bytesRead), { source: hostPath, ms: Date.now() - t0, truncated: size > len || undefined });
      } finally {
        await fh.close();
      }
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code !== 'ENOENT') entries.push({ path: hostPath.replace(/^\/+/, ''), source: hostPath, ms: Date.now() - t0, bytes: 0, error: code ?? (e as Error).message });
    }
  };

  // Host identity and clock
  say('host identity');
  await run('commands/hostname.txt', ['hostname']);
  await run('commands/date-R.txt', ['date', '-R']);
  await run('commands/uname-r.txt', ['uname', '-r']);
  await run('commands/getconf-CLK_TCK.txt', ['getconf', 'CLK_TCK'], { optional: true });
  await copy('/etc/hostname');
  await copy('/etc/timezone');
  await readlink('/etc/localtime').then((t) => addLink('etc/localtime', t), () => undefined);
  await copy('/proc/stat');

  // Processes: namespace links, fds that hold namespaces, stat/comm/cmdline. Pids vanish mid-scan: that is expected.
  say('processes');
  const pids = (await readdir(proc)).filter((n) => /^\d+$/.test(n)).map(Number).sort((a, b) => a - b);
  const mntPids = new Map<string, number[]>();
  const netMembers = new Map<string, number>();
  const netFds = new Map<string, { pid: number; fd: number }>();
  const nsfsFds: { pid: number; fd: number; inode: string; target: string }[] = [];
  const nsfsDev = (await stat('/proc/self/ns/net').catch(() => undefined))?.dev;
  let vanished = 0;
  let unreadable = 0;
  for (const pid of pids) {
    if (timeLeft() <= 0) {
      notes.push(`time limit reached after ${pid} of ${pids.length} processes`);
      break;
    }
    const base = `${proc}/${pid}`;
    try {
      for (const f of ['stat', 'comm', 'cmdline']) add(`proc/${pid}/${f}`, await readFile(`${base}/${f}`));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT' || (e as NodeJS.ErrnoException).code === 'ESRCH') {
        vanished++;
        continue;
      }
      unreadable++;
    }
    for (const ns of ['net', 'mnt', 'pid']) {
      try {
        const target = await readlink(`${base}/ns/${ns}`);
        addLink(`proc/${pid}/ns/${ns}`, target);
        const t = parseNsTarget(target);
        if (t && ns === 'mnt') pushTo(mntPids, t.inode, pid);
        if (t && ns === 'net' && !netMembers.has(t.inode)) netMembers.set(t.inode, pid);
      } catch {
        /* kernel thread, vanished, or no permission */
      }
    }
    try {
      for (const fd of await readdir(`${base}/fd`)) {
        const target = await readlink(`${base}/fd/${fd}`).catch(() => '');
        const t = parseNsTarget(target);
        if (t) {
          addLink(`proc/${pid}/fd/${fd}`, target);
          if (t.ns === 'net' && !netFds.has(t.inode)) netFds.set(t.inode, { pid, fd: Number(fd) });
          continue;
        }
        // An fd opened on a netns bind mount reads back as the mount's path (or "/" once lazily unmounted);
        // only stat tells it is a namespace.
        const st = await stat(`${base}/fd/${fd}`).catch(() => undefined);
        if (st && st.dev === nsfsDev) nsfsFds.push({ pid, fd: Number(fd), inode: String(st.ino), target });
      }
    } catch {
      /* not ours to read without root, or vanished */
    }
  }
  if (vanished) notes.push(`${vanished} processes exited during the scan`);
  if (unreadable) notes.push(`${unreadable} processes could not be read (run as root for a complete bundle)`);
  await run('commands/ps.txt', ['ps', '-eo', 'pid,ppid,lstart,args'], { optional: true });

  // One mount table per mount namespace; nsfs mounts name every namespace held by a mount.
  say('mount namespaces');
  const netMounts = new Map<string, { pid: number; path: string }>();
  const procMounts: { pid: number; path: string }[] = [];
  for (const [, members] of [...mntPids].sort(([a], [b]) => a.localeCompare(b))) {
    for (const pid of members) {
      let text: string;
      try {
        text = await readFile(`${proc}/${pid}/mountinfo`, 'utf8');
      } catch {
        continue; // vanished: try the next pid sharing this namespace
      }
      add(`proc/${pid}/mountinfo`, text);
      for (const line of text.split('\n')) {
        const m = parseNsMountLine(line);
        if (!m || m.ns !== 'net') continue;
        if (m.inode && !netMounts.has(m.inode)) netMounts.set(m.inode, { pid, path: m.path });
        if (!m.inode) procMounts.push({ pid, path: m.path });
      }
      break;
    }
  }

  // fds on nsfs that readlink did not name: a net namespace if its inode is one, or if it can be entered as one.
  for (const c of nsfsFds) {
    const known = netMembers.has(c.inode) || netMounts.has(c.inode) || netFds.has(c.inode);
    const isNet = known || (await exec(['nsenter', `--net=/proc/${c.pid}/fd/${c.fd}`, 'true'], 5000, 1024)).code === 0;
    if (!isNet) continue;
    add(`proc/${c.pid}/fd/${c.fd}`, `net:[${c.inode}]\n`, { source: `/proc/${c.pid}/fd/${c.fd} (readlink: ${c.target || '?'}; stat: nsfs inode ${c.inode})`, ms: 0 });
    if (!netFds.has(c.inode)) netFds.set(c.inode, { pid: c.pid, fd: c.fd });
  }

  // Inside every network namespace found: through a member, else through the pinning mount or fd.
  say('network namespaces');
  const views: { dir: string; enter: string[] }[] = [];
  for (const [inode, pid] of netMembers) views.push({ dir: `netns/${inode}`, enter: ['nsenter', '-t', String(pid), '-n'] });
  for (const [inode, m] of netMounts) if (!netMembers.has(inode)) views.push({ dir: `netns/${inode}`, enter: ['nsenter', `--net=/proc/${m.pid}/root${m.path}`] });
  for (const [inode, f] of netFds) if (!netMembers.has(inode) && !netMounts.has(inode)) views.push({ dir: `netns/${inode}`, enter: ['nsenter', `--net=/proc/${f.pid}/fd/${f.fd}`] });
  procMounts.forEach((m, i) => views.push({ dir: `netns/path-${i}`, enter: ['nsenter', `--net=/proc/${m.pid}/root${m.path}`] }));
  for (const v of views.sort((a, b) => a.dir.localeCompare(b.dir, 'en', { numeric: true }))) {
    await run(`${v.dir}/ip-d-addr.txt`, [...v.enter, 'ip', '-d', 'addr']);
    await run(`${v.dir}/ip-d-link.txt`, [...v.enter, 'ip', '-d', 'link']);
    await run(`${v.dir}/ip-route.txt`, [...v.enter, 'ip', 'route']);
    await run(`${v.dir}/ip-neigh.txt`, [...v.enter, 'ip', 'neigh']);
  }
  await run('commands/ip-d-link.txt', ['ip', '-d', 'link']);
  await run('commands/ip-netns-list-id.txt', ['ip', 'netns', 'list-id']);
  await run('commands/ip-netns-list.txt', ['ip', 'netns', 'list'], { optional: true });
  await run('commands/lsns.json', ['lsns', '--json'], { optional: true });
  await run('commands/lsfd.json', ['lsfd', '--json'], { optional: true });

  // Runtimes and units
  say('container runtimes');
  // podman keeps no daemon: its containers are listed by asking it (rootful ones; a rootless user's need that user).
  // nerdctl lists one containerd namespace at a time: the default one, then the others it knows (buildkit, a user's),
  // but k8s.io, whose containers are Kubernetes' (crictl's, below), and moby, docker's.
  const listContainers = async (name: string, cli: string[]) => {
    const listed = await run(`commands/${name}-ps-aq.txt`, [...cli, 'ps', '-aq', '--no-trunc'], { optional: true });
    if (listed === undefined || entries[entries.length - 1]?.exitCode !== 0) return;
    await run(`commands/${name}-ps-a.txt`, [...cli, 'ps', '-a'], { optional: true });
    const ids = listed.split('\n').map((s) => s.trim()).filter((s) => /^[0-9a-f]{12,64}$/.test(s));
    if (ids.length) await run(`commands/${name}-inspect.json`, [...cli, 'inspect', ...ids]);
  };
  for (const tool of ['docker', 'podman', 'nerdctl']) await listContainers(tool, [tool]);
  const namespaces = await run('commands/nerdctl-namespace-ls.txt', ['nerdctl', 'namespace', 'ls', '-q'], { optional: true });
  for (const ns of (namespaces ?? '').split('\n').map((s) => s.trim()))
    if (/^[\w.-]+$/.test(ns) && !['default', 'k8s.io', 'moby'].includes(ns)) await listContainers(`nerdctl-ns-${ns}`, ['nerdctl', '-n', ns]);
  await run('commands/systemctl-cat-docker.txt', ['systemctl', 'cat', 'docker'], { optional: true });
  await run('commands/systemctl-show-docker.txt', ['systemctl', 'show', 'docker'], { optional: true });
  for (const pattern of UNIT_FILES) for (const f of await fg(pattern, { dot: true, followSymbolicLinks: false, suppressErrors: true })) await copy(f);
  const pods = await run('commands/crictl-pods.txt', ['crictl', 'pods', '-q'], { optional: true });
  if (pods !== undefined) {
    for (const id of pods.split('\n').map((s) => s.trim()).filter((s) => /^[0-9a-f]{12,64}$/.test(s))) await run(`commands/crictl-inspectp-${id.slice(0, 12)}.json`, ['crictl', 'inspectp', id]);
    await run('commands/crictl-pods-table.txt', ['crictl', 'pods', '--no-trunc'], { optional: true });
    // Containers too: their pids and the host paths they mount (a host /run bind pins netns copies).
    const ctrs = await run('commands/crictl-ps.txt', ['crictl', 'ps', '-aq'], { optional: true });
    for (const id of (ctrs ?? '').split('\n').map((s) => s.trim()).filter((s) => /^[0-9a-f]{12,64}$/.test(s))) await run(`commands/crictl-inspect-${id.slice(0, 12)}.json`, ['crictl', 'inspect', id], { optional: true });
  }

  // CNI state and logs
  say('CNI state and logs');
  for (const f of await fg(['/etc/cni/net.d/**', '/var/lib/cni/**', '/run/flannel/subnet.env', '/var/run/azure-vnet.json'], { dot: true, onlyFiles: true, followSymbolicLinks: false, suppressErrors: true })) await copy(f);
  if (opts.logs) {
    const since = `--since=-${Math.max(1, Math.round(opts.sinceDays * 24))}h`;
    for (const unit of ['docker', 'containerd', 'crio', 'kubelet'])
      await run(`commands/journal-${unit}.txt`, ['journalctl', '-u', unit, since, '--no-pager', '-o', 'short-iso'], { optional: true });
    // podman runs in no unit of its own: its lines (and those of the cleanup conmon runs) carry its name.
    await run('commands/journal-podman.txt', ['journalctl', '-t', 'podman', since, '--no-pager', '-o', 'short-iso'], { optional: true });
    // When a firewall service replaced the kernel's rules (dropping the CNI plugins' chains): systemd's lines about it.
    await run('commands/journal-firewall.txt', ['journalctl', '-u', 'firewalld', '-u', 'nftables', '-u', 'iptables', '-u', 'ufw', since, '--no-pager', '-o', 'short-iso'], { optional: true });
    for (const f of await fg([...WELL_KNOWN_CNI_LOGS, ...opts.cniLogs], { dot: true, onlyFiles: true, followSymbolicLinks: false, suppressErrors: true })) await copy(f);
  }

  const finished = new Date();
  const manifest = {
    tool: { name: TOOL.name, version: TOOL.version },
    host,
    startedAt: started.toISOString(),
    finishedAt: finished.toISOString(),
    uid: process.getuid?.() ?? null,
    processes: pids.length,
    mountNamespaces: Object.fromEntries([...mntPids].sort(([a], [b]) => a.localeCompare(b)).map(([inode, members]) => [`mnt:[${inode}]`, members])),
    notes,
    entries,
  };
  add('manifest.json', `${JSON.stringify(manifest, null, 2)}\n`);
  say('writing archive');
  await writeArchive(output, top, items);
  const bytes = (await stat(output)).size;
  return { output, bytes, entries, failures: entries.filter((e) => e.error), notes };
}

async function writeArchive(output: string, top: string, items: Item[]): Promise<void> {
  const pack = tar.pack();
  const done = pipeline(pack, createGzip({ level: 6 }), createWriteStream(output, { mode: 0o600 }));
  const dirs = new Set<string>();
  const mtime = new Date();
  for (const item of items) {
    const parts = `${top}/${item.path}`.split('/');
    for (let i = 1; i < parts.length; i++) {
      const d = parts.slice(0, i).join('/');
      if (!dirs.has(d)) {
        dirs.add(d);
        pack.entry({ name: d, type: 'directory', mode: 0o755, mtime });
      }
    }
    if ('link' in item) pack.entry({ name: `${top}/${item.path}`, type: 'symlink', linkname: item.link, mtime });
    else pack.entry({ name: `${top}/${item.path}`, size: item.data.length, mode: 0o644, mtime }, item.data);
  }
  pack.finalize();
  await done;
}

interface ExecResult {
  code: number | null;
  stdout: string;
  stderr: string;
  truncated: boolean;
  notFound: boolean;
  error?: string;
}

function exec(argv: string[], timeoutMs: number, maxBytes: number): Promise<ExecResult> {
  return new Promise((resolve) => {
    execFile(argv[0], argv.slice(1), { timeout: Math.max(1000, timeoutMs), maxBuffer: maxBytes, encoding: 'utf8', env: { ...process.env, LC_ALL: 'C', SYSTEMD_PAGER: '', PAGER: 'cat' } }, (err, stdout, stderr) => {
      const e = err as (NodeJS.ErrnoException & { killed?: boolean; code?: string | number }) | null;
      if (e?.code === 'ENOENT') return resolve({ code: null, stdout: '', stderr: '', truncated: false, notFound: true });
      const truncated = e?.code === 'ERR_CHILD_PROCESS_STDIO_MAXBUFFER';
      resolve({
        code: e ? (typeof e.code === 'number' ? e.code : truncated ? 0 : null) : 0,
        stdout: stdout ?? '',
        stderr: stderr ?? '',
        truncated,
        notFound: false,
        error: e?.killed ? `timed out after ${timeoutMs} ms` : e && !truncated ? e.message : undefined,
      });
    });
  });
}

