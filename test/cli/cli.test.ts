import { spawnSync } from 'node:child_process';
import { copyFileSync, cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const BIN = join(__dirname, '../../dist/src/cli/main.js');
const SEED = ['samples/seed-incident/10.2.1.4', 'samples/seed-incident/10.2.1.6'];

function run(...args: string[]) {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024, env: { ...process.env, NO_COLOR: '1' }, cwd: join(__dirname, '../..') });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('forensics CLI', () => {
  it('prints help for every command', () => {
    for (const cmd of [[], ['report'], ['rules'], ['explain'], ['formats'], ['replay']]) {
      const r = run(...cmd, '--help');
      expect(r.code, `${cmd.join(' ')} --help`).toBe(0);
      expect(r.stdout).toContain('forensics');
    }
  });

  it('reports the seed incident as JSON with the documented shape, and exits 1', () => {
    const r = run('report', ...SEED, '--format', 'json');
    expect(r.code).toBe(1);
    const report = JSON.parse(r.stdout);
    expect(Object.keys(report)).toEqual(['tool', 'hosts', 'findings', 'diagnostics', 'skipped']);
    expect(report.tool.name).toBe('cni-forensics');
    expect(report.hosts.map((h: { id: string; timezone: string; kernel: string }) => [h.id, h.timezone, h.kernel])).toEqual([
      ['node-10-2-1-4', 'Asia/Shanghai', '3.10.0-327.36.3.el7.x86_64'],
      ['node-10-2-1-6', 'Asia/Shanghai', '3.10.0-327.36.3.el7.x86_64'],
    ]);
    const leak = report.findings.find((f: { rule: string }) => f.rule === 'netns-leaked');
    expect(leak).toMatchObject({ severity: 'error', host: 'node-10-2-1-4', ips: ['10.2.1.15', '115.159.246.146'], containers: [{ id: expect.stringMatching(/^326383b80aba/), state: 'dead', pod: 'demo/loadbalancenatwindyliu-2396807556-ure36' }] });
    expect(leak.pinnedBy.map((p: { pid: number }) => p.pid)).toEqual([8581, 12011]);
    expect(leak.remediation).toContain('nsenter -t 8581 -m umount /run/docker/netns/cf51d21b4b4e   # releases the copy held by mnt:[4026532201]');
    for (const f of report.findings) for (const e of f.evidence) expect(e).toEqual({ source: expect.any(String), line: expect.any(Number), text: expect.any(String) });
  });

  it('maps --fail-on to the exit code', () => {
    expect(run('report', ...SEED, '--fail-on', 'none').code).toBe(0);
    expect(run('report', ...SEED, '--fail-on', 'error').code).toBe(1);
    expect(run('report', 'samples/healthy-node/worker-7.tar.gz').code).toBe(0);
    expect(run('report', 'samples/healthy-node/worker-7.tar.gz', '--fail-on', 'info').code).toBe(1);
  });

  it('exits 2 with a message that says what to do for a missing path or a bad option', () => {
    const missing = run('report', '/nonexistent/bundle.tar.gz');
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/no such file or directory.*forensics collect/s);
    const zone = run('report', ...SEED, '--timezone', 'Mars/Olympus');
    expect(zone.code).toBe(2);
    expect(zone.stderr).toMatch(/IANA name/);
    expect(run('explain', 'no-such-rule').stderr).toMatch(/Known rules: netns-leaked/);
  });

  it('gives byte-identical output for the same bundles: text, JSON, Markdown, HTML and NDJSON', () => {
    for (const fmt of ['text', 'json', 'markdown', 'html']) expect(run('report', ...SEED, '--format', fmt).stdout).toBe(run('report', ...SEED, '--format', fmt).stdout);
    expect(run('timeline', ...SEED, '--format', 'ndjson').stdout).toBe(run('timeline', ...SEED, '--format', 'ndjson').stdout);
    const tgz = 'samples/healthy-node/worker-7.tar.gz';
    expect(run('report', tgz, '--format', 'json').stdout).toBe(run('report', tgz, '--format', 'json').stdout);
  });

  it('reads several small bundles with --jobs 2 as with --jobs 1 (on the main thread: a worker would cost more)', () => {
    const bundles = [...SEED, 'samples/healthy-node/worker-7.tar.gz'];
    for (const fmt of ['json', 'text']) expect(run('report', ...bundles, '--format', fmt, '--jobs', '2').stdout).toBe(run('report', ...bundles, '--format', fmt, '--jobs', '1').stdout);
    expect(run('timeline', ...bundles, '--format', 'ndjson', '--jobs', '2').stdout).toBe(run('timeline', ...bundles, '--format', 'ndjson', '--jobs', '1').stdout);
    expect(run('report', ...SEED, '/nonexistent.tar.gz', '--jobs', '2', '--format', 'json', '--fail-on', 'none').code).toBe(2);
  });

  it('says where it could not write the report, and exits 2', () => {
    const r = run('report', ...SEED, '--format', 'json', '-o', '/nonexistent-forensics-dir/report.json');
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('cannot write the report to /nonexistent-forensics-dir/report.json (ENOENT)');
    expect(r.stderr).not.toContain('internal error');
  });

  it('splits a big CNI log with a helper thread and reports exactly what one thread reports', async () => {
    const { messyCniLog } = await import('../cni-log.js');
    const dir = mkdtempSync(join(tmpdir(), 'forensics-shard-'));
    try {
      const lines = messyCniLog(48_000, 11).split('\n'); // over the 16 MiB from which a CNI log is split
      lines[30_000] += ` ${'z'.repeat(20_000)}`; // cut by --max-line-bytes: one warning, whichever threads read it
      const log = lines.join('\n');
      expect(log.length).toBeGreaterThan(16 * 1024 * 1024);
      mkdirSync(join(dir, 'node-a/var/log/cni'), { recursive: true });
      writeFileSync(join(dir, 'node-a/var/log/cni/cni.log'), log);
      const older = messyCniLog(45_000, 12); // a second big log: the helper again (the same thread, or a new one)
      expect(older.length).toBeGreaterThan(16 * 1024 * 1024);
      writeFileSync(join(dir, 'node-a/var/log/cni/cni.log.1'), older);
      writeFileSync(join(dir, 'node-a/hostname'), 'node-a\n');
      const bundle = join(dir, 'node-a.tar.gz');
      expect(spawnSync('tar', ['czf', bundle, '-C', dir, 'node-a']).status).toBe(0);
      const one = run('report', bundle, '--format', 'json', '--fail-on', 'none', '--jobs', '1', '--max-line-bytes', '16384');
      const two = run('report', bundle, '--format', 'json', '--fail-on', 'none', '--jobs', '2', '--max-line-bytes', '16384');
      expect(one.code).toBe(0);
      expect(JSON.parse(one.stdout).diagnostics.filter((d: { message: string }) => d.message.includes('line longer than')).map((d: { source: string }) => d.source)).toEqual(['node-a/node-a/var/log/cni/cni.log:30001']);
      expect(JSON.parse(one.stdout).findings.filter((f: { rule: string }) => f.rule === 'ip-last-holder').length).toBeGreaterThan(50);
      expect(two.stdout).toBe(one.stdout);
      // A folder starts the helper only when it meets the big log.
      const folder = (jobs: string) => run('report', join(dir, 'node-a'), '--format', 'json', '--fail-on', 'none', '--jobs', jobs, '--max-line-bytes', '16384').stdout;
      expect(folder('2')).toBe(folder('1'));
      // Two big bundles: the second is read in a worker thread, beside the first.
      expect(statSync(bundle).size).toBeGreaterThan(2 * 1024 * 1024);
      copyFileSync(bundle, join(dir, 'node-b.tar.gz'));
      const pair = (jobs: string) => run('report', bundle, join(dir, 'node-b.tar.gz'), '--format', 'json', '--fail-on', 'none', '--jobs', jobs, '--max-line-bytes', '16384').stdout;
      const both = pair('2');
      expect(both).toBe(pair('1'));
      expect((JSON.parse(both) as { hosts: unknown[] }).hosts).toHaveLength(2);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('splits a big CRLF CNI log whose blank line straddles the first 1 MiB read as one thread does', async () => {
    const { messyCniLog } = await import('../cni-log.js');
    const dir = mkdtempSync(join(tmpdir(), 'forensics-crlf-'));
    try {
      // A folder is read 1 MiB at a time: the first read ends with a blank line's \r, the next starts with its \n, so
      // the main thread joins an empty line that is in neither chunk and hands it to the helper on its own.
      const base = Buffer.from(`${messyCniLog(48_000, 5).split('\n').join('\r\n')}\r\n`);
      const M = 1 << 20;
      const cut = base.lastIndexOf('\r\n', M - 4000) + 2;
      const pad = M - 3 - cut; // a filler line of pad bytes and its \r\n, then the blank line's \r at M - 1
      const log = Buffer.concat([base.subarray(0, cut), Buffer.from(`${'x'.repeat(pad)}\r\n\r\n`), base.subarray(cut)]);
      expect([log[M - 2], log[M - 1], log[M]]).toEqual([10, 13, 10]);
      expect(log.length).toBeGreaterThan(16 * 1024 * 1024);
      mkdirSync(join(dir, 'node-a/var/log/cni'), { recursive: true });
      writeFileSync(join(dir, 'node-a/var/log/cni/cni.log'), log);
      const one = run('report', join(dir, 'node-a'), '--format', 'json', '--fail-on', 'none', '--jobs', '1');
      const two = run('report', join(dir, 'node-a'), '--format', 'json', '--fail-on', 'none', '--jobs', '2');
      expect(two.stderr).toBe('');
      expect(two.code).toBe(0);
      expect(two.stdout).toBe(one.stdout);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('finds the same thing in a folder and in the same folder packed as .tar.gz', () => {
    const dir = mkdtempSync(join(tmpdir(), 'forensics-cli-'));
    try {
      const tgz = join(dir, '10.2.1.4.tar.gz');
      expect(spawnSync('tar', ['czf', tgz, '-C', 'samples/seed-incident', '10.2.1.4'], { cwd: join(__dirname, '../..') }).status).toBe(0);
      const strip = (out: string) => JSON.parse(out).findings.map((f: { rule: string; title: string; pinnedBy: unknown }) => [f.rule, f.title, f.pinnedBy]);
      expect(strip(run('report', tgz, SEED[1], '--format', 'json').stdout)).toEqual(strip(run('report', ...SEED, '--format', 'json').stdout));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('filters by --ip and lists rules and formats', () => {
    const only15 = JSON.parse(run('report', ...SEED, '--format', 'json', '--ip', '10.2.1.11').stdout);
    expect(only15.findings.map((f: { ips: string[] }) => f.ips)).toEqual([['10.2.1.11']]);
    expect(run('rules').stdout).toMatch(/^netns-leaked\s+error/m);
    expect(run('formats').stdout).toMatch(/mountinfo .*\n\s+collect: awk/);
  });

  it('prints collect.sh, which is the file in the repository', () => {
    const r = run('collect', '--print-script');
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(readFileSync(join(__dirname, '../../collect.sh'), 'utf8'));
    expect(spawnSync('sh', ['-n', join(__dirname, '../../collect.sh')]).status).toBe(0);
  });

  it('prints the timeline in local time with the host, and as Timesketch NDJSON with one type per field', () => {
    const text = run('timeline', ...SEED);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/^2017-02-06 12:22:17 \+08:00~ node-10-2-1-4 +cni:add +CNI ADD 326383b80aba/m);
    const lines = run('timeline', ...SEED, '--format', 'ndjson').stdout.trim().split('\n').map((l) => JSON.parse(l));
    expect(lines.length).toBeGreaterThan(10);
    const types = (o: Record<string, unknown>) => Object.fromEntries(Object.entries(o).map(([k, v]) => [k, typeof v]));
    for (const l of lines) expect(types(l)).toEqual(types(lines[0]));
    expect(Object.keys(lines[0])).toEqual(['message', 'datetime', 'timestamp', 'timestamp_desc', 'data_type', 'host', 'source', 'line', 'ip', 'container_id', 'pod', 'netns', 'pid', 'time_inferred', 'time_source']);
    const add = lines.find((l) => l.data_type === 'cni_forensics:cni:add' && l.container_id.startsWith('326383b80aba'));
    expect(add).toMatchObject({ datetime: '2017-02-06T12:22:17.639+08:00', timestamp: 1486354937639000, ip: '10.2.1.15', time_inferred: true });
    const only = run('timeline', ...SEED, '--format', 'ndjson', '--ip', '10.2.1.15', '--since', '2017-02-06T00:00+08:00').stdout.trim().split('\n').map((l) => JSON.parse(l));
    expect(only.every((l) => l.timestamp >= Date.parse('2017-02-05T16:00:00Z') * 1000)).toBe(true);
    expect(only.filter((l) => l.data_type === 'cni_forensics:cni:add').map((l) => l.host)).toEqual(['node-10-2-1-4', 'node-10-2-1-6']);
    expect(run('timeline', ...SEED, '--since', 'yesterday').code).toBe(2);
  });

  it('tells the story of one IP with --ip, in text and JSON', () => {
    const text = run('report', ...SEED, '--ip', '10.2.1.15');
    expect(text.stdout).toMatch(/10\.2\.1\.15 is answered from 2 places/);
    const json = JSON.parse(run('report', ...SEED, '--ip', '10.2.1.15', '--format', 'json').stdout);
    expect(json.ipFocus.current.map((h: { host: string; state: string }) => [h.host, h.state])).toEqual([['node-10-2-1-4', 'dead'], ['node-10-2-1-6', 'running']]);
    expect(json.findings.every((f: { ips: string[] }) => f.ips.includes('10.2.1.15'))).toBe(true);
  });

  it('writes Markdown ready for a ticket, with evidence and commands in fenced blocks', () => {
    const md = run('report', ...SEED, '--format', 'markdown').stdout;
    expect(md).toMatch(/^# cni-forensics report/);
    expect(md).toMatch(/## Error: Network namespace \/run\/docker\/netns\/cf51d21b4b4e has no process/);
    expect(md).toMatch(/```sh\n.*nsenter -t 8581 -m umount \/run\/docker\/netns\/cf51d21b4b4e/s);
    expect(md).toMatch(/Timeline:\n\n- 2017-02-0\d .*\+08:00/);
  });

  it('stops quietly when its reader goes away (| head), and names a missing path once', () => {
    const r = spawnSync('sh', ['-c', `"${process.execPath}" "${BIN}" formats | head -1`], { encoding: 'utf8' });
    expect(r.status).toBe(0);
    expect(r.stderr).not.toMatch(/EPIPE|Unhandled/);
    const missing = run('report', '/nonexistent/x.tar.gz');
    expect(missing.stderr.match(/\/nonexistent\/x\.tar\.gz/g)).toHaveLength(1);
  });

  it('runs as a program through its sh launcher line: node gets the young-generation cap, glibc two arenas, and every argument as given', () => {
    const dir = mkdtempSync(join(tmpdir(), 'fx launcher $HOME '));
    try {
      // A path with spaces, a $ and a quote must reach the report unchanged through sh's "$@".
      const bundle = join(dir, `node "a" $x`);
      cpSync(join(__dirname, '../../samples/seed-incident/10.2.1.4'), bundle, { recursive: true, verbatimSymlinks: true });
      const plainDir = mkdtempSync(join(tmpdir(), 'fx-probe-'));
      const probe = join(plainDir, 'probe.mjs'); // NODE_OPTIONS splits at spaces
      writeFileSync(probe, `process.stderr.write('execArgv=' + JSON.stringify(process.execArgv) + '\\n' + 'arenas=' + process.env.MALLOC_ARENA_MAX + '\\n');\n`);
      const env = { ...process.env, NODE_OPTIONS: `--import=${probe}` };
      delete env.MALLOC_ARENA_MAX;
      const r = spawnSync(BIN, ['report', bundle, '--format', 'json', '--fail-on', 'none'], { encoding: 'utf8', env });
      expect(r.status, r.stderr).toBe(0);
      expect(JSON.parse(/^execArgv=(.*)$/m.exec(r.stderr)![1])).toEqual(expect.arrayContaining(['--max-semi-space-size=4', '--initial-heap-size=64']));
      expect(/^arenas=(.*)$/m.exec(r.stderr)![1]).toBe('2'); // glibc's arenas capped, unless the caller set its own
      const own = spawnSync(BIN, ['rules'], { encoding: 'utf8', env: { ...env, MALLOC_ARENA_MAX: '4' } });
      expect(/^arenas=(.*)$/m.exec(own.stderr)![1]).toBe('4');
      const got = JSON.parse(r.stdout) as { hosts: { sources: string[] }[]; findings: { title: string }[] };
      expect(got.hosts[0].sources).toEqual([`node "a" $x`]); // the name as given, through sh and yargs
      const plain = JSON.parse(run('report', SEED[0], '--format', 'json', '--fail-on', 'none').stdout) as typeof got;
      expect(got.findings.length).toBeGreaterThan(0);
      expect(got.findings.map((f) => f.title)).toEqual(plain.findings.map((f) => f.title));
      rmSync(plainDir, { recursive: true, force: true });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('prints a shell completion script', () => {
    const r = run('completion');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/forensics/);
    expect(r.stdout).toMatch(/complete/);
  });

  it('replays every sample without drift', () => {
    const r = run('replay');
    expect(r.stdout).toMatch(/^ok\s+seed-incident$/m);
    expect(r.code).toBe(0);
  });

  it('reads a folder that only holds archives as those bundles: a sample folder, or the folder node archives were dropped in', () => {
    const healthy = run('report', 'samples/healthy-node', '--format', 'json');
    expect(healthy.code).toBe(0);
    expect((JSON.parse(healthy.stdout) as { hosts: { id: string }[] }).hosts.map((h) => h.id)).toEqual(['worker-7.dc2.example.net']);
    const sos = run('report', 'samples/sosreport-eks-stuck-sandbox', '--format', 'json', '--fail-on', 'error');
    expect(sos.code).toBe(1);
    const rules = (JSON.parse(sos.stdout) as { findings: { rule: string }[] }).findings.map((f) => f.rule);
    expect(rules).toEqual(expect.arrayContaining(['sandbox-netns-not-closed', 'sandbox-teardown-failed']));
  });

  it('shows a progress line on a terminal while reading, and none when stderr is a pipe', () => {
    const script = spawnSync('script', ['--version'], { encoding: 'utf8' });
    if (script.status !== 0) return console.log('skipping the terminal half: no `script` (util-linux) here');
    const dir = mkdtempSync(join(tmpdir(), 'forensics-progress-'));
    try {
      // A log big enough to take more than one progress tick.
      const line = 'I1125 10:00:00.000000   3110 server.go:81] ADD job-1_bench, ' + 'a'.repeat(64) + ', /proc/20001/ns/net, K8S_POD_NAME=job-1, data {"ips":[{"address":"10.64.0.2/16"}]}, err <nil>\n';
      writeFileSync(join(dir, 'cni.log'), line.repeat(60_000));
      const tty = spawnSync('script', ['-qc', `${process.execPath} ${BIN} report ${dir} --fail-on none -o ${join(dir, 'out.txt')}`, '/dev/null'], { encoding: 'utf8', cwd: join(__dirname, '../..') });
      expect(tty.status).toBe(0);
      expect(tty.stdout).toMatch(/reading .*: \d+ MB uncompressed · /);
      // An archive also says how far into it the reading is.
      const archive = join(tmpdir(), `forensics-progress-${process.pid}.tar.gz`);
      try {
        expect(spawnSync('tar', ['czf', archive, '-C', dir, 'cni.log']).status).toBe(0);
        const tgz = spawnSync('script', ['-qc', `${process.execPath} ${BIN} report ${archive} --fail-on none -o ${join(dir, 'out2.txt')}`, '/dev/null'], { encoding: 'utf8', cwd: join(__dirname, '../..') });
        expect(tgz.status).toBe(0);
        expect(tgz.stdout).toMatch(/reading .*\.tar\.gz: \d+% of \d+ MB, \d+ MB uncompressed · .*cni\.log/);
      } finally {
        rmSync(archive, { force: true });
      }
      const piped = run('report', dir, '--fail-on', 'none');
      expect(piped.stderr).not.toMatch(/reading /);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
