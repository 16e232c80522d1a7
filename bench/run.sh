#!/usr/bin/env bash
# ctc against runc and crun on the same busybox bundle (issue 7).
# Usage: npm run bench   (or bash bench/run.sh), as root.  See bench/README.md.
#
# It installs nothing: it checks what it needs and says what to apt-get install.
# Everything it creates (containers, their cgroups, state roots, the bundle)
# lives under one temp dir and one container-id prefix, and is removed on exit,
# Ctrl-C included.
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

# Repetition counts (env vars, so a quick run is e.g. BENCH_RUNS=5 BENCH_LOOP=10).
BENCH_RUNS=${BENCH_RUNS:-30}              # hyperfine runs per command (run, create/start/delete, exec)
BENCH_WARMUP=${BENCH_WARMUP:-3}           # hyperfine warmup runs per command
BENCH_LOOP=${BENCH_LOOP:-100}             # containers in one sequential loop
BENCH_LOOP_RUNS=${BENCH_LOOP_RUNS:-3}     # timed loops per runtime
BENCH_PARALLEL=${BENCH_PARALLEL:-10}      # concurrent containers in one parallel batch
BENCH_PARALLEL_RUNS=${BENCH_PARALLEL_RUNS:-10}  # timed batches per runtime
BENCH_BUILD_RUNS=${BENCH_BUILD_RUNS:-10}  # cold `ctc build` processes per example
BENCH_BUILD_WARM=${BENCH_BUILD_WARM:-30}  # warm builds per example, in one process
BENCH_RSS_RUNS=${BENCH_RSS_RUNS:-10}      # /usr/bin/time samples per runtime
BENCH_RESULTS=${BENCH_RESULTS:-$REPO/bench/RESULTS.md}
export BENCH_RUNS BENCH_WARMUP BENCH_LOOP BENCH_LOOP_RUNS BENCH_PARALLEL BENCH_PARALLEL_RUNS \
  BENCH_BUILD_RUNS BENCH_BUILD_WARM BENCH_RSS_RUNS BENCH_RESULTS

RUNTIMES=(ctc runc crun)
log() { printf '\n== %s\n' "$*" >&2; }
die() { printf 'bench: %s\n' "$*" >&2; exit 1; }

# --- 1. prerequisites (checked before anything is created) --------------------

check_prerequisites() {
  [[ $(id -u) == 0 ]] || die "run as root: containers, cgroups and mount namespaces need it"
  local missing=()
  command -v runc >/dev/null || missing+=(runc)
  command -v crun >/dev/null || missing+=(crun)
  command -v hyperfine >/dev/null || missing+=(hyperfine)
  [[ -x /usr/bin/time ]] || missing+=(time)
  # The rootfs needs a static busybox: a dynamic one would need the host's libc inside.
  [[ $(dpkg-query -W -f='${Status}' busybox-static 2>/dev/null) == "install ok installed" ]] ||
    missing+=(busybox-static)
  { command -v unshare && command -v nsenter; } >/dev/null || missing+=(util-linux)
  # the network benchmark: ip netns, -batch and -n (busybox's ip has none of them)
  ip -V 2>/dev/null | grep -q iproute2 || missing+=(iproute2)
  if ((${#missing[@]})); then
    printf 'bench: missing: %s\nbench: install them with:\n\n    apt-get install %s\n\n' \
      "${missing[*]}" "${missing[*]}" >&2
    exit 1
  fi
}

# How ctc is started: CTC_BIN, else the native launcher if built, else Node.
ctc_bin() {
  if [[ -n ${CTC_BIN:-} ]]; then echo "$CTC_BIN"
  elif [[ -x $REPO/dist/ctc ]]; then printf '%q' "$REPO/dist/ctc"
  elif [[ -f $REPO/dist/ctc.mjs ]]; then printf 'node %q' "$REPO/dist/ctc.mjs"
  else die "no dist/ctc or dist/ctc.mjs: run 'node scripts/build.mjs' (or npm run build) first"
  fi
}

# --- 2. a private mount namespace, so crun accepts the hybrid cgroup host -----

# crun refuses a hybrid host whose cgroup2 tree lists controllers ("cgroups in
# hybrid mode not supported, drop all controllers from cgroupv2"). Inside a
# private mount namespace an empty file is bind-mounted over that list; the
# host never sees it. All three runtimes run in this same namespace.
hide_v2_controllers() {
  local f=/sys/fs/cgroup/unified/cgroup.controllers
  CGROUP_NOTE="runs as is (no cgroup2 controllers to hide)"
  # (test the content: cgroupfs files report size 0)
  if [[ -f $f && -n $(tr -d ' \n' <"$f") ]]; then
    CGROUP_NOTE="the cgroup2 tree's controllers ($(tr '\n' ' ' <"$f"| sed 's/ *$//')) hidden by an empty file bind-mounted over $f in a private mount namespace; all runtimes run in it"
    : >"$T/empty"
    mount --bind "$T/empty" "$f"
  fi
}

cgroup_layout() {
  local fs; fs=$(stat -fc %T /sys/fs/cgroup)
  if [[ $fs == cgroup2fs ]]; then echo "unified (cgroup v2 only): $(cat /sys/fs/cgroup/cgroup.controllers)"
  elif [[ -d /sys/fs/cgroup/unified ]]; then
    echo "hybrid: v1 controllers $(ls /sys/fs/cgroup | grep -v unified | tr '\n' ' ')+ cgroup2 at /sys/fs/cgroup/unified"
  else echo "legacy (cgroup v1 only): $(ls /sys/fs/cgroup | tr '\n' ' ')"
  fi
}

# --- 3. runtimes, ids, cleanup ------------------------------------------------

# The command line for a runtime, each with its own state root under $T.
rt_cmd() {
  case $1 in
    ctc) echo "$CTC --root $T/root-ctc" ;;
    runc) echo "runc --root $T/root-runc" ;;
    crun) echo "crun --root $T/root-crun" ;;
  esac
}
rt() { local r=$1; shift; eval "$(rt_cmd "$r")" '"$@"'; }

