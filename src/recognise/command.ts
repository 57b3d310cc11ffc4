import type { NetnsRef } from '../model/facts.js';
import { normalisePath } from '../model/facts.js';
import type { CommandContext } from './parser.js';

/** Splits a shell command into words, honouring simple quotes. */
export function shellWords(cmd: string): string[] {
  const words: string[] = [];
  const re = /"((?:[^"\\]|\\.)*)"|'([^']*)'|(\S+)/g;
  for (let m = re.exec(cmd); m; m = re.exec(cmd)) words.push(m[1] ?? m[2] ?? m[3]);
  return words;
}

function refForNetPath(path: string, viaPid: number | undefined): NetnsRef {
  const fd = /^\/proc\/(\d+)\/fd\/(\d+)$/.exec(path);
  if (fd) return { kind: 'fd', pid: Number(fd[1]), fd: Number(fd[2]) };
  const pid = /^\/proc\/(\d+)\/ns\/net$/.exec(path);
  if (pid) return { kind: 'pid', pid: Number(pid[1]) };
  // /proc/PID/root/<path> resolves <path> in PID's mount namespace, like nsenter -t PID -m.
  const root = /^\/proc\/(\d+)\/root(\/.+)$/.exec(path);
  if (root) return { kind: 'path', path: normalisePath(root[2]), viaPid: Number(root[1]) };
  return { kind: 'path', path: normalisePath(path), viaPid };
}

/**
 * Reads what a command line says about where its output comes from:
 * `nsenter -t PID -m nsenter --net=PATH ip addr` is PATH as seen from PID's mount namespace,
 * `nsenter --net=/proc/PID/fd/N …` the netns held by that fd, `ip netns exec NAME …` /run/netns/NAME, and
 * `ip -all netns exec …` each named namespace in turn (the output says which).
 */
