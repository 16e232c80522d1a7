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
  command -v unshare >/dev/null || missing+=(util-linux)
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
  local r id leftover=0
  for r in "${RUNTIMES[@]}"; do
    [[ -d $T/root-$r ]] || continue
    # concurrently: after a Ctrl-C nobody wants to wait for N Node starts
    for id in ${USED_IDS[$r]:-} $(rt "$r" list -q 2>/dev/null); do
      rt "$r" delete --force "$id" >/dev/null 2>&1 &
    done
    wait
    if [[ -n $(rt "$r" list -q 2>/dev/null) ]]; then
      echo "bench: LEFT BEHIND by $r: $(rt "$r" list -q | tr '\n' ' ')" >&2; leftover=1
    fi
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
  (cd "$T" && runc spec)
  make_config true /bin/true
  make_config sleep /bin/sleep 1000
  make_config exit3 /bin/sh -c 'exit 3'
  rm "$T/config.json"
}

# Adjusts runc's default config, identically for every runtime:
# - args, terminal false (the bench has no tty), root.path absolute (shared rootfs);
# - ctc refuses two things runc's 1.1 default has (reported as ctc bugs, see
#   README.md): ambient capabilities that are not inheritable (runc silently
#   fails to raise them, so dropping them changes nothing), and a cgroup mount
#   without a cgroup namespace (one is added, for all three).
make_config() {
  local name=$1; shift
  mkdir -p "$T/b-$name"
  node - "$T/config.json" "$T/b-$name/config.json" "$T/rootfs" "$@" <<'EOF'
const fs = require('fs');
const [src, dst, rootfs, ...args] = process.argv.slice(2);
const c = JSON.parse(fs.readFileSync(src, 'utf8'));
c.process.args = args;
c.process.terminal = false;
c.root.path = rootfs;
fs.writeFileSync(dst, JSON.stringify(c, null, 2));
EOF
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

# `run` of /bin/true in the foreground; the id is reused since `run` deletes it.
bench_run() {
  log "run /bin/true (foreground), $BENCH_RUNS runs each"
  local r cmds=()
  for r in "${RUNTIMES[@]}"; do
    id_for "$r" run
    cmds+=(-n "$r" "$(rt_cmd "$r") run --bundle $T/b-true $ID")
  done
  hf "$T/out/run.json" -N --runs "$BENCH_RUNS" --warmup "$BENCH_WARMUP" "${cmds[@]}"
}

# The same, but ctc's run-image cache is emptied before every run (untimed, and
# done for every runtime alike): what ctc costs the first time it runs a bundle,
# e.g. under containerd, which makes a new bundle dir per container.
bench_run_uncached() {
  log "run /bin/true, ctc's run-image cache emptied before each run, $BENCH_RUNS runs each"
  local r cmds=()
  for r in "${RUNTIMES[@]}"; do
    id_for "$r" run
    cmds+=(-n "$r" "$(rt_cmd "$r") run --bundle $T/b-true $ID")
  done
  hf "$T/out/run-uncached.json" -N --runs "$BENCH_RUNS" --warmup "$BENCH_WARMUP" \
    --prepare "rm -rf $CTC_CACHE_DIR" "${cmds[@]}"
  # one untimed run puts the image back, so the loops below start as bench_run did
  id_for ctc run
  rt ctc run --bundle "$T/b-true" "$ID" </dev/null >/dev/null
}

# One timed shell loop of $BENCH_LOOP sequential runs, stopping at the first failure.
bench_loop() {
  log "$BENCH_LOOP sequential runs, $BENCH_LOOP_RUNS loops each"
  local r cmds=()
  for r in "${RUNTIMES[@]}"; do
    id_for "$r" loop
    cmds+=(-n "$r" "for i in \$(seq $BENCH_LOOP); do $(rt_cmd "$r") run --bundle $T/b-true $ID || exit 1; done")
  done
  hf "$T/out/loop.json" --runs "$BENCH_LOOP_RUNS" --warmup 0 "${cmds[@]}"
}

# $BENCH_PARALLEL concurrent runs with distinct ids; fails if any one fails.
bench_parallel() {
  log "$BENCH_PARALLEL parallel runs, $BENCH_PARALLEL_RUNS batches each"
  local r i cmds=()
  for r in "${RUNTIMES[@]}"; do
    for ((i = 1; i <= BENCH_PARALLEL; i++)); do id_for "$r" "par$i"; done
    cmds+=(-n "$r" "pids=''; for i in \$(seq $BENCH_PARALLEL); do $(rt_cmd "$r") run --bundle $T/b-true ${PREFIX}par\$i-$r & pids=\"\$pids \$!\"; done; rc=0; for p in \$pids; do wait \$p || rc=1; done; exit \$rc")
  done
  hf "$T/out/parallel.json" --runs "$BENCH_PARALLEL_RUNS" --warmup 1 "${cmds[@]}"
}

# create -> start -> delete, timed as one unit. The process is /bin/true, so it
# may or may not have exited when delete comes: --force covers both, alike.
bench_lifecycle() {
  log "create, start, delete, $BENCH_RUNS runs each"
  local r c cmds=()
  for r in "${RUNTIMES[@]}"; do
    id_for "$r" csd; c=$(rt_cmd "$r")
    cmds+=(-n "$r" "$c create --bundle $T/b-true $ID && $c start $ID && $c delete --force $ID")
  done
  hf "$T/out/lifecycle.json" --runs "$BENCH_RUNS" --warmup "$BENCH_WARMUP" "${cmds[@]}"
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
  log "exec /bin/true into a running container, $BENCH_RUNS runs each"
  local r cmds=()
  : >"$T/out/resident.tsv"
  for r in "${RUNTIMES[@]}"; do
    id_for "$r" exec
    # stdio to a file: a detached container must not hold a pipe of ours open
    rt "$r" run -d --pid-file "$T/exec-$r.pid" --bundle "$T/b-sleep" "$ID" \
      </dev/null >"$T/out/detach-$r.log" 2>&1 || die "$r run -d failed: $(cat "$T/out/detach-$r.log")"
    record_resident "$r" "$(cat "$T/exec-$r.pid")"
    cmds+=(-n "$r" "$(rt_cmd "$r") exec $ID /bin/true")
  done
  hf "$T/out/exec.json" -N --runs "$BENCH_RUNS" --warmup "$BENCH_WARMUP" "${cmds[@]}"
  for r in "${RUNTIMES[@]}"; do rt "$r" delete --force "${PREFIX}exec-$r" >/dev/null; done
}

# Peak RSS of the runtime for `run /bin/true`: /usr/bin/time's %M is the
# largest of the process and the children it waited for (ctc: node or the
# launcher, and ctc-init; runc: runc and `runc init`).
bench_rss() {
  log "peak RSS of run /bin/true, $BENCH_RSS_RUNS samples each"
  local r i
  : >"$T/out/rss.tsv"
  for r in "${RUNTIMES[@]}"; do
    id_for "$r" rss
    for ((i = 0; i < BENCH_RSS_RUNS; i++)); do
      eval "/usr/bin/time -f %M -o $T/out/rss.one $(rt_cmd "$r") run --bundle $T/b-true $ID" </dev/null >/dev/null
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
  bench_run
  bench_run_uncached
  bench_loop
  bench_parallel
  bench_lifecycle
  bench_exec
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