# Every container id starts with $PREFIX, so leftovers (state, cgroups) are
# recognisable; each one used is remembered, per runtime, for the cleanup.
# (id_for RUNTIME NAME sets ID rather than printing it: $(...) would lose the
# bookkeeping.)
declare -A USED_IDS=()
id_for() { ID="$PREFIX$2-$1"; USED_IDS[$1]+=" $ID"; }

cleanup() {
  trap '' INT TERM # a second Ctrl-C must not interrupt the cleanup
  if [[ -n ${SERVER_PID:-} ]]; then kill "$SERVER_PID" 2>/dev/null || true; fi
  local r id leftover=0 ns wrap=''
  # ctc undoes a veth only from the network namespace it made it in: the
  # bench's host namespace (deleting anything else there changes nothing)
  [[ -n ${HOSTNS:-} && -e /run/netns/$HOSTNS ]] && wrap="nsenter --net=/run/netns/$HOSTNS"
  for r in "${RUNTIMES[@]}"; do
    [[ -d $T/root-$r ]] || continue
    # concurrently: after a Ctrl-C nobody wants to wait for N Node starts
    for id in ${USED_IDS[$r]:-} $(rt "$r" list -q 2>/dev/null); do
      eval "$wrap $(rt_cmd "$r")" delete --force "$id" >/dev/null 2>&1 &
    done
    wait
    if [[ -n $(rt "$r" list -q 2>/dev/null) ]]; then
      echo "bench: LEFT BEHIND by $r: $(rt "$r" list -q | tr '\n' ' ')" >&2; leftover=1
    fi
  done
  # the network benchmark's namespaces (their links go with them)
  for ns in ${NETNS:-} ${HOSTNS:-}; do
    [[ -e /run/netns/$ns ]] || continue
    ip netns del "$ns" 2>/dev/null || { echo "bench: LEFT BEHIND: network namespace $ns" >&2; leftover=1; }
  done
  # cgroups named after our ids (runc/crun: /ID, ctc: /ctc/ID), deepest first
  local cg
  while read -r cg; do
    [[ -n $cg ]] || continue
    rmdir "$cg" 2>/dev/null || { echo "bench: LEFT BEHIND: cgroup $cg" >&2; leftover=1; }
  done < <(find /sys/fs/cgroup -mindepth 2 -maxdepth 6 -type d -name "$PREFIX*" 2>/dev/null | sort -r)
  if pgrep -f -- "$T/" >/dev/null; then
    echo "bench: LEFT BEHIND: processes $(pgrep -f -- "$T/" | tr '\n' ' ')" >&2; leftover=1
  fi
  umount /sys/fs/cgroup/unified/cgroup.controllers 2>/dev/null || true
  rm -rf "$T"
  ((leftover == 0)) || echo "bench: the host was NOT left clean (see above)" >&2
}

