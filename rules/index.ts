// The explicit rule registry; ids are the public contract.
import cniDelFailed from './cni-del-failed.js';
import hostpathRunPin from './hostpath-run-pin.js';
import ipConflict from './ip-conflict.js';
import ipLastHolder from './ip-last-holder.js';
import ipReusedWhileLive from './ip-reused-while-live.js';
import ipamLeak from './ipam-leak.js';
import mountPropagationPin from './mount-propagation-pin.js';
import netnsLeaked from './netns-leaked.js';
import sandboxNetnsNotClosed from './sandbox-netns-not-closed.js';
import sandboxTeardownFailed from './sandbox-teardown-failed.js';
import vethDangling from './veth-dangling.js';
import type { Rule } from '../src/engine/rule.js';

export const rules: readonly Rule[] = [
  netnsLeaked,
  ipConflict,
  ipReusedWhileLive,
  sandboxNetnsNotClosed,
  ipLastHolder,
  mountPropagationPin,
  hostpathRunPin,
  vethDangling,
  cniDelFailed,
  sandboxTeardownFailed,
  ipamLeak,
];
