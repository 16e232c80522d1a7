/*
 * launcher.h: `ctc`, the native entry point (docs/design.md, "The launcher and run images").
 *
 * Node takes longer to start than runc takes to run a container, so the hot
 * commands are answered here without it: `run` of a plan (its first run
 * too), `run` and `create` of a bundle this host has run before, `start`,
 * `state`, `kill`, `delete`, `exec`, and `build` of a .ct.ts from the build
 * snapshot.
 * Everything else, and anything unusual in those (flags the launcher does
 * not know, host steps it does not apply, a container in a state it does
 * not expect), is handed to the TypeScript CLI, the reference, by exec'ing
 * `node dist/ctc.mjs` with the same argv: the launcher never guesses.
 *
 * A run image (format in image.h) holds the plan's host steps resolved for
 * this host (cgroup files, device filter) and the init program, with the
 * container id and state dir left as markers. Two places give one:
 *  - the cache (/run/ctc-cache), named by the SHA-256 of what it was compiled
 *    from, where the TypeScript executor writes one after a container it ran
 *    started (executor/native-bridge/run-image.ts): for bundles, and plans Node ran;
 *  - for a plan with no cached image, plan-image.c builds it from the plan's
 *    text (plan-image.h): read and checked as the executor reads and checks
 *    it, the same bytes encodeImage writes. A plan it cannot build (network,
 *    user namespaces, images, hooks, annotations, a terminal, an LSM label,
 *    a check it fails) goes to Node. The built image is not written to the
 *    cache: building takes ~0.5-1 ms of CPU (seccomp included), reading a
 *    cached one ~0.05 ms, in a run of ~50 ms; writing would put the cache's
 *    bound (executor/native-bridge/run-image-cache.ts) on the launcher's hot path too.
 * The launcher applies it as executor/run/apply.ts does: the same journal, the
 * same state.json, the same protocol with ctc-init (wire.h), the same
 * rollback. A failure is rolled back here and then reported by the
 * TypeScript CLI (CTC_NATIVE_FAILED), so every message has one author.
 *
 *   main.c       arguments, the hand-over to Node
 *   image.c      finding, checking and reading a run image; the program
 *   plan-image.c a plan's run image built from its text (plan-image.h: with
 *                plan-wire.c, cgroup-writes.c, device-rules.c; the plan is
 *                read by native/common/plan-text.c)
 *   apply.c      run and create: host steps, ctc-init, state, rollback
 *   lifecycle.c  start, delete, state, kill
 *   exec.c       exec
 *   build.c      build, started from the V8 snapshot without a Node in between
 *   helper.c     ctc-init: starting it, its messages
 *   config.c     where a project config is (then the CLI answers)
 *   compile-client.c  a new bundle's plan from `ctc compile-server`, if one runs
 *   cgroups.c    the cgroup hierarchies of this host (mountinfo), create,
 *                join, remove, thaw
 *   files.c      small file helpers, the journal, JSON text
 */
#ifndef CTC_LAUNCHER_H
#define CTC_LAUNCHER_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* root's default state root; an ordinary user's commands go to the CLI
 * (executor/container/state.ts defaultStateRoot, checkStateRoot) */
#define STATE_ROOT "/run/ctc"
#define CACHE_DIR "/run/ctc-cache"
/* `ctc compile-server`'s socket (cli/compile-server.ts DEFAULT_SOCKET); CTC_COMPILE_SOCKET overrides it */
#define COMPILE_SOCKET "/run/ctc-compile/socket"

/* ---- compile-client.c ---- */
/* The plan text the compile server makes of a bundle's config, and its warnings as the CLI
 * prints them or NULL (both malloc'd); 0, or -1: the CLI compiles it. */
int compile_remote(const char *bundle, const char *config, size_t len, char **plan, size_t *plan_len, char **warnings);
/* main.c: --log was given (a warning then goes there, which the CLI writes) */
extern int log_given;

/* main.c: exec the TypeScript CLI with the original argv (never returns).
 * extra_env: "NAME=value" added to the environment, or NULL. */
_Noreturn void hand_over(const char *extra_env);
/* main.c: the directory of this binary (dist/), for ctc-init and ctc.mjs. */
const char *dist_dir(void);

