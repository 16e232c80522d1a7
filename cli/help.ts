// `ctc CMD --help` and `ctc help CMD` for the commands whose modules have no
// help of their own (the container commands, with runc's flags); the others
// (build, check, diff, lint, explain, spec, config, init, fmt, sign, run,
// exec) print their own. Each: a usage line, every flag, one example.

/** `ctc --help`: every command in a line, and the global options. */
export const overviewHelp = `usage: ctc [--root DIR] [--log FILE] [--log-format text|json] [--config FILE] COMMAND [ARGS]

ctc compiles containers: a typed source becomes a plan, the exact kernel
steps that create the container, and ctc runs plans. It also speaks runc's
command line, so orchestrators can use it as their OCI runtime.

compiler:
  build SRC [-o PLAN]     compile app.ct.ts (or an app.ct, a config.json) to a plan (--json: print it as JSON)
  check [SRC...]          is each committed plan what its source builds to now? (for CI)
  diff OLD NEW            step-level diff of plans or sources, with risk notes
  diff REV -- SRC...      the same, against the source as of a git revision
  lint [PLAN|SRC...]      check plans against policy rules (the ctc config's "lint")
  explain PLAN STEP       what a step does to the kernel: effect, syscalls, source, preset
  spec                    write a default config.json, as runc spec does
  fmt [--check] FILE...   lay .ct files out canonically (--check: exit 1 naming each that is not)
  config [DIR|SRC]        the project's effective settings and where each comes from
  init [DIR] [--lang ts|ct]  scaffold a starter container (app.ct.ts or app.ct, ctc config)
  sign PLAN --key KEY     sign a reviewed plan into PLAN.sig (OpenSSH signature, namespace ctc-plan)

containers:
  run [PLAN | -b DIR ID]  run a plan or a bundle (foreground, or -d); --allowed-signers FILE: only signed plans
  create -b DIR ID        set up a container; its process waits for start
  start ID                start a created container's process
  state ID                print the OCI state
  list                    list containers
  ps ID                   list a container's processes
  exec ID CMD...          run a process in a container
  kill ID [SIGNAL]        signal a container (--all: every process)
  stop [-t SECONDS] ID    the stop signal (TERM), then SIGKILL after the timeout (default 10 s)
  logs [-f] [--tail N] ID  a detached container's stdout and stderr (-f: follow until it stops)
  pause ID, resume ID     freeze and thaw a container
  update [flags] ID       change a running container's limits (runc's flags, -r FILE)
  stats ID                print resource usage (JSON, as runc events --stats)
  events [--interval] ID  stream stats and OOM events as JSON lines
  delete ID               remove a stopped container (--force: any)
  checkpoint ID, restore -d -b DIR ID  save a container with criu (--image-path DIR), bring it back
  help [COMMAND]          a command's usage, flags and an example (also: ctc COMMAND --help)
  completion SHELL        a completion script for bash, zsh or fish
  compile-server          keep a compiler warm for the first run of new bundles (optional; root)
  gc [--min-age S] [--dry-run] [--images]  remove, from their journals, containers a crash left (nothing will finish them), with --images the cached images no container uses, and the run images over the cache's bound; prints what it removes

global options (their defaults can come from the project's ctc config):
  --root DIR              state root (default /run/ctc; $XDG_RUNTIME_DIR/ctc for an ordinary user)
  --log FILE              also write errors to FILE
  --log-format FORMAT     text or json (for --log)
  --config FILE           the ctc config (JSON or YAML) instead of the one found from the source
                          up to its project root; the container commands read one only from here
  --version, --help`;