# --- 4. the bundle ------------------------------------------------------------

# One rootfs (static busybox and its applets), three configs made from `runc
# spec`: b-true runs /bin/true, b-sleep `sleep 1000` (exec, what stays behind),
# b-exit3 `sh -c 'exit 3'` (the smoke test checks the exit status comes back).
make_bundles() {
  mkdir -p "$T/rootfs/bin"
  cp /bin/busybox "$T/rootfs/bin/busybox"
  local a
  for a in $(/bin/busybox --list); do
    [[ $a == busybox ]] || ln -s busybox "$T/rootfs/bin/$a"
  done
  # runc's default config, as spec.json (a config.json would make $T a bundle)
  (cd "$T" && runc spec && mv config.json spec.json)
  make_config true /bin/true
  make_config sleep /bin/sleep 1000
  make_config exit3 /bin/sh -c 'exit 3'
  make_new_configs new
  make_new_configs new-server
}

# "First run of a new config": one bundle dir per round (warmup rounds
# included), new/<round>/, whose config.json is b-true's with BENCH_CONFIG=<round>
# added to the environment. All three runtimes run round k's bundle once, so
# each sees a bundle dir and a config.json it has never seen, as under
# containerd or CRI (a new bundle, and config.json, per container): ctc's
# run-image cache (keyed by the bundle dir and the config's bytes) cannot hit.
make_new_configs() {
  node - "$T/b-true/config.json" "$T/$1" "$((BENCH_WARMUP + BENCH_RUNS))" <<'EOF'
const fs = require('fs');
const [src, dir, rounds] = process.argv.slice(2);
const c = JSON.parse(fs.readFileSync(src, 'utf8'));
for (let k = 1; k <= Number(rounds); k++) {
  fs.mkdirSync(`${dir}/${k}`, { recursive: true });
  const own = { ...c, process: { ...c.process, env: [...(c.process.env ?? []), `BENCH_CONFIG=${k}`] } };
  fs.writeFileSync(`${dir}/${k}/config.json`, JSON.stringify(own, null, 2));
}
EOF
}

# Adjusts runc's default config, identically for every runtime:
# - args, terminal false (the bench has no tty), root.path absolute (shared rootfs);
# - ctc refuses two things runc's 1.1 default has (reported as ctc bugs, see
#   README.md): ambient capabilities that are not inheritable (runc silently
#   fails to raise them, so dropping them changes nothing), and a cgroup mount
#   without a cgroup namespace (one is added, for all three).
# - with NETNS_PATH set, the network namespace is that one, joined.
make_config() {
  local name=$1; shift
  mkdir -p "$T/b-$name"
  NETNS_PATH=${NETNS_PATH:-} node - "$T/spec.json" "$T/b-$name/config.json" "$T/rootfs" "$@" <<'EOF'
const fs = require('fs');
const [src, dst, rootfs, ...args] = process.argv.slice(2);
const c = JSON.parse(fs.readFileSync(src, 'utf8'));
c.process.args = args;
c.process.terminal = false;
c.root.path = rootfs;
const join = process.env.NETNS_PATH;
if (join) c.linux.namespaces = c.linux.namespaces.map((n) => (n.type === 'network' ? { type: 'network', path: join } : n));
fs.writeFileSync(dst, JSON.stringify(c, null, 2));
EOF
}

# --- 4b. the network benchmark's namespaces and scripts -------------------------

# Everything network lives in namespaces the bench makes. $HOSTNS stands in
# for the host: it holds the bridge cbbr0 with the gateway's address, and the
# network rows run in it (nsenter --net), so no veth, bridge or address ever
# reaches the real host. $NETNS is the container's namespace that ip(8) makes
# and removes in each timed run of the "joining" scripts.
NET_BRIDGE=cbbr0 NET_VETH=cbv0 NET_GW=10.89.0.1 NET_ADDR=10.89.0.2/24
NET_CHECK="ip addr show eth0 | grep -q 'inet $NET_ADDR' && ip route | grep -q 'default via $NET_GW'"

