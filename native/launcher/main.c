/*
 * main.c: `ctc`'s native entry point. Parses what it answers itself (see
 * launcher.h) with the same flags as cli/args.ts, cli/run.ts and
 * cli/lifecycle.ts; anything else goes to the TypeScript CLI unchanged.
 * CTC_NATIVE=0 sends everything there.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "launcher.h"

static char **saved_argv;

const char *dist_dir(void)
{
  static char dir[PATH_MAX];
  if (!dir[0]) {
    ssize_t n = readlink("/proc/self/exe", dir, sizeof dir - 1);
    if (n <= 0) {
      dprintf(STDERR_FILENO, "ctc: cannot find where ctc is installed: %m\n");
      exit(1);
    }
    dir[n] = '\0';
    *strrchr(dir, '/') = '\0';
  }
  return dir;
}

_Noreturn void hand_over(const char *extra_env)
{
  if (extra_env)
    putenv((char *)extra_env);
  int argc = 0;
  while (saved_argv[argc])
    argc++;
  char script[PATH_MAX + 16];
  snprintf(script, sizeof script, "%s/ctc.mjs", dist_dir());
  const char *node = getenv("CTC_NODE");
  node = node && *node ? node : "node";
  char **argv = calloc((size_t)argc + 2, sizeof *argv);
  argv[0] = (char *)node;
  argv[1] = script;
  for (int k = 1; k < argc; k++)
    argv[k + 1] = saved_argv[k];
  execvp(node, argv);
  dprintf(STDERR_FILENO, "ctc: error CT_NODE_MISSING: cannot start %s for %s: %m\n  hint: install Node 20, or set CTC_NODE\n",
          node, script);
  exit(127);
}

/* container.ts checkId */
static int valid_id(const char *id)
{
  size_t n = strlen(id);
  if (n == 0 || n > 1024 || !strcmp(id, ".") || !strcmp(id, ".."))
    return 0;
  return strspn(id, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-") == n;
}

/* path.resolve(p): absolute, without "", "." and ".." parts. */
static char *resolve(const char *p)
{
  struct buf in = {0}, out = {0};
  if (p[0] != '/') {
    char cwd[PATH_MAX];
    if (!getcwd(cwd, sizeof cwd))
      hand_over(NULL);
    buf_fmt(&in, "%s/", cwd);
  }
  buf_str(&in, p);
  for (char *part = strtok(in.p, "/"); part; part = strtok(NULL, "/")) {
    if (!strcmp(part, "."))
      continue;
    if (!strcmp(part, "..")) {
      char *slash = out.len ? strrchr(out.p, '/') : NULL;
      out.len = slash ? (size_t)(slash - out.p) : 0;
      if (out.p)
        out.p[out.len] = '\0';
      continue;
    }
    buf_fmt(&out, "/%s", part);
  }
  if (!out.len)
    buf_str(&out, "/");
  buf_free(&in);
  return out.p;
}

/* The value of --name VALUE or --name=VALUE at argv[*i] (advancing *i), or NULL. */
static const char *flag_value(char **argv, int *i, const char *name, const char *shortname)
{
  const char *a = argv[*i];
  size_t n = strlen(name);
  if (!strncmp(a, name, n) && a[n] == '=')
    return a + n + 1;
  if (strcmp(a, name) && (!shortname || strcmp(a, shortname)))
    return NULL;
  if (!argv[*i + 1])
    hand_over(NULL); /* the CLI says it needs a value */
  return argv[++*i];
}

static int is_flag(const char *a, const char *name, const char *shortname)
{
  return !strcmp(a, name) || (shortname && !strcmp(a, shortname));
}

static unsigned fail_step(void)
{
  const char *v = getenv("CTC_FAIL_STEP");
  if (!v)
    return 0;
  if (v[0] < '1' || v[0] > '9' || strspn(v, "0123456789") != strlen(v) || strlen(v) > 9)
    hand_over(NULL); /* the CLI says what is wrong with it */
  return (unsigned)atoi(v);
}

static int exists(const char *p)
{
  struct stat st;
  return stat(p, &st) == 0;
}

/* A state root taken as it is: missing, or root's own directory that
 * others can neither read nor write. Anything else goes to the CLI, which
 * holds the one list of rules (executor/container/state.ts checkStateRoot). */
static int root_is_plain(const char *root)
{
  struct stat st;
  if (stat(root, &st) < 0)
    return errno == ENOENT;
  return S_ISDIR(st.st_mode) && st.st_uid == 0 && !(st.st_mode & 066);
}

/* ctc form without --id: <plan name>-<8 hex>, as cli/run.ts makes it. */
static char *generated_id(const char *plan)
{
  const char *base = strrchr(plan, '/') ? strrchr(plan, '/') + 1 : plan;
  size_t n = strlen(base);
  if (n > 5 && !strcmp(base + n - 5, ".plan"))
    n -= 5;
  unsigned char rnd[4];
  if (getrandom(rnd, sizeof rnd, 0) != sizeof rnd)
    hand_over(NULL);
  struct buf b = {0};
  for (size_t k = 0; k < n; k++) {
    char c = base[k];
    buf_fmt(&b, "%c", strchr("_.-", c) || (c >= '0' && c <= '9') || ((c | 32) >= 'a' && (c | 32) <= 'z') ? c : '_');
  }
  buf_fmt(&b, "-%02x%02x%02x%02x", rnd[0], rnd[1], rnd[2], rnd[3]);
  return b.p;
}

/* run and create: the flags of cli/run.ts and cli/lifecycle.ts createCommand. */
static int run_or_create(int create, char **argv, int i, const char *root)
{
  struct run_opts o = {.root = root, .mode = create ? MODE_CREATE : MODE_FOREGROUND};
  const char *bundle = NULL, *id = NULL, *arg = NULL, *v;
  for (; argv[i]; i++) {
    const char *a = argv[i];
    if ((v = flag_value(argv, &i, "--bundle", "-b")))
      bundle = v;
    else if (!create && (v = flag_value(argv, &i, "--id", NULL)))
      id = v;
    else if ((v = flag_value(argv, &i, "--pid-file", NULL)))
      o.pid_file = v;
    else if ((v = flag_value(argv, &i, "--console-socket", NULL)))
      o.console = v;
    else if ((v = flag_value(argv, &i, "--preserve-fds", NULL))) {
      if (strcmp(v, "0"))
        hand_over(NULL);
    } else if (!create && is_flag(a, "--detach", "-d"))
      o.mode = MODE_DETACHED;
    else if (is_flag(a, "--no-new-keyring", NULL) || (!create && is_flag(a, "--no-subreaper", NULL)))
      continue;
    else if (!strncmp(a, "--allowed-signers", 17))
      hand_over(
          NULL); /* signatures are checked by the CLI alone (executor/signing/plan-signature.ts), before any image is looked up */
    else if (a[0] == '-' || arg)
      hand_over(NULL); /* -t, --no-pivot, --help, more than one argument: the CLI */
    else
      arg = a;
  }
  size_t n = arg ? strlen(arg) : 0;
  int runc_form = create || bundle || (arg && !(n > 5 && !strcmp(arg + n - 5, ".plan")) && !exists(arg));
  if (runc_form) {
    if (!arg)
      hand_over(NULL);
    id = arg;
    o.bundle = resolve(bundle ? bundle : ".");
  } else {
    if (!arg)
      hand_over(NULL); /* finding the only plan here: the CLI */
    o.plan = arg;
    if (!id) {
      id = generated_id(arg);
      o.id_generated = 1;
    }
  }
  if (!valid_id(id))
    hand_over(NULL);
  o.id = id;
  o.fail_step = fail_step();
  struct image *img = image_find(&o);
  if (!img)
    hand_over(NULL);
  return apply_image(img, &o);
}

int main(int argc, char **argv)
{
  (void)argc;
  saved_argv = argv;
  /* ctc opens no network connection: no Node it starts (the CLI, the build
   * snapshot) need load extra CA certificates (where set, ~90 ms a start) */
  unsetenv("NODE_EXTRA_CA_CERTS");
  const char *native = getenv("CTC_NATIVE");
  /* CTC_PAUSE_STEP (the crash tests' stop before a step) is the TypeScript executor's alone */
  if ((native && !strcmp(native, "0")) || getenv("CTC_NATIVE_FAILED") || getenv("CTC_PAUSE_STEP"))
    hand_over(NULL);
  const char *root = STATE_ROOT, *v;
  int i = 1;
  for (; argv[i] && argv[i][0] == '-'; i++) {
    if ((v = flag_value(argv, &i, "--root", NULL)))
      root = v;
    else if ((v = flag_value(argv, &i, "--log-format", NULL))) {
      if (strcmp(v, "text") && strcmp(v, "json"))
        hand_over(NULL); /* the CLI says what is wrong */
    } else if (flag_value(argv, &i, "--log", NULL))
      log_given = 1; /* errors are the CLI's, and it gets the same flags */
    else if (is_flag(argv[i], "--debug", NULL))
      continue;
    else
      hand_over(NULL); /* --config too: its allowedSigners, its state root and log are the CLI's to read */
  }
  const char *cmd = argv[i];
  /* Container commands read no project config (cli/project.ts); build looks near its source (build.c). */
  if (!cmd)
    hand_over(NULL);
  char **rest = argv + i + 1;
  if (geteuid() != 0 && strcmp(cmd, "build"))
    hand_over(NULL); /* rootless: its state root and cache are the CLI's */
  if (strcmp(cmd, "build") && !root_is_plain(root))
    hand_over(NULL); /* the CLI tightens it or refuses it (CT_STATE_UNSAFE) */
  if (!strcmp(cmd, "run") || !strcmp(cmd, "create"))
    return run_or_create(!strcmp(cmd, "create"), argv, i + 1, root);
  if (!strcmp(cmd, "build"))
    return build_command(argv, rest);
  if (!strcmp(cmd, "state") && rest[0] && rest[0][0] != '-' && !rest[1] && valid_id(rest[0]))
    return state_command(root, rest[0]);
  if (!strcmp(cmd, "kill") && rest[0] && valid_id(rest[0]))
    return kill_command(root, rest);
  if (!strcmp(cmd, "exec"))
    return exec_command(root, rest);
  if (!strcmp(cmd, "start") && rest[0] && rest[0][0] != '-' && !rest[1] && valid_id(rest[0]))
    return start_container(root, rest[0]);
  if (!strcmp(cmd, "delete")) {
    int force = 0, k = 0;
    for (; rest[k] && rest[k][0] == '-'; k++) {
      if (!is_flag(rest[k], "--force", "-f"))
        hand_over(NULL);
      force = 1;
    }
    if (rest[k] && !rest[k + 1] && valid_id(rest[k]))
      return delete_container(root, rest[k], force);
  }
  hand_over(NULL);
}