export function commandContext(command: string): CommandContext {
  let words = shellWords(command.trim());
  let netns: NetnsRef | undefined;
  let mountPid: number | undefined;
  let eachNetns = false;
  for (;;) {
    while (words[0] === 'sudo' || words[0] === 'exec' || words[0] === 'command') words = words.slice(1);
    if (words[0] === 'nsenter') {
      let i = 1;
      let target: number | undefined;
      let mount = false;
      let net: string | boolean = false;
      for (; i < words.length && words[i].startsWith('-'); i++) {
        const w = words[i];
        if (w === '-t' || w === '--target') target = Number(words[++i]);
        else if (/^-t\d+$/.test(w)) target = Number(w.slice(2));
        else if (w.startsWith('--target=')) target = Number(w.slice(9));
        else if (w === '-m' || w === '--mount') mount = true;
        else if (w === '-n' || w === '--net') net = true;
        else if (w.startsWith('--net=')) net = w.slice(6);
        else if (/^-n\//.test(w)) net = w.slice(2);
        else if (/^-[a-zA-Z]+$/.test(w)) {
          if (w.includes('m')) mount = true;
          if (w.includes('n')) net = true;
          if (w.includes('t')) target = Number(words[++i]);
        } else if (w === '--') {
          i++;
          break;
        }
      }
      if (mount && target !== undefined) mountPid = target;
      if (typeof net === 'string') netns = refForNetPath(net, mountPid);
      else if (net && target !== undefined) netns = { kind: 'pid', pid: target };
      words = words.slice(i);
      continue;
    }
    const exec = containerExec(words);
    if (exec) {
      netns = exec.ref;
      words = exec.rest;
      continue;
    }
    if (words[0] === 'ip' && (words[1] === '-all' || words[1] === '-a') && words[2] === 'netns' && words[3] === 'exec' && words[4]) {
      eachNetns = true; // every named namespace in turn, each part of the output headed "netns: NAME"
      words = words.slice(4);
      continue;
    }
    if (words[0] === 'ip' && words[1] === 'netns' && words[2] === 'exec' && words[3]) {
      netns = { kind: 'path', path: `/run/netns/${words[3]}`, viaPid: mountPid };
      words = words.slice(4);
      continue;
    }
    if (words[0] === 'ip' && (words[1] === '-n' || words[1] === '-netns' || words[1] === '--netns') && words[2]) {
      netns = { kind: 'path', path: `/run/netns/${words[2]}`, viaPid: mountPid };
      words = ['ip', ...words.slice(3)];
    }
    break;
  }
  const inner = words.join(' ');
  let pathHint: string | undefined;
  const cat = /^(?:cat|tail(?: -\S+)*|head(?: -\S+)*)\s+(\/\S+)$/.exec(inner);
  // Inside a container, /proc/1 and /etc/hostname are the container's, not the host's files of that name.
  if (cat && netns?.kind !== 'container') pathHint = cat[1].replace(/^\/+/, '');
  return { command: command.trim(), inner, netns, pathHint, ...(mountPid !== undefined ? { mountPid } : {}), ...(eachNetns ? { eachNetns } : {}) };
}

// Options of `docker exec` (podman's, nerdctl's alike), `crictl exec` and `kubectl exec` that take a value.
const EXEC_VALUE_FLAGS = new Set(['-e', '--env', '--env-file', '-u', '--user', '-w', '--workdir', '--detach-keys', '--preserve-fds', '--timeout', '-n', '--namespace', '-c', '--container', '--context', '--kubeconfig', '-r', '--runtime-endpoint']);

/**
 * `docker|podman|nerdctl exec [opts] REF cmd…`, `crictl exec [opts] REF cmd…`, `kubectl exec [opts] POD [-- ] cmd…`: the
 * command runs in the container's namespaces. REF is an id (prefix), a name, or for kubectl a pod.
 */
function containerExec(words: string[]): { ref: NetnsRef; rest: string[] } | undefined {
  const tool = words[0];
  if (!['docker', 'podman', 'nerdctl', 'crictl', 'kubectl'].includes(tool)) return undefined;
  // The tool's own options may come first: `kubectl -n shop exec …`, `nerdctl -n k8s.io exec …`, `crictl -r … exec …`.
  let i = 1;
  while (i < words.length && words[i].startsWith('-')) i += !words[i].includes('=') && CLI_VALUE_FLAGS.has(words[i]) ? 2 : 1;
  if (words[i] === 'container') i++;
  if (words[i] !== 'exec') return undefined;
  i++;
  let ref: string | undefined;
  for (; i < words.length; i++) {
    const w = words[i];
    if (w === '--') {
      i++;
      break;
    }
    if (w.startsWith('-')) {
      if (!w.includes('=') && EXEC_VALUE_FLAGS.has(w)) i++;
      continue;
    }
    if (ref === undefined) {
      ref = w.replace(/^pods?\//, '');
      if (tool !== 'kubectl') {
        i++;
        break;
      }
      continue;
    }
    break; // kubectl's deprecated form without "--": the command starts here
  }
  if (!ref || i >= words.length) return undefined;
  return { ref: { kind: 'container', ref, via: `${tool} exec` }, rest: words.slice(i) };
}

/**
 * A container CLI and any options before its subcommand (`nerdctl -n k8s.io inspect`), as a regular expression's
 * source: the parsers of docker's table and docker's inspect test their command lines with it.
 */
export const CONTAINER_CLI = String.raw`(?:docker|podman|nerdctl(?:\s+-\S+(?:[\s=][^\s-]\S*)?)*)`;

// nerdctl's global options that take a value, before its subcommand (`nerdctl --namespace k8s.io ps -a`).
const NERDCTL_VALUE_FLAGS = new Set(['-n', '--namespace', '-a', '--address', '-H', '--host', '--snapshotter', '--storage-driver', '--cni-path', '--cni-netconfpath', '--data-root', '--cgroup-manager', '--hosts-dir', '--bridge-ip']);

// Options that take a value, of these tools before their subcommand or of their exec: the ones above, nerdctl's global
// ones, and kubectl's server and cluster.
const CLI_VALUE_FLAGS = new Set([...EXEC_VALUE_FLAGS, ...NERDCTL_VALUE_FLAGS, '-s', '--server', '--cluster']);

/**
 * `nerdctl [global options] SUBCOMMAND …`: the containerd namespace it ran in (`-n`/`--namespace`, else "default") and
 * the words from its subcommand on; undefined when the command is not nerdctl's.
 */
export function nerdctlCommand(command: string): { namespace: string; rest: string[] } | undefined {
  const words = shellWords(command.trim());
  if (words[0] !== 'nerdctl') return undefined;
  let namespace = 'default';
  let i = 1;
  for (; i < words.length && words[i].startsWith('-'); i++) {
    const [flag, value] = words[i].includes('=') ? [words[i].slice(0, words[i].indexOf('=')), words[i].slice(words[i].indexOf('=') + 1)] : [words[i], undefined];
    const v = value ?? (NERDCTL_VALUE_FLAGS.has(flag) ? words[++i] : undefined);
    if ((flag === '-n' || flag === '--namespace') && v) namespace = v;
  }
  return { namespace, rest: words.slice(i) };
}