make_network() {
  HOSTNS=${PREFIX}host NETNS=${PREFIX}net
  mkdir -p "$T/net"
  ip netns add "$HOSTNS"
  printf '%s\n' "link add $NET_BRIDGE type bridge" "addr add $NET_GW/24 dev $NET_BRIDGE" \
    "link set $NET_BRIDGE up" | ip -n "$HOSTNS" -batch -
  # What a CNI bridge plugin does for runc or crun under containerd, in three
  # ip(8) processes: a named netns, a veth pair with one end in it and the
  # other on the bridge; inside, lo and eth0 up, the address, the default
  # route. Undone after the run: the veth, then the netns.
  printf '%s\n' "netns add $NETNS" "link add $NET_VETH type veth peer name eth0 netns $NETNS" \
    "link set $NET_VETH master $NET_BRIDGE up" >"$T/net/up.batch"
  printf '%s\n' "link set lo up" "addr add $NET_ADDR dev eth0" "link set eth0 up" \
    "route add default via $NET_GW" >"$T/net/in.batch"
  printf '%s\n' "link del $NET_VETH" "netns del $NETNS" >"$T/net/down.batch"
  # join.sh BUNDLE ID RUNTIME...: make the netns, run the bundle (which joins
  # it by path), undo; the run's status, or 1 if ip failed
  cat >"$T/net/join.sh" <<EOF
ip -batch $T/net/up.batch && ip -n $NETNS -batch $T/net/in.batch || exit 1
"\${@:3}" run --bundle "\$1" "\$2"; rc=\$?
ip -batch $T/net/down.batch || rc=1
exit \$rc
EOF
  # own.sh PLAN ID CTC...: ctc makes the same veth, address and route from its
  # plan, and undoes them when the container is gone (a shell too, so that
  # all three rows pay for one bash start)
  printf '%s\n' 'exec "${@:3}" run "$1" --id "$2"' >"$T/net/own.sh"
  NETNS_PATH=/run/netns/$NETNS make_config net /bin/true
  NETNS_PATH=/run/netns/$NETNS make_config net-check /bin/sh -c "$NET_CHECK"
  net_plan net /bin/true
  net_plan net-check /bin/sh -c "$NET_CHECK"
}

# ctc's plan: the bundle's container (runc spec's) plus the veth, built once.
net_plan() {
  local name=$1; shift
  node "$REPO/bench/net-source.mjs" "$T/spec.json" "$T/rootfs" "$T/net/$name.ct.ts" \
    "$NET_BRIDGE" "$NET_VETH" "$NET_ADDR" "$NET_GW" "$@"
  eval "$CTC build $T/net/$name.ct.ts -o $T/net/$name.plan" >"$T/out/build-$name.log" 2>&1 ||
    die "ctc build of the network plan failed: $(cat "$T/out/build-$name.log")"
}

in_hostns() { nsenter --net="/run/netns/$HOSTNS" "$@"; }

# Each way of networking must give the container eth0 with the address and
# the default route before anything is timed.
smoke_network() {
  local r
  # (eval: $CTC and rt_cmd are command lines, possibly quoted)
  eval "in_hostns bash $T/net/own.sh $T/net/net-check.plan ${PREFIX}netsmoke-ctc $(rt_cmd ctc)" \
    >"$T/out/smoke-net-ctc.log" 2>&1 || die "ctc's network plan failed its check: $(cat "$T/out/smoke-net-ctc.log")"
  for r in "${RUNTIMES[@]}"; do
    id_for "$r" netsmoke
    eval "in_hostns bash $T/net/join.sh $T/b-net-check $ID $(rt_cmd "$r")" >"$T/out/smoke-join-$r.log" 2>&1 ||
      die "$r in a netns made by ip failed the check: $(cat "$T/out/smoke-join-$r.log")"
  done
  echo "every runtime's container has eth0 with $NET_ADDR and a default route via $NET_GW" >&2
}

# Every runtime must actually run the bundle before anything is timed, and
# hand back the container's exit status (so a 0 in hyperfine means a real run).
smoke_test() {
  local r rc
  for r in "${RUNTIMES[@]}"; do
    id_for "$r" smoke
    rt "$r" run --bundle "$T/b-true" "$ID" </dev/null >"$T/out/smoke-$r.log" 2>&1 ||
      die "$r cannot run the bundle: $(cat "$T/out/smoke-$r.log")"
    rc=0; rt "$r" run --bundle "$T/b-exit3" "$ID" </dev/null >>"$T/out/smoke-$r.log" 2>&1 || rc=$?
    ((rc == 3)) || die "$r run of \`sh -c 'exit 3'\` exited $rc, not 3: $(cat "$T/out/smoke-$r.log")"
  done
  echo "all three runtimes run the bundle (crun: $CGROUP_NOTE)" >&2
}

