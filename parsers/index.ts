// The explicit parser registry. Order matters: the first parser whose recogniser confirms an entry wins.
// Path-specific parsers come first, then strong content signatures, then the transcript reader.
import awsVpcCniLog from './aws-vpc-cni-log.js';
import azureCniLog from './azure-cni-log.js';
import azureVnetState from './azure-vnet-state.js';
import calicoCniLog from './calico-cni-log.js';
import ciliumCniLog from './cilium-cni-log.js';
import clkTck from './clk-tck.js';
import cniGlog from './cni-glog.js';
import cniHostLocal from './cni-ipam-host-local.js';
import cniLeftover from './cni-leftover.js';
import cniResultCache from './cni-result-cache.js';
import containerdLog from './containerd-log.js';
import crictlInspect from './crictl-inspect.js';
import crictlInspectp from './crictl-inspectp.js';
import crictlPods from './crictl-pods.js';
import crioLog from './crio-log.js';
import collectorManifest from './collector-manifest.js';
import dateR from './date-rfc2822.js';
import dockerInspect from './docker-inspect.js';
import dockerPs from './docker-ps.js';
import dockerdLog from './dockerd-log.js';
import hostname from './hostname.js';
import ipAddr from './ip-addr.js';
import ipAddrJson from './ip-addr-json.js';
import ipNeigh from './ip-neigh.js';
import ipNetns from './ip-netns.js';
import kubeletLog from './kubelet-log.js';
import kubectlDescribePod from './kubectl-describe-pod.js';
import kubectlEvents from './kubectl-events.js';
import kubectlEventsTable from './kubectl-events-table.js';
import kubectlPods from './kubectl-pods.js';
import lsfdJson from './lsfd-json.js';
import findmnt from './findmnt.js';
import lsnsJson from './lsns-json.js';
import lsnsTable from './lsns-table.js';
import mountinfo from './mountinfo.js';
import mounts from './mounts.js';
import multusLog from './multus-log.js';
import nsLink from './ns-link.js';
import nsListing from './ns-listing.js';
import procBtime from './proc-btime.js';
import procCmdline from './proc-cmdline.js';
import procComm from './proc-comm.js';
import procStat from './proc-stat.js';
import procStatus from './proc-status.js';
import firewallLog from './firewall-log.js';
import podmanLog from './podman-log.js';
import podmanVersion from './podman-version.js';
import ps from './ps.js';
import systemctlShow from './systemctl-show.js';
import systemdUnit from './systemd-unit.js';
import timezone from './timezone.js';
import transcript from './transcript.js';
import uname from './uname.js';
import type { Parser } from '../src/recognise/parser.js';

export const parsers: readonly Parser[] = [
  // /proc and /etc copied under a root
  procStat,
  procComm,
  procCmdline,
  procStatus,
  procBtime,
  nsLink,
  mountinfo,
  mounts,
  hostname,
  timezone,
  systemdUnit,
  collectorManifest,
  cniHostLocal,
  cniResultCache,
  cniLeftover,
  azureVnetState,
  // command outputs, recognised by content
  transcript,
  dockerInspect,
  crictlInspectp,
  crictlInspect,
  crictlPods,
  kubectlPods,
  kubectlEvents,
  kubectlEventsTable,
  kubectlDescribePod,
  podmanVersion,
  dockerPs,
  lsnsJson,
  lsnsTable,
  lsfdJson,
  findmnt,
  ipAddrJson,
  ipNetns,
  ipNeigh,
  ipAddr,
  nsListing,
  ps,
  systemctlShow,
  dateR,
  uname,
  clkTck,
  // daemon and plugin logs: a file recognised by one is read by all of them (family 'log')
  cniGlog,
  calicoCniLog,
  awsVpcCniLog,
  azureCniLog,
  multusLog,
  ciliumCniLog,
  kubeletLog,
  containerdLog,
  crioLog,
  podmanLog,
  firewallLog,
  dockerdLog,
];
