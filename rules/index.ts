// The explicit rule registry; ids are the public contract.
import cniDelFailed from './cni-del-failed.js';
import ipConflict from './ip-conflict.js';
import ipLastHolder from './ip-last-holder.js';
import mountPropagationPin from './mount-propagation-pin.js';
import netnsLeaked from './netns-leaked.js';
import type { Rule } from '../src/engine/rule.js';

export const rules: readonly Rule[] = [netnsLeaked, ipConflict, ipLastHolder, mountPropagationPin, cniDelFailed];
