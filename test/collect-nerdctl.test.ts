// Both collectors ask nerdctl for every containerd namespace it knows but Kubernetes' (k8s.io, crictl's) and docker's
// (moby): a stand-in nerdctl on PATH answers, and logs what it was asked.
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { analyse } from '../src/engine/analyse.js';
import { removeCommand } from '../src/model/host.js';

const ROOT = join(__dirname, '..');
const BIN = join(ROOT, 'dist/src/cli/main.js');
const BUILD = '0c2f4e6a8b0d2f4a6c8e0b2d4f6a8c0e2b4d6f8a0c2e4b6d8f0a2c4e6b8d0f2a';

describe('collecting nerdctl containers of every namespace', () => {
  const dir = mkdtempSync(join(tmpdir(), 'forensics-nerdctl-'));
  const asked = join(dir, 'asked.log');
  const inspect = JSON.stringify([
    { Id: BUILD, Name: 'buildkitd', State: { Status: 'exited', Running: false, Pid: 0, ExitCode: 137, StartedAt: '2026-03-02T08:11:04Z', FinishedAt: '2026-03-03T10:00:00Z' }, Config: { Labels: {} }, NetworkSettings: { Networks: {} } },
  ]);
  writeFileSync(join(dir, 'inspect.json'), inspect);
  // The stand-in: the default namespace is empty; buildkit holds one exited container.
  writeFileSync(
    join(dir, 'nerdctl'),
    `#!/bin/sh
echo "$*" >> '${asked}'
case "$*" in
  "namespace ls -q") printf 'buildkit\\ndefault\\nk8s.io\\nmoby\\n' ;;
  "ps -aq --no-trunc") ;;
  "ps -a") echo 'CONTAINER ID    IMAGE    COMMAND    CREATED    STATUS    PORTS    NAMES' ;;
  "-n buildkit ps -aq --no-trunc") echo ${BUILD} ;;
  "-n buildkit ps -a") printf 'CONTAINER ID    IMAGE                      COMMAND        CREATED       STATUS                       PORTS    NAMES\\n${BUILD.slice(0, 12)}    docker.io/moby/buildkit    "buildkitd"    2 days ago    Exited (137) 20 hours ago             buildkitd\\n' ;;
  "-n buildkit inspect ${BUILD}") cat '${join(dir, 'inspect.json')}' ;;
  *) echo "unexpected: $*" >&2; exit 1 ;;
esac
`,
  );
  chmodSync(join(dir, 'nerdctl'), 0o755);
  const env = { ...process.env, PATH: `${dir}:${process.env.PATH}` };
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it.each([
    ['forensics collect', (out: string) => [process.execPath, BIN, 'collect', '-o', out, '--no-logs']],
    ['collect.sh', (out: string) => ['sh', join(ROOT, 'collect.sh'), '-o', out, '--no-logs']],
  ])('%s lists and inspects them, and the report knows their namespace', async (_name, argv) => {
    writeFileSync(asked, '');
    const out = join(dir, `${_name.replace(/\W/g, '')}.tar.gz`);
    const cmd = argv(out);
    const r = spawnSync(cmd[0], cmd.slice(1), { encoding: 'utf8', cwd: dir, env, timeout: 300_000 });
    expect(r.status, r.stderr).toBe(0);
    const lines = readFileSync(asked, 'utf8').trim().split('\n');
    expect(lines).toEqual(['ps -aq --no-trunc', 'ps -a', 'namespace ls -q', '-n buildkit ps -aq --no-trunc', '-n buildkit ps -a', `-n buildkit inspect ${BUILD}`]);
    const files = spawnSync('tar', ['tzf', out], { encoding: 'utf8' }).stdout.split('\n');
    expect(files.filter((f) => /commands\/nerdctl-ns-/.test(f)).map((f) => f.replace(/^.*commands\//, '')).sort()).toEqual(['nerdctl-ns-buildkit-inspect.json', 'nerdctl-ns-buildkit-ps-a.txt', 'nerdctl-ns-buildkit-ps-aq.txt']);
    const a = await analyse([out]);
    const c = [...a.hosts[0].containers.values()].find((x) => x.id === BUILD);
    expect([c?.runtime, c?.ctrNamespace, c?.state]).toEqual(['nerdctl', 'buildkit', 'exited']);
    expect(removeCommand(c!, 'why')).toBe(`nerdctl -n buildkit rm -f ${BUILD.slice(0, 12)}   # why`);
  });
});