/* ---- config.c ---- */
/* 1 if a ctc config (or a script one, which the CLI refuses) is at path's
 * directory (or path, a directory) or above it, up to its project root. */
int config_near(const char *path);

/* ---- files.c ---- */
struct buf {
  char *p;
  size_t len, cap;
};
void buf_add(struct buf *b, const void *p, size_t n);
void buf_str(struct buf *b, const char *s);
void buf_fmt(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void buf_json(struct buf *b, const char *s); /* a JSON string, quoted */
void buf_free(struct buf *b);
/* the whole file, NUL-terminated (len without it); NULL with errno */
char *read_file(const char *path, size_t *len);
/* writes value to an existing file (a cgroup file); 0 or -errno */
int write_value(const char *path, const char *value);
/* write to <path>.tmp (O_EXCL|O_NOFOLLOW: never through a planted name), rename; 0 or -errno */
int write_atomic(const char *path, const void *data, size_t len, mode_t mode);
/* a field of a flat JSON object: the raw text of its value (a string's
 * unescaped content), into out; 0, or -1 if absent or not simple */
int json_field(const char *json, const char *name, char *out, size_t size);
int json_long(const char *json, const char *name, long long *out);
/* a field holding an array of strings: the count (0 if absent), or -1; *out malloc'd */
long json_strings(const char *json, const char *name, char ***out);
/* /proc/<pid>/stat: state letter and start time; 0, or -1 if gone */
int proc_stat(pid_t pid, char *state, unsigned long long *start);
int is_alive(pid_t pid, unsigned long long start);
/* waits until the process is gone (or a zombie); 0, or -1 on timeout */
int wait_gone(pid_t pid, unsigned long long start, int ms);
void sleep_ms(int ms);
/* removes a state dir as executor/container/state.ts does (never recursively) */
int remove_state_dir(const char *dir);

/* ---- cgroups.c (executor/host/cgroups/v1.ts and v2.ts, for what runs here) ---- */
int cg_load(void); /* reads mountinfo (once); 0 or -errno */
/* the k-th v1 hierarchy's mount point and its controllers ("cpu,cpuacct"), or NULL past the last */
const char *cg_hierarchy(size_t k, const char **controllers);
/* the test driver's (test/native/plan-image-dump.c): a pure v2 layout at root, on any host */
void cg_assume_v2(const char *root);
/* the cgroup2 tree (a hybrid host's unified one), or NULL; *pure: the host is v2 only */
const char *cg_unified(int *pure);
int cg_exists(const char *path);
int cg_create(const char *path); /* 0 or -errno */
int cg_join(const char *path, pid_t pid);
/* pid into each cgroup peer is in (/proc/<peer>/cgroup) and pid is not: exec's; 0 or -errno */
int cg_join_peer(pid_t peer, pid_t pid);
int cg_thaw(const char *path);
int cg_frozen(const char *path);
int cg_remove(const char *path);
void cg_remove_if_empty(const char *path);

/* ---- the journal (executor/run/journal.ts) ---- */
struct undo {
  enum { UNDO_STATE, UNDO_CGROUP, UNDO_KILL } kind;
  unsigned step;
  char *path; /* state dir, or cgroup path */
  char **parents;
  size_t nparents;
  pid_t pid;
  unsigned long long start;
};
struct journal {
  struct undo *e;
  size_t n;
  int fd; /* the file, once the state dir exists; -1 before */
};
int journal_record(struct journal *j, struct undo u);
/* makes the journal, its first line the plan's digest; 0 or -errno */
int journal_attach(struct journal *j, const char *state_dir, const char *plan, size_t plan_len);
/* the journal of root/id once journal-check.c allows it; 0, or -1 if it does not (or is not understood) */
int journal_read(const char *root, const char *id, struct journal *j);
/* undoes newest first; 0, or -1 if something could not be undone */
int undo_all(struct journal *j);

/* ---- image.c ---- */
#define MAX_ARGS 8
struct arg {
  const char *p;
  uint32_t len;
};
struct rec {
  uint16_t op, nargs;
  uint32_t step;
  struct arg a[MAX_ARGS];
};
struct image {
  char *data;
  size_t len;
  struct rec *r;
  size_t n;
};
enum mode { MODE_FOREGROUND, MODE_CREATE, MODE_DETACHED };
struct run_opts {
  const char *root;
  const char *id;
  enum mode mode;
  const char *bundle; /* resolved (runc form), or NULL */
  const char *plan;   /* the plan file (ctc form), or NULL */
  const char *pid_file;
  const char *console; /* --console-socket */
  unsigned fail_step;  /* CTC_FAIL_STEP */
  int id_generated;    /* no --id: run -d prints the id it made, as docker run -d */
};
/* The image for these options, or NULL (no image: hand over). */
struct image *image_find(const struct run_opts *o);
/* A STR* argument with the markers replaced, NUL-terminated (malloc'd). */
char *image_str(const struct run_opts *o, struct arg a);
/* One wire.h op record (u32 len, u16 op, u16 nargs, u32 step, each argument as u32 length + bytes), appended to b */
struct piece {
  const void *p;
  uint32_t len;
};
void add_record(struct buf *b, uint16_t op, uint32_t step, const struct piece *args, uint16_t nargs);
/* <root>/<id> */
char *state_dir(const struct run_opts *o);
/* The program for ctc-init (wire.h): the image's init records, with the
 * ops this run adds (monitor, exec fifo, console socket), as apply.ts's
 * extras(). 0, or -1 if the image cannot make one. */
int image_program(const struct image *img, const struct run_opts *o, struct buf *out);
/* CTC_LOG_MAX_SIZE, else 10 MiB: a detached container's log cap (executor/container/log.ts);
 * a value the CLI would refuse hands over. */
uint64_t log_cap(void);

/* ---- helper.c: ctc-init, the executor's side of wire.h ---- */
struct ctc_wire_msg;
/* The signals a foreground run forwards to the container (apply.ts FORWARDED). */
static const int forwarded_signals[] = {2 /* INT */, 15 /* TERM */, 1 /* HUP */, 3 /* QUIT */};
/* Starts dist/ctc-init with our stdio and the control socket on fd 3, and
 * sends it the program. 0 or -errno; *sock and *pid set once it started. */
int helper_spawn(const struct buf *program, int *sock, pid_t *pid);
/* The next message; 0, or -1 at EOF or on an error. */
int helper_msg(int sock, struct ctc_wire_msg *m);
/* GO(until); 0 or -1. */
int helper_go(int sock, uint32_t until);

struct exec_opts {
  pid_t pid;             /* the container's init */
  uint64_t ns_flags;     /* the kinds of its namespaces to join where they are not ours: CTC_NS_ALL */
  char **argv;           /* the command */
  const char *exit_file; /* -d: where the staying monitor records the exit, else NULL */
};
/* The program of `exec` (exec.ts execIn): join the init's namespaces, then
 * the container's process steps with the caller's command. 0 or -1. */
int image_exec_program(const struct image *img, const struct run_opts *o, const struct exec_opts *e, struct buf *out);

/* ---- apply.c ---- */
/* Runs or creates; returns the exit code, or hands over to report a failure. */
int apply_image(struct image *img, const struct run_opts *o);

/* ---- lifecycle.c ---- */
struct state {
  char dir[4200];
  char phase[32];
  char cgroup[4096];
  char namespaces[256]; /* the JSON array's text */
  long long pid, start, monitor, monitor_start;
  int start_hooks; /* startContainer or poststart hooks wait for `start`: the CLI runs them */
};
/* state.json of root/id, or hand over */
void load_state(const char *root, const char *id, struct state *s);
/* container.ts status() */
const char *state_status(const struct state *s);
int start_container(const char *root, const char *id); /* hands over unless it is simple */
int delete_container(const char *root, const char *id, int force);
int state_command(const char *root, const char *id);
int kill_command(const char *root, char **args);

/* ---- build.c ---- */
/* `build X.ct.ts ...` straight from the build snapshot (cli/snapshot.ts), when usable. */
int build_command(char **argv, char **args);

/* ---- exec.c ---- */
/* `exec [-d] [--pid-file F] ID [--] CMD...`; other forms are handed over. */
int exec_command(const char *root, char **args);

#endif
