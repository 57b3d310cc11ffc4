#!/bin/sh
# collect.sh: the evidence `forensics collect` gathers, for nodes without Node.js.
# Needs only sh, coreutils or busybox, tar, gzip, awk, ip and nsenter. Read-only on the host: it writes
# the output archive and a private temp folder that it removes. Run as root for a complete bundle.
#   sh collect.sh [-o incident.tar.gz] [--since 7d] [--max-file-bytes N] [--cni-log GLOB]... [--no-logs]
set -u
umask 077
OUT=""; SINCE=7d; MAX=67108864; LOGS=1; CNI_LOGS=""
while [ $# -gt 0 ]; do
  case "$1" in
    -o|--output) OUT=$2; shift 2 ;;
    --since) SINCE=$2; shift 2 ;;
    --max-file-bytes) MAX=$2; shift 2 ;;
    --cni-log) CNI_LOGS="$CNI_LOGS $2"; shift 2 ;;
    --no-logs) LOGS=0; shift ;;
    -h|--help) sed -n '2,5p' "$0"; exit 0 ;;
    *) echo "collect.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
done
case "$SINCE" in
  *d) SINCE_H=$(( ${SINCE%d} * 24 )) ;; *h) SINCE_H=${SINCE%h} ;; *m) SINCE_H=$(( ${SINCE%m} / 60 + 1 )) ;; *) SINCE_H=$(( SINCE * 24 )) ;;
esac

HOST=$(cat /etc/hostname 2>/dev/null || hostname); HOST=$(printf '%s' "$HOST" | tr -cd 'A-Za-z0-9._-')
STAMP=$(date -u +%Y%m%dT%H%M%SZ)
STARTED=$(date -u +%Y-%m-%dT%H:%M:%SZ)
TOP="$HOST-$STAMP"
OUT=${OUT:-incident-$HOST-$STAMP.tar.gz}
TMP=$(mktemp -d) || exit 2
trap 'rm -rf "$TMP"' EXIT INT TERM
D="$TMP/$TOP"; mkdir -p "$D"
ENTRIES="$TMP/entries"; : > "$ENTRIES"
NOTES="$TMP/notes"; : > "$NOTES"
[ -t 2 ] && TTY=1 || TTY=0
say() { [ "$TTY" = 1 ] && printf '\r\033[Kcollecting: %s' "$1" >&2; return 0; }

json() { printf '%s' "$1" | awk 'BEGIN { ORS = ""; printf "\"" } { gsub(/\\/, "\\\\"); gsub(/"/, "\\\""); gsub(/\t/, "\\t"); gsub(/[\001-\037]/, ""); if (NR > 1) printf " | "; print } END { printf "\"" }'; }
size() { wc -c < "$1" 2>/dev/null | tr -d ' '; }
entry() { # path command exit seconds truncated error source
  e="{\"path\": $(json "$1"), \"bytes\": $(size "$D/$1" || echo 0), \"ms\": $(( $4 * 1000 ))"
  [ -n "$2" ] && e="$e, \"command\": $(json "$2"), \"exitCode\": $3"
  [ -n "$7" ] && e="$e, \"source\": $(json "$7")"
  [ "$5" = 1 ] && e="$e, \"truncated\": true"
  [ -n "$6" ] && e="$e, \"error\": $(json "$6")"
  printf '%s}\n' "$e" >> "$ENTRIES"
}
# run [-q] PATH CMD...: the output is stored as a one-block transcript, so `report` knows where it ran.
run() {
  optional=0; [ "$1" = -q ] && { optional=1; shift; }
  path=$1; shift
  command -v "$1" >/dev/null 2>&1 || { [ $optional = 1 ] || entry "$path" "$*" null 0 0 "$1: not installed" ""; return 127; }
  mkdir -p "$(dirname "$D/$path")"
  t0=$(date +%s)
  printf '# %s\n' "$*" > "$D/$path"
  "$@" > "$TMP/out" 2> "$TMP/err"; rc=$?
  trunc=0; [ "$(size "$TMP/out")" -gt "$MAX" ] && trunc=1
  tail -c "$MAX" "$TMP/out" >> "$D/$path"
  err=""; [ $rc = 0 ] || err=$(head -c 500 "$TMP/err")
  entry "$path" "$*" "$rc" $(( $(date +%s) - t0 )) "$trunc" "$err" ""
  return $rc
}
# copy HOSTPATH: under its own path, keeping the tail of a large file.
copy() {
  [ -f "$1" ] && [ ! -L "$1" ] || return 0
  mkdir -p "$(dirname "$D$1")"
  trunc=0; [ "$(size "$1")" -gt "$MAX" ] && trunc=1
  if tail -c "$MAX" "$1" > "$D$1" 2> "$TMP/err"; then entry "${1#/}" "" 0 0 "$trunc" "" "$1"; else rm -f "$D$1"; entry "${1#/}" "" 0 0 0 "$(head -c 200 "$TMP/err")" "$1"; fi
}