export const commandHelp: Record<string, string> = {
  create: `usage: ctc create --bundle DIR [--pid-file F] [--console-socket S] [--no-pivot] ID

Compiles DIR/config.json and sets the container up; its process waits until
\`ctc start ID\`. As runc's create (orchestrators call it so).

  -b, --bundle DIR         the OCI bundle (default: the current directory)
  --pid-file FILE          write the container process's pid (never through a symlink)
  --console-socket SOCK    send the terminal's master to SOCK (process.terminal)
  --no-pivot               chroot-like switch instead of pivot_root (roots on a ramfs)
  --no-new-keyring         accepted (ctc makes no session keyring)
  --preserve-fds N         only 0 (refused otherwise)

example: ctc create --bundle ./web web && ctc start web`,
  start: `usage: ctc start ID

Lets a created container's process run (it then execs its command).

example: ctc start web`,
  state: `usage: ctc state ID

Prints the container's OCI state (JSON: ociVersion, id, status, pid, bundle, annotations).

example: ctc state web`,
  list: `usage: ctc list [--format table|json] [-q]

Lists the containers under the state root.

  -f, --format table|json  a table (default) or runc's JSON array
  -q, --quiet              only the ids

example: ctc list --format json`,
  ps: `usage: ctc ps [--format table|json] ID

Lists the processes in a container's cgroup.

  -f, --format table|json  ps's table (default), or a JSON array of pids

example: ctc ps --format json web`,
  kill: `usage: ctc kill [--all] ID [SIGNAL]

Sends SIGNAL (default TERM; a name, with or without SIG, or a number) to the
container's init, or with --all to every process in its cgroup.

  -a, --all                every process of the container

example: ctc kill web KILL`,
  stop: `usage: ctc stop [-t SECONDS] [-s SIGNAL] ID

Stops a container as docker and podman do: SIGNAL to its init, then SIGKILL
to every process once SECONDS have passed (a pid 1 without a handler ignores
TERM). A stopped container is left as it is; a paused one is thawed first.

  -t, --time SECONDS       the grace period before SIGKILL (default 10)
  -s, --signal SIGNAL      the stop signal (default TERM)

example: ctc stop -t 2 web && ctc delete web`,
  logs: `usage: ctc logs [-f] [--tail N] [-t] ID

Prints a detached container's log: what it wrote to stdout on stdout, to
stderr on stderr, in the order it was written. Only containers run with -d
(or created with stdout and stderr on /dev/null), without a terminal, have
one: <root>/ID/ctr.log, rotated to ctr.log.1 at 10 MiB (CTC_LOG_MAX_SIZE,
in bytes), removed by delete. The file's format is in docs/containers.md.

  -f, --follow             go on printing what it writes, until it stops
  -n, --tail N             only the last N lines (default all)
  -t, --timestamps         each line with the time it was written (RFC 3339, UTC)

example: ctc logs -f --tail 20 web`,
  delete: `usage: ctc delete [--force] ID...

Removes stopped (or created) containers: their cgroups, mounts, network and
state, from their journals.

  -f, --force              also a running or half-made container: kill it first; a missing id is success

example: ctc delete --force web`,
  'compile-server': `usage: ctc compile-server [--socket PATH]

Keeps an OCI config compiler warm, so that the first run or create of a
bundle ctc has not seen (containerd and CRI hand over a new config.json for
every container) is answered by the native launcher without starting Node.
It binds PATH (default /run/ctc-compile/socket, in a folder only root can
use), then runs as nobody and compiles only the config bytes the launcher
sends it; it changes nothing on the host. Without it, such runs go through
the CLI as before. Run it as a service (docs/orchestrators.md has a systemd
unit); it stops on TERM or INT.

  --socket PATH            where to listen (the launcher's CTC_COMPILE_SOCKET)

example: ctc compile-server &`,
  gc: `usage: ctc gc [--min-age SECONDS] [--dry-run] [--images]

Removes, from their journals, the containers a crash left that nothing will
finish, and the run images over the cache's bound; prints what it removes.

  --min-age SECONDS        only state dirs older than this (default 60)
  --dry-run                print what would go, remove nothing
  --images                 also the cached images no container's plan names

example: ctc gc --dry-run --images`,
  pause: `usage: ctc pause ID

Freezes every process of the container (v1 freezer, v2 cgroup.freeze).

example: ctc pause web`,
  resume: `usage: ctc resume ID

Thaws a paused container.

example: ctc resume web`,
  update: `usage: ctc update [flags] ID
       ctc update -r FILE ID

Changes a running container's limits. Sizes: 96m, 96Mi or 96MB (powers of
1024), -1 or max for no limit. At least one limit must be named.

  -r, --resources FILE     an OCI linux.resources object (JSON; - reads stdin)
  --memory SIZE            memory limit
  --memory-reservation SIZE  soft limit
  --memory-swap SIZE       memory plus swap limit
  --pids-limit N           most processes
  --cpu-period US, --cpu-quota US, --cpu-burst US  CFS bandwidth
  --cpu-share N            relative CPU weight
  --cpu-rt-period US, --cpu-rt-runtime US  real-time budget
  --cpuset-cpus LIST, --cpuset-mems LIST  CPUs and memory nodes (0-3,6)
  --blkio-weight N         block I/O weight (10-1000)

example: ctc update --memory 96m --pids-limit 64 web`,
  stats: `usage: ctc stats ID

Prints the container's resource usage once, in runc's stats JSON.

example: ctc stats web`,
  events: `usage: ctc events [--stats] [--interval 5s] ID

Streams the container's stats every interval and its OOM events, as JSON
lines (with --stats: once, then exit).

  --stats                  print stats once and exit
  --interval DURATION      time between stats (default 5s)

example: ctc events --interval 1s web`,
  checkpoint: `usage: ctc checkpoint [--image-path DIR] [--leave-running] [criu flags] ID

Saves a running container with criu (it stops, unless --leave-running).

  --image-path DIR         where criu writes its images (default ./checkpoint)
  --work-path DIR          criu's logs and work files
  --leave-running          keep the container running after the dump
  --tcp-established, --ext-unix-sk, --shell-job, --file-locks  as criu's
  --manage-cgroups-mode soft, --empty-ns NS, --auto-dedup  as runc's

example: ctc checkpoint --image-path /var/lib/ckpt/web web`,
  restore: `usage: ctc restore -d [--image-path DIR] [--bundle DIR] [--pid-file F] [criu flags] ID

Brings a checkpointed container back (detached), under ID.

  -d, --detach             required: no ctc process stays to wait for it
  --image-path DIR         criu's images (default ./checkpoint)
  -b, --bundle DIR         the bundle it runs from again
  --pid-file FILE          write the restored init's pid
  --work-path DIR, --tcp-established, --ext-unix-sk, --shell-job, --file-locks  as criu's

example: ctc restore -d --image-path /var/lib/ckpt/web --bundle ./web web`,
  help: `usage: ctc help [COMMAND]

Prints ctc's commands, or one command's usage, flags and an example.

example: ctc help update`,
};

/** Whether args ask for help: --help or -h among the options (the container commands take no -h of their own). */
export const asksHelp = (args: readonly string[]): boolean => args.some((a) => a === '--help' || a === '-h');
