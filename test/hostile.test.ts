// Hostile and broken bundles: each case is an input a stranger or a broken machine could hand us, with the
// documented outcome. The report must never crash, hang, write outside, or pass escapes to a terminal.
import { spawnSync } from 'node:child_process';
import { chmodSync, createWriteStream, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createGzip, gzipSync } from 'node:zlib';
import tar from 'tar-stream';
import { afterAll, describe, expect, it } from 'vitest';
import { makeZip, type ZipItem } from './zip-writer.js';

const ROOT = join(__dirname, '..');
const BIN = join(ROOT, 'dist/src/cli/main.js');
const dir = mkdtempSync(join(tmpdir(), 'forensics-hostile-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface TarItem {
  name: string;
  type?: tar.Headers['type'];
  data?: string | Buffer;
  linkname?: string;
}

async function makeTar(file: string, items: TarItem[], gzip = true): Promise<string> {
  const pack = tar.pack();
  const done = gzip ? pipeline(pack, createGzip(), createWriteStream(file)) : pipeline(pack, createWriteStream(file));
  for (const it of items) {
    const data = typeof it.data === 'string' ? Buffer.from(it.data) : it.data;
    pack.entry({ name: it.name, type: it.type ?? 'file', linkname: it.linkname, size: data?.length ?? 0, mode: 0o644 }, data);
  }
  pack.finalize();
  await done;
  return file;
}

function report(args: string[], opts: { cwd?: string; asNobody?: boolean } = {}) {
  const argv = [process.execPath, BIN, 'report', ...args];
  const cmd = opts.asNobody ? ['setpriv', '--reuid=nobody', '--regid=nogroup', '--clear-groups', ...argv] : argv;
  const r = spawnSync(cmd[0], cmd.slice(1), { encoding: 'utf8', cwd: opts.cwd ?? dir, env: { ...process.env, NO_COLOR: '1' }, timeout: 120_000, maxBuffer: 64 * 1024 * 1024 });
  expect(r.stderr, 'never an internal error').not.toMatch(/internal error/);
  expect(r.signal, 'never killed by the time limit of the test').toBeNull();
  return { code: r.status, stdout: r.stdout, stderr: r.stderr, json: () => JSON.parse(r.stdout) as { hosts: unknown[]; findings: { rule: string; ips: string[] }[]; diagnostics: { level: string; source: string; message: string }[] } };
}

const SEED4 = join(ROOT, 'samples/seed-incident/10.2.1.4');
const glogAdd = (pod: string, id: string, ip: string) =>
  `I0206 12:22:17.639674   27084 server.go:81] ADD ${pod}_demo, ${id}, /proc/5145/ns/net, K8S_POD_NAME=${pod};K8S_POD_NAMESPACE=demo ;, data {"ip4":{"ip":"${ip}/24"}}, err <nil>, Feb  6 12:22:16.970597-`;

describe('broken archives', () => {
  it('a truncated gzip: an error that says so, and what was read before the cut is analysed', async () => {
    const whole = join(dir, 'whole.tar.gz');
    spawnSync('tar', ['czf', whole, '-C', join(ROOT, 'samples/seed-incident'), '10.2.1.4']);
    const bytes = readFileSync(whole);
    const cut = join(dir, 'cut.tar.gz');
    writeFileSync(cut, bytes.subarray(0, Math.floor(bytes.length * 0.7)));
    const r = report([cut, '--format', 'json', '--fail-on', 'none']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/some evidence could not be read/);
    const j = r.json();
    expect(j.diagnostics).toContainEqual(expect.objectContaining({ level: 'error', message: expect.stringMatching(/corrupt gzip data|unexpected end/i) }));
    expect(j.hosts).toHaveLength(1);
  });

  it('a tar header corrupted halfway: entries before it are kept', async () => {
    const file = await makeTar(join(dir, 'corrupt.tar'), [
      { name: 'h/etc/hostname', data: 'before-the-damage\n' },
      { name: 'h/proc/1/ns/net', type: 'symlink', linkname: 'net:[4026531840]' },
      { name: 'h/after.txt', data: 'x'.repeat(600) },
      { name: 'h/later.txt', data: 'y' },
    ], false);
    const buf = readFileSync(file);
    buf.fill(0x41, 512 * 3, 512 * 3 + 300); // the third header
    writeFileSync(file, buf);
    const j = report([file, '--format', 'json', '--fail-on', 'none']).json();
    expect((j.hosts[0] as { id: string }).id).toBe('before-the-damage');
    expect(j.diagnostics).toContainEqual(expect.objectContaining({ level: 'error', message: expect.stringMatching(/corrupt archive/) }));
  });

  it('an empty folder and an empty archive are unusable input: exit 2 with what to do', async () => {
    const empty = join(dir, 'empty');
    mkdirSync(empty);
    const r1 = report([empty]);
    expect(r1.code).toBe(2);
    expect(r1.stderr).toMatch(/no evidence recognised.*forensics collect/s);
    const r2 = report([await makeTar(join(dir, 'empty.tar.gz'), [])]);
    expect(r2.code).toBe(2);
  });
});

describe('entries that try to escape or hang', () => {
  it('../ paths are refused with a warning, absolute ones read as relative (as GNU tar does); nothing is written anywhere', async () => {
    const cwd = mkdtempSync(join(dir, 'cwd-'));
    const file = await makeTar(join(dir, 'escape.tar.gz'), [
      { name: '../../escaped.txt', data: 'pwned' },
      { name: '/tmp/absolute-evil.txt', data: 'pwned' },
      { name: 'h/etc/hostname', data: 'inside\n' },
    ]);
    const j = report([file, '--format', 'json', '--fail-on', 'none', '--verbose'], { cwd }).json();
    expect(j.diagnostics.filter((d) => /climbs out of the bundle/.test(d.message)).map((d) => d.source)).toEqual(['escape/../../escaped.txt']);
    expect(j.diagnostics.filter((d) => /absolute entry path/.test(d.message)).map((d) => d.source)).toEqual(['escape//tmp/absolute-evil.txt']);
    expect(readdirSync(cwd)).toEqual([]);
    expect(readdirSync(dir).some((n) => n.includes('escaped'))).toBe(false);
  });

  it('a symlink to /etc/shadow is read as text, never followed, in archives and in folders', async () => {
    const file = await makeTar(join(dir, 'shadow.tar.gz'), [
      { name: 'h/etc/hostname', type: 'symlink', linkname: '/etc/shadow' },
      { name: 'h/proc/1/mountinfo', type: 'symlink', linkname: '../../../../../etc/shadow' },
      { name: 'h/proc/1/ns/net', type: 'symlink', linkname: 'net:[4026531840]' },
    ]);
    const folder = join(dir, 'shadow-dir');
    mkdirSync(join(folder, 'etc'), { recursive: true });
    symlinkSync('/etc/shadow', join(folder, 'etc/hostname'));
    symlinkSync('/', join(folder, 'root-link'));
    writeFileSync(join(folder, 'date.txt'), '# date -R\nWed, 08 Feb 2017 17:05:41 +0800\n');
    for (const b of [file, folder]) {
      const r = report([b, '--format', 'json', '--fail-on', 'none', '--verbose']);
      expect(r.stdout).not.toMatch(/root:[^\n]*:\d+:/); // a shadow line
      expect((r.json().hosts[0] as { id: string }).id).not.toMatch(/root/);
    }
  });

  it('hard links, devices and fifos are skipped with a note, and a fifo in a folder does not hang', async () => {
    const file = await makeTar(join(dir, 'odd.tar.gz'), [
      { name: 'h/etc/hostname', data: 'odd\n' },
      { name: 'h/hard', type: 'link', linkname: 'h/etc/hostname' },
      { name: 'h/dev/sda', type: 'block-device' },
      { name: 'h/dev/tty', type: 'character-device' },
      { name: 'h/pipe', type: 'fifo' },
    ]);
    const j = report([file, '--format', 'json', '--fail-on', 'none', '--verbose']).json();
    expect(j.diagnostics.filter((d) => /not a regular file/.test(d.message)).length).toBe(4);
    const folder = join(dir, 'fifo-dir');
    mkdirSync(folder);
    writeFileSync(join(folder, 'hostname.txt'), '# hostname\nfifo-host\n');
    expect(spawnSync('mkfifo', [join(folder, 'cni.log')]).status).toBe(0);
    expect(report([folder, '--format', 'json', '--fail-on', 'none']).code).toBe(0);
  });
});

describe('hostile content', () => {
  it('a 200 MB single line is cut, with a warning, and the rest of the file is read', async () => {
    const file = join(dir, 'longline.tar.gz');
    const pack = tar.pack();
    const done = pipeline(pack, createGzip({ level: 1 }), createWriteStream(file));
    const size = 200 * 1024 * 1024;
    const content = Buffer.concat([Buffer.from(`${glogAdd('before', 'd'.repeat(64), '10.9.0.4')}\n`), Buffer.alloc(size, 0x61), Buffer.from(`\n${glogAdd('after', 'a'.repeat(64), '10.9.0.1')}\n`)]);
    pack.entry({ name: 'h/var/log/cni/cni.log', size: content.length }, content);
    pack.entry({ name: 'h/etc/hostname', size: 3 }, 'big');
    pack.finalize();
    await done;
    const j = report([file, '--format', 'json', '--fail-on', 'none', '--year', '2017']).json();
    expect(j.diagnostics).toContainEqual(expect.objectContaining({ level: 'warning', message: expect.stringMatching(/line longer than 1048576 bytes; cut/) }));
    expect(j.findings.some((f) => f.ips.includes('10.9.0.4'))).toBe(true);
    expect(j.findings.some((f) => f.ips.includes('10.9.0.1'))).toBe(true);
  });

  it('binary garbage named cni.log, and invalid UTF-8 and NUL bytes in log lines, cost no more than a note', async () => {
    const folder = join(dir, 'garbage');
    mkdirSync(join(folder, 'var/log/cni'), { recursive: true });
    let seed = 7;
    const random = Buffer.alloc(1 << 20, 0).map(() => (seed = (seed * 1103515245 + 12345) & 0xff));
    writeFileSync(join(folder, 'var/log/cni/cni.log'), random);
    writeFileSync(join(folder, 'var/log/cni/other.log'), Buffer.concat([Buffer.from(glogAdd('bad\xff\xfename\0x', 'b'.repeat(64), '10.9.0.2'), 'latin1'), Buffer.from('\n')]));
    const r = report([folder, '--fail-on', 'none', '--year', '2017']);
    expect(r.code).toBe(0);
    expect(r.stdout).not.toMatch(/\0/);
    expect(r.stdout).toMatch(/10\.9\.0\.2/);
  });

  it('terminal escapes in pod names never reach the terminal', async () => {
    const folder = join(dir, 'ansi');
    mkdirSync(folder);
    const evil = 'pod\x1b]0;owned\x07\x1b[2J\x1b[31mred';
    writeFileSync(join(folder, 'cni.log'), `${glogAdd(evil, 'c'.repeat(64), '10.9.0.3')}\n`);
    writeFileSync(join(folder, 'inspect.json'), JSON.stringify([{ Id: 'c'.repeat(64), Name: `/${evil}`, State: { Status: 'dead', Dead: true }, Config: { Labels: { 'io.kubernetes.pod.name': evil } } }]));
    for (const format of ['text', 'markdown']) {
      const r = report([folder, '--format', format, '--fail-on', 'none', '--year', '2017', '--verbose']);
      expect(r.stdout).not.toMatch(/\x1b/);
      expect(r.stdout).toMatch(/pod\\x1b\]0;owned\\x07/);
    }
  });

  it('a bundle past --max-bundle-bytes says which of its files are the largest, to leave out or cut', async () => {
    const log = (mb: number, line: string) => `${line}\n`.repeat(Math.ceil((mb * 1e6) / (line.length + 1)));
    const glog = 'I0206 12:22:17.639674   27084 server.go:81] nothing about any sandbox here';
    const bundle = await makeTar(join(dir, 'too-big.tar.gz'), [
      { name: 'node/etc/hostname', data: 'node-1\n' },
      { name: 'node/var/log/cni/cni.log', data: log(1.5, glog) },
      { name: 'node/var/log/messages', data: log(0.6, 'Feb  6 12:22:17 node-1 kernel: eth0: link up') },
      { name: 'node/var/log/docker.log', data: log(3, 'time="2017-02-06T12:22:17.000000000+08:00" level=info msg="ignoring event"') },
      { name: 'node/var/log/kubelet.log', data: log(2, glog) },
    ]);
    const r = report([bundle, '--format', 'json', '--max-bundle-bytes', String(5 * 1000 * 1000)]);
    expect(r.code).toBe(2); // what came before the limit is read; the report says it is partial
    const [limit] = r.json().diagnostics.filter((d) => d.level === 'error');
    // docker.log is where the limit was reached: it is named with the larger file before it, largest first; files under
    // a megabyte are not worth naming, and the one after the limit was not reached. The message names the bundle once.
    expect(limit.message).toMatch(/^more than 5000000 bytes once decompressed; raise --max-bundle-bytes if this is expected\. The largest files it reached: node\/var\/log\/docker\.log \(3\.0 MB\), node\/var\/log\/cni\/cni\.log \(1\.5 MB\); leave them out of the bundle, or keep only their last lines/);
  });

  it('--max-memory stops reading when the process holds more, and says so; a limit that is not a size is refused', async () => {
    const bundle = await makeTar(join(dir, 'some.tar.gz'), [
      { name: 'node/etc/hostname', data: 'node-1\n' },
      { name: 'node/var/log/cni/cni.log', data: 'I0206 12:22:17.639674   27084 server.go:81] nothing here\n'.repeat(1000) },
    ]);
    // No process runs in 1 MiB: the first check stops the bundle, which then holds nothing usable.
    const r = report([bundle, '--max-memory', '1']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/memory use passed --max-memory \(1 MiB\) at some\/node\/etc\/hostname; the rest of this bundle was not read\. Raise --max-memory if the machine has room\.\n$/); // and nothing else: what was not read is not "no evidence"
    // A generous limit changes nothing.
    expect(report([bundle, '--max-memory', '65536', '--format', 'json', '--fail-on', 'none']).code).toBe(0);
    const bad = report([bundle, '--max-memory', '0']);
    expect([bad.code, bad.stderr]).toEqual([2, expect.stringMatching(/--max-memory must be a positive number/)]);
  });

  it('a gzip bomb stops at --max-bundle-bytes with exit 2, quickly', async () => {
    const bomb = join(dir, 'bomb.tar.gz');
    const pack = tar.pack();
    const done = pipeline(pack, createGzip({ level: 9 }), createWriteStream(bomb));
    const size = 512 * 1024 * 1024;
    const entry = pack.entry({ name: 'zeros.log', size }, () => undefined);
    const chunk = Buffer.alloc(1 << 20);
    for (let i = 0; i < size / chunk.length; i++) if (!entry.write(chunk)) await new Promise((r) => entry.once('drain', r));
    entry.end();
    pack.finalize();
    await done;
    const r = report([bomb, '--max-bundle-bytes', String(64 * 1024 * 1024)]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/more than 67108864 bytes once decompressed; raise --max-bundle-bytes/);
  });

  it('100,000 tiny files are read; --max-entries bounds them', async () => {
    const items: TarItem[] = [{ name: 'h/etc/hostname', data: 'many\n' }];
    for (let i = 0; i < 100_000; i++) items.push({ name: `h/junk/${i % 100}/${i}.txt`, data: 'x' });
    const file = await makeTar(join(dir, 'many.tar.gz'), items);
    expect((report([file, '--format', 'json', '--fail-on', 'none']).json().hosts[0] as { id: string }).id).toBe('many');
    const bounded = report([file, '--format', 'json', '--fail-on', 'none', '--max-entries', '1000']);
    expect(bounded.code).toBe(2);
    expect(bounded.json().diagnostics).toContainEqual(expect.objectContaining({ message: expect.stringMatching(/more than 1000 entries/) }));
  });

  it('very deep folders and a deeply nested JSON document', async () => {
    const deep = `${'d/'.repeat(3000)}proc/1/ns/net`;
    const nested = `# docker inspect x\n${'['.repeat(200_000)}${']'.repeat(200_000)}\n`;
    const file = await makeTar(join(dir, 'deep.tar.gz'), [
      { name: deep, type: 'symlink', linkname: 'net:[4026531840]' },
      { name: 'nested.log', data: nested },
      { name: 'etc/hostname', data: 'deep\n' },
    ]);
    const r = report([file, '--format', 'json', '--fail-on', 'none']);
    expect(r.code).toBe(0);
  });

  it('docker inspect that is valid JSON of the wrong shape', async () => {
    const folder = join(dir, 'shape');
    mkdirSync(folder);
    writeFileSync(join(folder, 'a.log'), `# docker inspect a b c\n[1, "two", null, {"Id": 5}, {"Id": "${'e'.repeat(64)}", "State": "running", "NetworkSettings": [], "Config": {"Labels": 7}, "HostConfig": null}]\n`);
    writeFileSync(join(folder, 'hostname'), '# hostname\nshape\n');
    const j = report([folder, '--format', 'json', '--fail-on', 'none']).json();
    expect((j.hosts[0] as { id: string }).id).toBe('shape');
  });
});