machine_info() {
  local f=$T/out/machine.tsv
  {
    printf 'uname -a\t%s\n' "$(uname -a)"
    printf 'nproc\t%s\n' "$(nproc)"
    printf 'cpu\t%s\n' "$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')"
    printf 'memory\t%s\n' "$(grep MemTotal /proc/meminfo | tr -s ' ' | cut -d' ' -f2-3)"
    printf 'ctc\t%s (git %s%s)\n' "$CTC" "$(git -C "$REPO" rev-parse --short HEAD 2>/dev/null || echo '?')" \
      "$(git -C "$REPO" diff --quiet HEAD 2>/dev/null || echo ' + uncommitted changes')"
    printf 'runc --version\t%s\n' "$(runc --version | paste -sd ';' | sed 's/;/; /g')"
    printf 'crun --version\t%s\n' "$(crun --version | paste -sd ';' | sed 's/;/; /g')"
    printf 'node --version\t%s\n' "$(node --version)"
    printf 'hyperfine\t%s\n' "$(hyperfine --version)"
    printf 'busybox\t%s\n' "$(/bin/busybox | head -1)"
    printf 'date\t%s\n' "$(date -u '+%Y-%m-%d %H:%M:%S UTC')"
    printf 'load average at start\t%s\n' "$(cut -d' ' -f1-3 /proc/loadavg)"
    printf 'cgroups\t%s\n' "$(cgroup_layout)"
    printf 'crun on this host\t%s\n' "$CGROUP_NOTE"
    printf 'counts\truns=%s warmup=%s loop=%sx%s parallel=%sx%s build=%s cold, %s warm rss=%s\n' \
      "$BENCH_RUNS" "$BENCH_WARMUP" "$BENCH_LOOP" "$BENCH_LOOP_RUNS" "$BENCH_PARALLEL" \
      "$BENCH_PARALLEL_RUNS" "$BENCH_BUILD_RUNS" "$BENCH_BUILD_WARM" "$BENCH_RSS_RUNS"
  } >"$f"
}

# ctc's build output may be rebuilt by someone while the bench runs; this
# tells afterwards whether every ctc number came from the same binaries.
dist_fingerprint() { cat "$REPO"/dist/ctc "$REPO"/dist/ctc.mjs "$REPO"/dist/ctc-init 2>/dev/null | sha256sum; }

# --- 5. the benchmarks ----------------------------------------------------------

hf() { hyperfine --style basic --export-json "$@"; }