say 'host identity'
run commands/hostname.txt hostname
run commands/date-R.txt date -R
run commands/uname-r.txt uname -r
run -q commands/getconf-CLK_TCK.txt getconf CLK_TCK
copy /etc/hostname; copy /etc/timezone; copy /proc/stat
[ -L /etc/localtime ] && { mkdir -p "$D/etc"; ln -s "$(readlink /etc/localtime)" "$D/etc/localtime"; }

say 'processes'
nproc=0; gone=0
for p in /proc/[0-9]*; do
  pid=${p#/proc/}; nproc=$((nproc + 1))
  mkdir -p "$D/proc/$pid"
  for f in stat comm cmdline; do cat "$p/$f" > "$D/proc/$pid/$f" 2>/dev/null || { rm -f "$D/proc/$pid/$f"; [ -d "$p" ] || gone=$((gone + 1)); break; }; done
  for ns in net mnt pid; do
    t=$(readlink "$p/ns/$ns" 2>/dev/null) || continue
    mkdir -p "$D/proc/$pid/ns"; ln -s "$t" "$D/proc/$pid/ns/$ns"
  done
done
# fds that hold namespaces, in one pass: `ls -l` names the ones opened through /proc/<pid>/ns/*...
ls -l /proc/[0-9]*/fd/ 2>/dev/null | awk '/^\/proc\/[0-9]+\/fd\/?:$/ { dir = $0; sub(/\/?:$/, "", dir); next } / -> [a-z_]+:\[[0-9]+\]$/ { n = split($0, w, " "); print dir "/" w[n - 2], w[n] }' > "$TMP/fdlinks"
while read -r path target; do rel=${path#/proc/}; mkdir -p "$D/proc/${rel%/*}"; ln -s "$target" "$D/proc/$rel"; done < "$TMP/fdlinks"
# ...and stat finds those opened on a netns bind mount, which read back as a path (or "/" once lazily unmounted).
NSDEV=$(stat -L -c %d /proc/self/ns/net 2>/dev/null)
if [ -n "$NSDEV" ]; then
  find /proc/[0-9]*/fd -maxdepth 1 -type l 2>/dev/null | xargs stat -L -c '%d %i %n' 2>/dev/null | awk -v d="$NSDEV" '$1 == d { print $2, $3 }' |
  while read -r ino path; do
    rel=${path#/proc/}
    [ -e "$D/proc/$rel" ] || [ -L "$D/proc/$rel" ] && continue
    nsenter --net="$path" true 2>/dev/null || continue
    mkdir -p "$D/proc/${rel%/*}"; printf 'net:[%s]\n' "$ino" > "$D/proc/$rel"
    entry "proc/$rel" "" 0 0 0 "" "$path (stat: nsfs inode $ino)"
  done
fi
[ $gone -gt 0 ] && echo "$gone processes exited during the scan" >> "$NOTES"
[ "$(id -u)" = 0 ] || echo "not run as root: other users' processes, fds and mount tables may be missing" >> "$NOTES"
run -q commands/ps.txt ps -eo pid,ppid,lstart,args

say 'mount namespaces'
seen=" "
for p in /proc/[0-9]*; do
  m=$(readlink "$p/ns/mnt" 2>/dev/null) || continue
  case "$seen" in *" $m "*) continue ;; esac
  cat "$p/mountinfo" > "$D/proc/${p#/proc/}/mountinfo" 2>/dev/null && seen="$seen$m "
done

say 'network namespaces'
# Inside every namespace: through a member process, else through a pinning mount (seen from its mount
# namespace via /proc/PID/root) or an fd.
views="$TMP/views"; : > "$views"
for l in "$D"/proc/[0-9]*/ns/net; do
  [ -L "$l" ] || continue
  ino=$(readlink "$l" | tr -cd 0-9); pid=${l#"$D"/proc/}; pid=${pid%%/*}
  echo "$ino nsenter -t $pid -n" >> "$views"
done
awk '($9 == "nsfs" && $4 ~ /^net:/) { f = FILENAME; sub(/.*\/proc\//, "", f); sub(/\/.*/, "", f); ino = $4; gsub(/[^0-9]/, "", ino); print ino, "nsenter --net=/proc/" f "/root" $5 }' "$D"/proc/*/mountinfo >> "$views" 2>/dev/null
for l in "$D"/proc/[0-9]*/fd/*; do
  if [ -L "$l" ]; then t=$(readlink "$l"); elif [ -f "$l" ]; then t=$(cat "$l"); else continue; fi
  case "$t" in net:*) ;; *) continue ;; esac
  ino=$(printf '%s' "$t" | tr -cd 0-9); rest=${l#"$D"/proc/}
  echo "$ino nsenter --net=/proc/${rest%%/*}/fd/${rest##*/}" >> "$views"
done
awk '($9 == "proc" && $5 ~ /\/netns\//) { f = FILENAME; sub(/.*\/proc\//, "", f); sub(/\/.*/, "", f); print "path-" NR, "nsenter --net=/proc/" f "/root" $5 }' "$D"/proc/*/mountinfo >> "$views" 2>/dev/null
awk '!seen[$1]++' "$views" | while read -r ino enter; do
  run "netns/$ino/ip-d-addr.txt" $enter ip -d addr
  run "netns/$ino/ip-d-link.txt" $enter ip -d link
  run "netns/$ino/ip-route.txt" $enter ip route
  run "netns/$ino/ip-neigh.txt" $enter ip neigh
done
run commands/ip-d-link.txt ip -d link
run commands/ip-netns-list-id.txt ip netns list-id
run -q commands/ip-netns-list.txt ip netns list
run -q commands/lsns.json lsns --json
run -q commands/lsfd.json lsfd --json

say 'container runtimes'
# nerdctl lists one containerd namespace at a time: the default one, then the others it knows (buildkit, a user's),
# but k8s.io, whose containers are Kubernetes' (crictl's, below), and moby, docker's.
# containers NAME CLI...: a container CLI's containers, listed then inspected.
containers() {
  name=$1; shift
  if run -q commands/$name-ps-aq.txt "$@" ps -aq --no-trunc; then
    run -q commands/$name-ps-a.txt "$@" ps -a
    ids=$(grep -E '^[0-9a-f]{12,64}$' "$D/commands/$name-ps-aq.txt")
    [ -n "$ids" ] && run commands/$name-inspect.json "$@" inspect $ids
  fi
}
for tool in docker podman nerdctl; do containers $tool $tool; done
if run -q commands/nerdctl-namespace-ls.txt nerdctl namespace ls -q; then
  for ns in $(grep -E '^[A-Za-z0-9_.-]+$' "$D/commands/nerdctl-namespace-ls.txt" | grep -vxE 'default|k8s\.io|moby'); do
    containers nerdctl-ns-$ns nerdctl -n "$ns"
  done
fi
run -q commands/systemctl-cat-docker.txt systemctl cat docker
run -q commands/systemctl-show-docker.txt systemctl show docker
for f in /lib/systemd/system/docker.service /usr/lib/systemd/system/docker.service /etc/systemd/system/docker.service /etc/systemd/system/docker.service.d/*.conf /run/systemd/system/docker.service.d/*.conf; do copy "$f"; done
if run -q commands/crictl-pods.txt crictl pods -q; then
  for id in $(grep -E '^[0-9a-f]{12,64}$' "$D/commands/crictl-pods.txt"); do run "commands/crictl-inspectp-$(printf %.12s "$id").json" crictl inspectp "$id"; done
  run -q commands/crictl-pods-table.txt crictl pods --no-trunc
  if run -q commands/crictl-ps.txt crictl ps -aq; then
    for id in $(grep -E '^[0-9a-f]{12,64}$' "$D/commands/crictl-ps.txt"); do run -q "commands/crictl-inspect-$(printf %.12s "$id").json" crictl inspect "$id"; done
  fi
fi

say 'CNI state and logs'
for f in $(find /etc/cni/net.d /var/lib/cni -type f 2>/dev/null) /run/flannel/subnet.env /var/run/azure-vnet.json; do copy "$f"; done
if [ "$LOGS" = 1 ]; then
  for u in docker containerd crio kubelet; do run -q "commands/journal-$u.txt" journalctl -u "$u" "--since=-${SINCE_H}h" --no-pager -o short-iso; done
  run -q commands/journal-podman.txt journalctl -t podman "--since=-${SINCE_H}h" --no-pager -o short-iso
  run -q commands/journal-firewall.txt journalctl -u firewalld -u nftables -u iptables -u ufw "--since=-${SINCE_H}h" --no-pager -o short-iso
  for f in /var/log/cni/*.log* /var/log/calico/cni/*.log* /var/log/multus*.log* /var/log/galaxy/* /var/log/aws-routed-eni/*.log* /var/log/azure-vnet.log* /var/log/flannel*.log* /var/run/cilium/cilium-cni.log* $CNI_LOGS; do copy "$f"; done
fi

{
  printf '{\n  "tool": {"name": "cni-forensics", "version": "collect.sh"},\n'
  printf '  "host": %s,\n  "startedAt": "%s",\n  "finishedAt": "%s",\n  "uid": %s,\n  "processes": %s,\n' "$(json "$HOST")" "$STARTED" "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$(id -u)" "$nproc"
  printf '  "notes": ['; sep=""; while IFS= read -r n; do printf '%s%s' "$sep" "$(json "$n")"; sep=", "; done < "$NOTES"; printf '],\n'
  printf '  "entries": [\n'; sed '$!s/$/,/; s/^/    /' "$ENTRIES"; printf '  ]\n}\n'
} > "$D/manifest.json"

say 'writing archive'
[ "$TTY" = 1 ] && printf '\r\033[K' >&2
tar -C "$TMP" -czf "$OUT" "$TOP" || { echo "collect.sh: could not write $OUT" >&2; exit 2; }
failed=$(grep -c '"error"' "$ENTRIES")
echo "collect.sh: wrote $OUT ($(( $(size "$OUT") / 1024 )) KiB, $(wc -l < "$ENTRIES" | tr -d ' ') items, $failed failed)" >&2
grep '"error"' "$ENTRIES" | head -20 | sed -n -e 's/.*"command": "\([^"]*\)".*"error": "\(.*\)"}$/  failed: \1: \2/p' -e 's/.*"source": "\([^"]*\)".*"error": "\(.*\)"}$/  failed: \1: \2/p' >&2
sed 's/^/  note: /' "$NOTES" >&2
echo "Next: forensics report $OUT" >&2