describe('one corrupt file never hides the others', () => {
  it('the seed host with broken files added still gives the same findings', async () => {
    const folder = join(dir, 'seed-plus-junk');
    spawnSync('cp', ['-a', SEED4, folder]);
    writeFileSync(join(folder, 'commands/broken-inspect.json'), '[{"Id": "' + 'f'.repeat(64) + '", "State": {');
    writeFileSync(join(folder, 'proc/8581/mountinfo.bak'), '\0\0\0garbage');
    writeFileSync(join(folder, 'commands/broken-session.txt'), '# nsenter -t 8581 -m nsenter --net=/var/run/docker/netns/cf51d21b4b4e ip ad\n\x00\xff\n4032: eth0@if\n    inet 999.1.1.1/99 scope\n');
    const clean = report([SEED4, '--format', 'json', '--fail-on', 'none']).json();
    const junk = report([folder, '--format', 'json', '--fail-on', 'none']).json();
    expect(junk.findings.map((f) => f.rule)).toEqual(clean.findings.map((f) => f.rule));
  });
});

describe('bundles gathered by other hands', () => {
  const node = join(ROOT, 'samples/cadvisor-run-pin/k8s-node-07');
  const files = (d: string): string[] => readdirSync(d, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? files(join(d, e.name)) : e.isFile() ? [join(d, e.name)] : []));
  const utf16be = (t: string) => Buffer.from(t, 'utf16le').swap16();
  // What Windows does to a text file: Notepad, PowerShell 5's `>` (UTF-16LE with CRLF), and the rarer big-endian UTF-16.
  const saved: [string, (text: string) => Buffer][] = [
    ['CRLF line ends', (t) => Buffer.from(t.replace(/\n/g, '\r\n'))],
    ['a UTF-8 byte order mark', (t) => Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(t)])],
    ['UTF-16LE with CRLF (PowerShell 5)', (t) => Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(t.replace(/\n/g, '\r\n'), 'utf16le')])],
    ['UTF-16BE', (t) => Buffer.concat([Buffer.from([0xfe, 0xff]), utf16be(t)])],
  ];
  it.each(saved)('every file saved with %s: the same findings, no notes, nothing of the encoding in the evidence', async (what, encode) => {
    const folder = join(dir, `k8s-node-07-${what.replace(/\W+/g, '-')}`);
    spawnSync('cp', ['-a', node, folder]);
    for (const f of files(folder)) writeFileSync(f, encode(readFileSync(f, 'utf8')));
    const lf = report([node, '--format', 'json', '--fail-on', 'none']).json();
    const other = report([folder, '--format', 'json', '--fail-on', 'none', '--verbose']);
    type J = typeof lf & { findings: { title: string; evidence: { text: string }[] }[] };
    const j = other.json() as J;
    expect(j.findings.map((f) => `${f.rule} ${f.title}`)).toEqual((lf as J).findings.map((f) => `${f.rule} ${f.title}`));
    expect(j.findings.flatMap((f) => f.evidence.map((e) => e.text))).toEqual((lf as J).findings.flatMap((f) => f.evidence.map((e) => e.text)));
    expect(j.diagnostics).toEqual([]);
  });
});