# Interleaved timing. hyperfine given several commands times all runs of the
# first, then all of the second: a noisy minute (another job, a frequency
# change) would fall on one runtime. So each round here is one hyperfine
# invocation that runs every command once (--runs 1), and the rounds follow
# one another: ctc runc crun, runc crun ctc, crun ctc runc, ... (the order
# rotates, so no runtime always comes right after the same one). The first
# WARMUP rounds are not kept. In a command, {round} is the round's number
# (1.., warmup rounds included). bench/merge-rounds.mjs joins the kept rounds
# into one export of hyperfine's shape. A command that fails stops the bench.
# With HF_NETNS set, every round runs in that network namespace.
# Usage: interleaved OUT.json RUNS WARMUP [hyperfine option...] -- NAME CMD [NAME CMD...]
interleaved() {
  local out=$1 runs=$2 warmup=$3; shift 3
  local opts=() names=() cmds=() kept=() wrap=() args k i j n dir
  while [[ $1 != -- ]]; do opts+=("$1"); shift; done; shift
  while (($#)); do names+=("$1"); cmds+=("$2"); shift 2; done
  n=${#names[@]} dir=${out%.json}.rounds
  [[ -n ${HF_NETNS:-} ]] && wrap=(nsenter --net="/run/netns/$HF_NETNS")
  mkdir -p "$dir"
  for ((k = 1; k <= warmup + runs; k++)); do
    args=()
    for ((i = 0; i < n; i++)); do
      j=$(((i + k - 1) % n))
      args+=(-n "${names[j]}" "${cmds[j]//\{round\}/$k}")
    done
    "${wrap[@]}" hyperfine --style none --runs 1 --warmup 0 "${opts[@]}" \
      --export-json "$dir/$k.json" "${args[@]}" </dev/null >"$dir/log" 2>&1 ||
      die "round $k of $(basename "$out" .json) failed: $(cat "$dir/log")"
    ((k > warmup)) && kept+=("$dir/$k.json")
    printf '.' >&2
  done
  printf '\n' >&2
  node "$REPO/bench/merge-rounds.mjs" "$out" "$(IFS=,; echo "${names[*]}")" "${kept[@]}"
}

# `run` of /bin/true in the foreground, the same bundle every time (the id is
# reused since `run` deletes it): ctc applies the run image its first run left.
bench_run() {
  log "run /bin/true (foreground), warm: the same bundle, $BENCH_RUNS rounds"
  local r cmds=()
  for r in "${RUNTIMES[@]}"; do
    id_for "$r" run
    cmds+=("$r" "$(rt_cmd "$r") run --bundle $T/b-true $ID")
  done
  interleaved "$T/out/run.json" "$BENCH_RUNS" "$BENCH_WARMUP" -N -- "${cmds[@]}"
}

# The same, but round k's bundle is new/k (make_new_configs): a bundle dir and
# a config.json none of the three has seen, so ctc compiles it (through Node)
# as it does for every container containerd or CRI starts.
bench_run_new() {
  log "run /bin/true, first run of a new config each time, $BENCH_RUNS rounds"
  local r cmds=()
  for r in "${RUNTIMES[@]}"; do
    id_for "$r" new
    cmds+=("$r" "$(rt_cmd "$r") run --bundle $T/new/{round} $ID")
  done
  # no compile server here, even if this host runs one (the next row has it)
  CTC_COMPILE_SOCKET=$T/no-compile-server interleaved "$T/out/run-new.json" "$BENCH_RUNS" "$BENCH_WARMUP" -N -- "${cmds[@]}"
}

# The same with `ctc compile-server` running (cli/compile-server.ts): the
# launcher has a new config compiled by it, warm, and runs the plan itself.
# Bundles of their own (new-server/k): ctc's run through Node in the row
# above leaves a run image for new/k.
bench_run_new_server() {
  log "run /bin/true, first run of a new config each time, ctc with its compile server, $BENCH_RUNS rounds"
  "$CTC" compile-server --socket "$T/compile/socket" 2>"$T/compile-server.log" &
  SERVER_PID=$!
  local r i=0 cmds=()
  while [[ ! -S $T/compile/socket ]] && ((i++ < 300)); do sleep 0.1; done
  [[ -S $T/compile/socket ]] || die "the compile server did not start: $(cat "$T/compile-server.log")"
  for r in "${RUNTIMES[@]}"; do
    id_for "$r" news
    cmds+=("$r" "$(rt_cmd "$r") run --bundle $T/new-server/{round} $ID")
  done
  CTC_COMPILE_SOCKET=$T/compile/socket interleaved "$T/out/run-new-server.json" "$BENCH_RUNS" "$BENCH_WARMUP" -N -- "${cmds[@]}"
  kill "$SERVER_PID" || true
  wait "$SERVER_PID" 2>/dev/null || true
  SERVER_PID=
}

# One timed shell loop of $BENCH_LOOP sequential runs, stopping at the first failure.
bench_loop() {
  log "$BENCH_LOOP sequential runs, $BENCH_LOOP_RUNS rounds"
  local r cmds=()
  for r in "${RUNTIMES[@]}"; do
    id_for "$r" loop
    cmds+=("$r" "for i in \$(seq $BENCH_LOOP); do $(rt_cmd "$r") run --bundle $T/b-true $ID || exit 1; done")
  done
  interleaved "$T/out/loop.json" "$BENCH_LOOP_RUNS" 0 -- "${cmds[@]}"
}

# $BENCH_PARALLEL concurrent runs with distinct ids; fails if any one fails.
bench_parallel() {
  log "$BENCH_PARALLEL parallel runs, $BENCH_PARALLEL_RUNS rounds"
  local r i cmds=()
  for r in "${RUNTIMES[@]}"; do
    for ((i = 1; i <= BENCH_PARALLEL; i++)); do id_for "$r" "par$i"; done
    cmds+=("$r" "pids=''; for i in \$(seq $BENCH_PARALLEL); do $(rt_cmd "$r") run --bundle $T/b-true ${PREFIX}par\$i-$r & pids=\"\$pids \$!\"; done; rc=0; for p in \$pids; do wait \$p || rc=1; done; exit \$rc")
  done
  interleaved "$T/out/parallel.json" "$BENCH_PARALLEL_RUNS" 1 -- "${cmds[@]}"
}

# create -> start -> delete, timed as one unit. The process is /bin/true, so it
# may or may not have exited when delete comes: --force covers both, alike.
bench_lifecycle() {
  log "create, start, delete, $BENCH_RUNS rounds"
  local r c cmds=()
  for r in "${RUNTIMES[@]}"; do
    id_for "$r" csd; c=$(rt_cmd "$r")
    cmds+=("$r" "$c create --bundle $T/b-true $ID && $c start $ID && $c delete --force $ID")
  done
  interleaved "$T/out/lifecycle.json" "$BENCH_RUNS" "$BENCH_WARMUP" -- "${cmds[@]}"
}

# A container with a network: its own netns, a veth pair with one end in it
# as eth0 (address, default route) and the other on a bridge. Two rows:
# - each runtime's way: ctc runs its plan, which says all of that (net.veth
#   and the init's net.addr/net.route steps); runc and crun cannot be told
#   (OCI has no interfaces), so join.sh does what CNI would: ip(8) makes the
#   netns and the veth, the runtime joins the netns by path, ip undoes it;
# - all three the same way: join.sh (ctc joins the netns by path too).
# Every round runs in $HOSTNS, where the bridge is. Each command is one bash
# script (own.sh or join.sh) run without a shell, so each pays one bash start.
bench_network() {
  log "a container with a veth on a bridge, $BENCH_RUNS rounds of each of two rows"
  local r own=() join=()
  for r in "${RUNTIMES[@]}"; do
    id_for "$r" net
    join+=("$r" "bash $T/net/join.sh $T/b-net $ID $(rt_cmd "$r")")
    if [[ $r == ctc ]]; then own+=("$r" "bash $T/net/own.sh $T/net/net.plan $ID $(rt_cmd "$r")")
    else own+=("$r" "bash $T/net/join.sh $T/b-net $ID $(rt_cmd "$r")")
    fi
  done
  HF_NETNS=$HOSTNS interleaved "$T/out/net.json" "$BENCH_RUNS" "$BENCH_WARMUP" -N -- "${own[@]}"
  HF_NETNS=$HOSTNS interleaved "$T/out/net-join.json" "$BENCH_RUNS" "$BENCH_WARMUP" -N -- "${join[@]}"
}

# VmRSS of what a detached container leaves on the host: the ancestors of its
# init up to pid 1 (ctc: the ctc-init monitor; runc and crun: nothing, the init
# is reparented). Appends "runtime<TAB>pid<TAB>comm<TAB>kB" lines.
record_resident() {
  local r=$1 pid=$2 p comm rss found=0
  p=$(ps -o ppid= -p "$pid" | tr -d ' ')
  while [[ -n $p && $p != 1 && $p != 0 && $p != $$ ]]; do
    comm=$(cat "/proc/$p/comm"); rss=$(awk '/^VmRSS/ {print $2}' "/proc/$p/status")
    printf '%s\t%s\t%s\t%s\n' "$r" "$p" "$comm" "${rss:-0}" >>"$T/out/resident.tsv"
    found=1
    p=$(ps -o ppid= -p "$p" | tr -d ' ')
  done
  ((found)) || printf '%s\t-\t(nothing)\t0\n' "$r" >>"$T/out/resident.tsv"
}

# exec /bin/true into a detached `sleep 1000` container, one per runtime.
bench_exec() {
  log "exec /bin/true into a running container, $BENCH_RUNS rounds"
  local r cmds=()
  : >"$T/out/resident.tsv"
  for r in "${RUNTIMES[@]}"; do
    id_for "$r" exec
    # stdio to a file: a detached container must not hold a pipe of ours open
    rt "$r" run -d --pid-file "$T/exec-$r.pid" --bundle "$T/b-sleep" "$ID" \
      </dev/null >"$T/out/detach-$r.log" 2>&1 || die "$r run -d failed: $(cat "$T/out/detach-$r.log")"
    record_resident "$r" "$(cat "$T/exec-$r.pid")"
    cmds+=("$r" "$(rt_cmd "$r") exec $ID /bin/true")
  done
  interleaved "$T/out/exec.json" "$BENCH_RUNS" "$BENCH_WARMUP" -N -- "${cmds[@]}"
  for r in "${RUNTIMES[@]}"; do rt "$r" delete --force "${PREFIX}exec-$r" >/dev/null; done
}

# Peak RSS of the runtime for `run /bin/true`: /usr/bin/time's %M is the
# largest of the process and the children it waited for (ctc: node or the
# launcher, and ctc-init; runc: runc and `runc init`). Interleaved too.
bench_rss() {
  log "peak RSS of run /bin/true, $BENCH_RSS_RUNS samples each"
  local r i
  : >"$T/out/rss.tsv"
  for r in "${RUNTIMES[@]}"; do id_for "$r" rss; done
  for ((i = 0; i < BENCH_RSS_RUNS; i++)); do
    for r in "${RUNTIMES[@]}"; do
      eval "/usr/bin/time -f %M -o $T/out/rss.one $(rt_cmd "$r") run --bundle $T/b-true ${PREFIX}rss-$r" </dev/null >/dev/null
      printf '%s\t%s\n' "$r" "$(tail -1 "$T/out/rss.one")" >>"$T/out/rss.tsv"
    done
  done
}

# ctc build, ctc only: cold is a fresh process per build (hyperfine); warm is
# the same build repeated inside one process that has already built once.
bench_build() {
  local ex name cmds=()
  log "ctc build, cold ($BENCH_BUILD_RUNS runs) and warm ($BENCH_BUILD_WARM in one process)"
  mkdir -p "$T/plans" "$T/examples"
  # copies, with the image example's archive beside them (examples/ does not keep one)
  cp "$REPO"/examples/*.ct.ts "$T/examples/"
  node "$REPO/scripts/busybox-image.mjs" "$T/examples/busybox.tar" >/dev/null
  for ex in "$T"/examples/*.ct.ts; do
    name=$(basename "$ex" .ct.ts)
    cmds+=(-n "$name" "$CTC build $ex -o $T/plans/$name.plan")
  done
  hf "$T/out/build-cold.json" -N --runs "$BENCH_BUILD_RUNS" --warmup 1 "${cmds[@]}"
  node "$REPO/bench/build-warm.mjs" "$T/out/build-warm.json" "$T/plans" "$T"/examples/*.ct.ts
}

# --- main -------------------------------------------------------------------------

main() {
  check_prerequisites
  CTC=$(ctc_bin)
  if [[ -z ${BENCH_IN_NAMESPACE:-} ]]; then
    # Re-run this script in a private mount namespace (exec: no extra process,
    # so Ctrl-C reaches the trap below directly).
    BENCH_IN_NAMESPACE=1 exec unshare -m --propagation private "$BASH" "${BASH_SOURCE[0]}" "$@"
  fi
  T=$(mktemp -d /tmp/ctc-bench.XXXXXX)
  PREFIX="ctcb$$-"
  trap cleanup EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
  mkdir -p "$T/out"
  # ctc's native launcher runs a bundle it has run before from a cached "run
  # image", by default in /run/ctc-cache; keep it in $T so nothing stays behind.
  export CTC_CACHE_DIR=$T/ctc-cache
  cd "$T"
  local start=$SECONDS dist_before
  dist_before=$(dist_fingerprint)
  hide_v2_controllers
  make_bundles
  machine_info
  smoke_test
  make_network
  smoke_network
  bench_run
  bench_run_new
  bench_run_new_server
  bench_lifecycle
  bench_exec
  bench_network
  bench_loop
  bench_parallel
  bench_rss
  bench_build
  printf 'elapsed\t%s s\n' "$((SECONDS - start))" >>"$T/out/machine.tsv"
  printf 'load average at end\t%s\n' "$(cut -d' ' -f1-3 /proc/loadavg)" >>"$T/out/machine.tsv"
  if [[ $(dist_fingerprint) != "$dist_before" ]]; then
    echo "bench: WARNING: dist/ changed during the run (ctc was rebuilt): the ctc numbers mix versions" >&2
    printf 'WARNING\t%s\n' "dist/ was rebuilt during the run: the ctc numbers mix versions" >>"$T/out/machine.tsv"
  fi
  node "$REPO/bench/report.mjs" "$T/out" "$BENCH_RESULTS"
}

main "$@"
