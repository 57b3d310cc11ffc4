import { describe, expect, it } from 'vitest';
import { parseText } from '../../src/engine/analyse.js';
import { parseNsMountLine, unescapeMountPath } from '../../parsers/mountinfo.js';
import { parseStatLine } from '../../parsers/proc-stat.js';
import { only } from '../helpers.js';

describe('mountinfo', () => {
  it('reads nsfs lines with their inode, path and propagation (real docker host lines)', async () => {
    const { facts, parsers } = await parseText(
      'proc/1040/mountinfo',
      [
        '24 1 252:1 / / rw,relatime shared:1 - ext4 /dev/vda1 rw',
        '510 27 0:3 net:[4026531993] /run/docker/netns/default rw shared:255 - nsfs nsfs rw',
        '854 364 0:4 net:[4026533185] /run/docker/netns/d8ef02b88399 rw shared:316 - nsfs nsfs rw',
        '95 94 0:4 net:[4026532248] /run/fxdocker/netns/3f2a9c1d7e4b rw master:4 - nsfs nsfs rw',
        '70 69 0:4 net:[4026532248] /run/fxdocker/netns/3f2a9c1d7e4c rw - nsfs nsfs rw',
        '71 69 0:4 mnt:[4026532250] /run/keep-mnt rw - nsfs nsfs rw',
      ].join('\n'),
    );
    expect(parsers).toEqual(['mountinfo']);
    const mounts = only(facts, 'nsMount');
    expect(mounts.map((m) => [m.pid, m.inode, m.path, m.propagation])).toEqual([
      [1040, '4026531993', '/run/docker/netns/default', 'shared:255'],
      [1040, '4026533185', '/run/docker/netns/d8ef02b88399', 'shared:316'],
      [1040, '4026532248', '/run/fxdocker/netns/3f2a9c1d7e4b', 'master:4'],
      [1040, '4026532248', '/run/fxdocker/netns/3f2a9c1d7e4c', ''],
    ]);
    expect(mounts[0].ev).toMatchObject({ source: 'test/proc/1040/mountinfo', line: 2 });
  });

  it('takes the pid from the awk FILENAME prefix and the grep "file:" prefix, whatever the file is called', async () => {
    const { facts } = await parseText(
      'notes/leak.txt',
      '/proc/8581/mountinfo 201 124 0:3 net:[4026532350] /run/docker/netns/cf51d21b4b4e rw - nsfs nsfs rw\n/proc/12011/mountinfo:201 124 0:3 net:[4026532350] /run/docker/netns/cf51d21b4b4e rw - nsfs nsfs rw\n',
    );
    expect(only(facts, 'nsMount').map((m) => m.pid)).toEqual([8581, 12011]);
  });

  it('keeps pre-3.19 procfs netns bind mounts by path, without inventing an inode', () => {
    const old = parseNsMountLine('201 124 0:3 / /run/docker/netns/cf51d21b4b4e rw,nosuid,nodev,noexec,relatime - proc proc rw');
    expect(old).toMatchObject({ path: '/run/docker/netns/cf51d21b4b4e', ns: 'net', fstype: 'proc' });
    expect(old?.inode).toBeUndefined();
    // Where the kernel does print the namespace as the root, take it.
    expect(parseNsMountLine('201 124 0:3 net:[4026532350] /run/docker/netns/x rw - proc proc rw')?.inode).toBe('4026532350');
    expect(parseNsMountLine('18 39 0:3 / /proc rw,nosuid,nodev,noexec,relatime shared:5 - proc proc rw')).toBeNull();
  });

  it('normalises /var/run to /run and unescapes octal paths', () => {
    expect(parseNsMountLine('5 1 0:4 net:[1] /var/run/netns/odd\\040name rw - nsfs nsfs rw')?.path).toBe('/run/netns/odd name');
    expect(unescapeMountPath('/a\\011b\\134c')).toBe('/a\tb\\c');
  });

  it('warns on a malformed nsfs line instead of throwing', async () => {
    const { facts, diagnostics } = await parseText('proc/7/mountinfo', '24 1 252:1 / / rw - ext4 /dev/vda1 rw\n99 1 0:4 - nsfs nsfs\n');
    expect(only(facts, 'nsMount')).toHaveLength(0);
    expect(diagnostics.some((d) => d.source.endsWith(':2'))).toBe(true);
  });
});

describe('/proc/<pid>/stat', () => {
  it('reads ppid and starttime (field 22) from a real line', () => {
    const line = '10326 (cat) R 10315 10315 2436 0 -1 4194304 100 0 0 0 0 0 0 0 20 0 1 0 64418 3133440 387 18446744073709551615 94886313906176 94886313926057 140736894676656 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0';
    expect(parseStatLine(line)).toEqual({ pid: 10326, comm: 'cat', ppid: 10315, startTicks: 64418 });
  });

  it('survives a comm holding spaces and parentheses', () => {
    expect(parseStatLine('42 (a) b (c)) S 7 42 42 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 999 0 0')).toMatchObject({ pid: 42, comm: 'a) b (c)', ppid: 7, startTicks: 999 });
  });

  it('turns ticks into a start time with btime, in the host model', async () => {
    const { facts } = await parseText('proc/stat', 'cpu  1 2 3\nbtime 1795871908\n');
    expect(only(facts, 'btime')[0].epoch).toBe(1795871908);
  });
});

describe('namespace links', () => {
  it('reads ls -l /proc/*/ns/net listings, with and without quotes, and fd listings under a header', async () => {
    const { facts, parsers } = await parseText(
      'ns.txt',
      [
        "lrwxrwxrwx 1 root root 0 Jun 28 08:08 /proc/1/ns/net -> net:[4026531993]",
        "lrwxrwxrwx 1 root root 0 Jun 28 08:08 /proc/4242/ns/net -> 'net:[4026532642]'",
        '/proc/4242/fd:',
        'total 0',
        'lrwx------ 1 root root 64 Jun 28 08:08 0 -> /dev/null',
        'lr-x------ 1 root root 64 Jun 28 08:08 7 -> net:[4026532248]',
      ].join('\n'),
    );
    expect(parsers).toEqual(['ns-listing']);
    expect(only(facts, 'nsLink').map((l) => [l.pid, l.ns, l.inode])).toEqual([
      [1, 'net', '4026531993'],
      [4242, 'net', '4026532642'],
    ]);
    expect(only(facts, 'fdLink').map((l) => [l.pid, l.fd, l.inode])).toEqual([[4242, 7, '4026532248']]);
  });

  it('reads a /proc/<pid>/ns/net stored as a small file', async () => {
    const { facts } = await parseText('host/proc/77/ns/net', 'net:[4026532248]\n');
    expect(only(facts, 'nsLink')).toMatchObject([{ pid: 77, ns: 'net', inode: '4026532248' }]);
  });
});