describe('zip bundles', () => {
  type J = { findings: { rule: string; title: string; ips: string[]; evidence: { source: string; text: string }[] }[]; diagnostics: { level: string; source: string; message: string }[] };
  /** A folder as zip items, symlinks kept as links (zip -y), under `prefix`. */
  const zipItems = (root: string, prefix: string, sep = '/'): ZipItem[] =>
    readdirSync(root, { withFileTypes: true, recursive: true })
      .map((e) => ({ e, abs: join(e.parentPath, e.name) }))
      .sort((a, b) => a.abs.localeCompare(b.abs))
      .flatMap(({ e, abs }): ZipItem[] => {
        const name = `${prefix}${abs.slice(root.length + 1)}`.replace(/\//g, sep);
        if (e.isSymbolicLink()) return [{ name, data: readlinkSync(abs), mode: 0o120777 }];
        if (e.isDirectory()) return [{ name: `${name}${sep}` }];
        return [{ name, data: readFileSync(abs), deflate: true }];
      });

  it('a zip of a host folder, symlinks and all, gives what the folder gives', async () => {
    const zip = join(dir, '10.2.1.4.zip');
    writeFileSync(zip, makeZip(zipItems(SEED4, '10.2.1.4/')));
    const folder = report([SEED4, '--format', 'json', '--fail-on', 'none']).json() as J;
    const zipped = report([zip, '--format', 'json', '--fail-on', 'none']).json() as J;
    expect(zipped.findings.map((f) => `${f.rule} ${f.title}`)).toEqual(folder.findings.map((f) => `${f.rule} ${f.title}`));
    // The zip holds the host's folder: its files are one folder deeper than the folder's own.
    expect(zipped.findings.flatMap((f) => f.evidence.map((e) => `${e.source} ${e.text}`))).toEqual(folder.findings.flatMap((f) => f.evidence.map((e) => `10.2.1.4/${e.source} ${e.text}`)));
    expect(zipped.diagnostics).toEqual(folder.diagnostics);
  });

  it("Windows PowerShell's Compress-Archive (backslashes) reads as folders too", async () => {
    const zip = join(dir, 'backslashed.zip');
    writeFileSync(zip, makeZip(zipItems(join(ROOT, 'samples/cadvisor-run-pin/k8s-node-07'), 'k8s-node-07\\', '\\')));
    const folder = report([join(ROOT, 'samples/cadvisor-run-pin/k8s-node-07'), '--format', 'json', '--fail-on', 'none']).json() as J;
    const zipped = report([zip, '--format', 'json', '--fail-on', 'none']).json() as J;
    expect(zipped.findings.map((f) => `${f.rule} ${f.title}`)).toEqual(folder.findings.map((f) => `${f.rule} ${f.title}`));
  });

  it('.. names are refused, absolute ones read as relative, a symlink out is text, a corrupt file or link costs no more', async () => {
    const zip = join(dir, 'hostile.zip');
    writeFileSync(zip, makeZip([
      { name: '../../tmp/forensics-zip-escape', data: 'x' },
      { name: '/var/log/cni/cni.log', data: `${glogAdd('abs', 'a'.repeat(64), '10.9.1.1')}\n`, deflate: true },
      { name: 'proc/4242/ns/net', data: '/etc/shadow', mode: 0o120777 },
      { name: 'proc/4243/ns/net', data: 'net:[4026532999]', mode: 0o120777, corrupt: true }, // a link that does not inflate
      { name: 'var/log/cni/broken.log', data: `${glogAdd('crc', 'c'.repeat(64), '10.9.1.2')}\n`, corrupt: true },
      { name: 'var/log/cni/after.log', data: `${glogAdd('after', 'd'.repeat(64), '10.9.1.3')}\n` },
    ]));
    const r = report([zip, '--format', 'json', '--fail-on', 'none', '--year', '2017', '--verbose']);
    expect(r.code).toBe(0);
    const j = r.json() as J;
    expect(j.diagnostics).toContainEqual(expect.objectContaining({ level: 'warning', source: 'hostile/../../tmp/forensics-zip-escape', message: expect.stringMatching(/climbs out/) }));
    expect(j.diagnostics).toContainEqual(expect.objectContaining({ level: 'info', source: 'hostile//var/log/cni/cni.log', message: expect.stringMatching(/absolute entry path/) }));
    expect(j.diagnostics).toContainEqual(expect.objectContaining({ level: 'warning', source: 'hostile/var/log/cni/broken.log', message: expect.stringMatching(/cannot read \(corrupt zip entry\)/) }));
    const ips = new Set(j.findings.flatMap((f) => f.ips));
    expect([...ips].sort()).toEqual(['10.9.1.1', '10.9.1.3']);
    expect(readdirSync('/tmp')).not.toContain('forensics-zip-escape');
    expect(r.stdout).not.toMatch(/root:/); // the symlink's target is text: /etc/shadow is never opened
  });

  it('a zip of node archives says to extract them: archives inside a bundle are not opened', async () => {
    const healthy = readdirSync(join(ROOT, 'samples/healthy-node')).find((f) => f.endsWith('.tar.gz'))!;
    const zip = join(dir, 'nodes.zip');
    const data = readFileSync(join(ROOT, 'samples/healthy-node', healthy));
    writeFileSync(zip, makeZip([{ name: 'node-a.tar.gz', data }, { name: 'node-b.tar.gz', data }]));
    const r = report([zip]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/nodes\.zip: no evidence recognised in this bundle, which holds archives \(node-a\.tar\.gz, node-b\.tar\.gz\): archives inside a bundle are not opened\. Extract it/);
  });

  it('a zip bomb stops at --max-bundle-bytes with exit 2; a truncated zip says what to do', async () => {
    const bomb = join(dir, 'bomb.zip');
    writeFileSync(bomb, makeZip([{ name: 'var/log/cni/cni.log', data: Buffer.alloc(64 << 20, 'a\n'), deflate: true }]));
    const r = report([bomb, '--max-bundle-bytes', String(8 << 20)]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/more than 8388608 bytes once decompressed; raise --max-bundle-bytes/);
    const cut = join(dir, 'cut.zip');
    const whole = makeZip(zipItems(SEED4, '10.2.1.4/'));
    writeFileSync(cut, whole.subarray(0, whole.length - 100));
    const t = report([cut]);
    expect(t.code).toBe(2);
    expect(t.stderr).toMatch(/cut\.zip: not a readable zip \(.*\)\. A zip is read from its end/);
  });
});

describe('docker inspect saved other ways', () => {
  const node = join(ROOT, 'samples/cadvisor-run-pin/k8s-node-07');
  const saved = readFileSync(join(node, 'commands/docker-inspect.json'), 'utf8');
  const items = JSON.parse(saved.slice(saved.indexOf('\n') + 1)) as unknown[]; // after the "# docker inspect …" line
  type J = { findings: { rule: string; title: string }[]; diagnostics: { level: string; source: string; message: string }[] };
  const titles = (j: J) => j.findings.map((f) => `${f.rule} ${f.title}`);
  const withInspect = (name: string, text: string) => {
    const folder = join(dir, name);
    spawnSync('cp', ['-a', node, folder]);
    writeFileSync(join(folder, 'commands/docker-inspect.json'), text);
    return report([folder, '--format', 'json', '--fail-on', 'none']).json() as J;
  };
  const asSaved = report([node, '--format', 'json', '--fail-on', 'none']).json() as J;

  it.each([
    ["one object per line (docker inspect --format '{{json .}}')", items.map((c) => JSON.stringify(c)).join('\n')],
    ['one array per container, one after the other', items.map((c) => JSON.stringify([c], null, 4)).join('\n')],
  ])('%s: every container is read', (what, text) => {
    const j = withInspect(`inspect-${what.length}`, `${text}\n`);
    expect(titles(j)).toEqual(titles(asSaved));
    expect(j.diagnostics).toEqual([]);
  });

  it('a document cut short after the first ones keeps those, with a warning', () => {
    const text = `${items.slice(0, 2).map((c) => JSON.stringify(c)).join('\n')}\n${JSON.stringify(items[2]).slice(0, 200)}\n`;
    const j = withInspect('inspect-cut', text);
    expect(j.diagnostics).toContainEqual(expect.objectContaining({ level: 'warning', message: 'docker inspect output is not complete JSON' }));
    expect(j.findings.some((f) => f.rule === 'sandbox-netns-not-closed')).toBe(true); // the first container, read
  });
});

describe('compressed files inside a bundle (rotated logs)', () => {
  const NODE7 = join(ROOT, 'samples/cadvisor-run-pin/k8s-node-07');
  const CALICO = 'var/log/calico/cni/cni.log';
  type Json = ReturnType<ReturnType<typeof report>['json']> & { findings: { rule: string; evidence: { source: string; line: number }[] }[] };
  const ops = (n: number, from = 0) => Array.from({ length: n }, (_, i) => glogAdd(`p${from + i}`, `${(from + i).toString(16).padStart(12, '0')}${'e'.repeat(52)}`, `10.77.${(from + i) >> 8}.${(from + i) & 255}`)).join('\n') + '\n';
  const ipsOf = (j: Json) => new Set(j.findings.filter((f) => f.rule === 'ip-last-holder').flatMap((f) => f.ips));

  it('a gzipped CNI log (cni.log.1.gz) is read as the log it holds, its evidence named by the .gz file', async () => {
    const folder = join(dir, 'rotated');
    spawnSync('cp', ['-a', NODE7, folder]);
    writeFileSync(join(folder, `${CALICO}.1.gz`), gzipSync(readFileSync(join(folder, CALICO))));
    rmSync(join(folder, CALICO));
    const plain = report([NODE7, '--format', 'json', '--fail-on', 'none']).json() as Json;
    const rotated = report([folder, '--format', 'json', '--fail-on', 'none']).json() as Json;
    expect(rotated.findings.map((f) => f.rule)).toEqual(plain.findings.map((f) => f.rule));
    const reused = rotated.findings.find((f) => f.rule === 'ip-reused-while-live'); // only the CNI log tells it
    expect(reused?.evidence.map((e) => e.source)).toContain(`rotated/${CALICO}.1.gz`);
    expect(rotated.diagnostics.filter((d) => d.source.includes('cni.log'))).toEqual([]);
  });

  it('a truncated .gz costs one warning; its lines before the cut and the files after it are read', async () => {
    const whole = gzipSync(ops(3000));
    const bundle = await makeTar(join(dir, 'cut-member.tar'), [
      { name: 'var/log/cni/cni.log.2.gz', data: whole.subarray(0, Math.floor(whole.length * 0.6)) },
      { name: 'var/log/cni/cni.log', data: ops(1, 5000) },
    ], false);
    const r = report([bundle, '--format', 'json', '--fail-on', 'none', '--year', '2017']);
    expect(r.code).toBe(0);
    const j = r.json() as Json;
    expect(j.diagnostics).toContainEqual(expect.objectContaining({ level: 'warning', source: 'cut-member/var/log/cni/cni.log.2.gz', message: expect.stringMatching(/^corrupt gzip data .*what came before was read$/) }));
    const ips = ipsOf(j);
    expect(ips.has('10.77.0.0')).toBe(true); // before the cut
    expect(ips.has('10.77.11.183')).toBe(false); // the last line, after it
    expect(ips.has('10.77.19.136')).toBe(true); // the next file
  });

  it('a .gz that inflates past --max-bundle-bytes stops there with a warning; the next file is read', async () => {
    const bundle = await makeTar(join(dir, 'big-member.tar'), [
      { name: 'var/log/cni/cni.log.1.gz', data: gzipSync(ops(40000)) },
      { name: 'var/log/cni/cni.log', data: ops(1, 50000) },
    ], false);
    const r = report([bundle, '--format', 'json', '--fail-on', 'none', '--year', '2017', '--max-bundle-bytes', String(4 * 1024 * 1024)]);
    const j = r.json() as Json;
    expect(j.diagnostics).toContainEqual(expect.objectContaining({ level: 'warning', source: 'big-member/var/log/cni/cni.log.1.gz', message: expect.stringMatching(/^more than 4194304 bytes once decompressed; the rest of this file was not read/) }));
    const ips = ipsOf(j);
    expect(ips.has('10.77.0.1')).toBe(true);
    expect(ips.has('10.77.156.63')).toBe(false); // the gz's last line, past the cap
    expect(ips.has('10.77.195.80')).toBe(true);
  });

  it('a .gz that is not evidence is skipped with a note, and the next file is read', async () => {
    const bundle = await makeTar(join(dir, 'other-gz.tar'), [
      { name: 'var/log/dmesg.gz', data: gzipSync(Buffer.alloc(1 << 20, 'x')) },
      { name: 'var/log/cni/cni.log', data: ops(1, 7) },
    ], false);
    const j = report([bundle, '--format', 'json', '--fail-on', 'none', '--year', '2017', '--verbose']).json() as Json;
    expect(j.diagnostics).toContainEqual(expect.objectContaining({ level: 'info', source: 'other-gz/var/log/dmesg.gz', message: expect.stringMatching(/not recognised/) }));
    expect(ipsOf(j).has('10.77.0.7')).toBe(true);
  });

  // "hello\n" as bzip2 and zstd write it: only the first bytes are looked at.
  const BZIP2 = Buffer.from('425a6839314159265359c1c080e2000001410000100244a00030cd00c3462997177245385090c1c080e2', 'hex');
  const ZSTD = Buffer.from('28b52ffd045831000068656c6c6f0a5388bd91', 'hex');

  it('a bundle compressed with bzip2 is unusable input, with the command that undoes it; another bundle is still read', async () => {
    const packed = join(dir, 'node-3.tar.bz2');
    writeFileSync(packed, BZIP2);
    const r = report([packed]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`${packed}: compressed with bzip2, which forensics does not read. Decompress it first (bunzip2 -k ${packed})`);
    const good = await makeTar(join(dir, 'good.tar'), [{ name: 'var/log/cni/cni.log', data: ops(1, 3) }], false);
    const j = report([packed, good, '--format', 'json', '--fail-on', 'none', '--year', '2017']).json() as Json;
    expect(j.diagnostics).toContainEqual(expect.objectContaining({ level: 'error', source: packed, message: expect.stringMatching(/^compressed with bzip2/) }));
    expect(ipsOf(j).has('10.77.0.3')).toBe(true);
  });

  it('a rotated log compressed with zstd inside a bundle costs a warning that says so, and the next file is read', async () => {
    const bundle = await makeTar(join(dir, 'zst-member.tar'), [
      { name: 'var/log/cni/cni.log.1.zst', data: ZSTD },
      { name: 'var/log/cni/cni.log', data: ops(1, 7) },
    ], false);
    const j = report([bundle, '--format', 'json', '--fail-on', 'none', '--year', '2017']).json() as Json;
    expect(j.diagnostics).toContainEqual(expect.objectContaining({ level: 'warning', source: 'zst-member/var/log/cni/cni.log.1.zst', message: expect.stringMatching(/^compressed with zstd, which is not read \(gzip is\); decompress it \(zstd -d\)/) }));
    expect(ipsOf(j).has('10.77.0.7')).toBe(true);
  });
});

describe.skipIf(process.getuid?.() !== 0 || spawnSync('sh', ['-c', 'command -v setpriv']).status !== 0)('files without read permission', () => {
  it('an unreadable bundle is unusable input (exit 2); an unreadable file in a folder costs one warning', () => {
    const locked = join(dir, 'locked.tar.gz');
    writeFileSync(locked, gzipSync(Buffer.alloc(1024)));
    chmodSync(locked, 0o000);
    chmodSync(dir, 0o755);
    const r = report([locked], { asNobody: true });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/cannot read \(EACCES\)\. Check its permissions/);
    const folder = join(dir, 'partly');
    mkdirSync(folder);
    writeFileSync(join(folder, 'hostname'), '# hostname\npartly\n');
    writeFileSync(join(folder, 'secret.log'), 'x');
    chmodSync(folder, 0o755);
    chmodSync(join(folder, 'hostname'), 0o644);
    chmodSync(join(folder, 'secret.log'), 0o000);
    const p = report([folder, '--format', 'json', '--fail-on', 'none'], { asNobody: true });
    expect(p.json().diagnostics).toContainEqual(expect.objectContaining({ level: 'warning', message: 'cannot read (EACCES); skipped' }));
    expect((p.json().hosts[0] as { id: string }).id).toBe('partly');
  });
});
