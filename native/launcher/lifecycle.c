/*
 * lifecycle.c: `start` and `delete` as executor/container/container.ts does them, for
 * a container in the expected state; anything else (not found, the wrong
 * status, a journal it does not read) is handed to the TypeScript CLI
 * before anything is touched, and it says what is wrong.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "launcher.h"

void load_state(const char *root, const char *id, struct state *s)
{
  snprintf(s->dir, sizeof s->dir, "%s/%s", root, id);
  char file[4300];
  snprintf(file, sizeof file, "%s/state.json", s->dir);
  char *json = read_file(file, NULL);
  if (!json || json_field(json, "phase", s->phase, sizeof s->phase) || json_long(json, "pid", &s->pid) ||
      json_long(json, "initStartTime", &s->start))
    hand_over(NULL);
  if (json_field(json, "cgroupPath", s->cgroup, sizeof s->cgroup))
    s->cgroup[0] = '\0';
  if (json_long(json, "monitorPid", &s->monitor))
    s->monitor = 0;
  if (json_long(json, "monitorStartTime", &s->monitor_start))
    s->monitor_start = 0;
  char *ns = strstr(json, "\"namespaces\"");
  char *end = ns ? strchr(ns, ']') : NULL;
  if (!ns || !end || (size_t)(end - ns) >= sizeof s->namespaces)
    hand_over(NULL);
  memcpy(s->namespaces, ns, (size_t)(end - ns));
  s->namespaces[end - ns] = '\0';
  s->start_hooks = strstr(json, "\"startHooks\": true") != NULL;
  free(json);
}

static int has_fifo(const struct state *s)
{
  char fifo[4300];
  struct stat st;
  snprintf(fifo, sizeof fifo, "%s/exec.fifo", s->dir);
  return stat(fifo, &st) == 0;
}

const char *state_status(const struct state *s)
{
  if (!is_alive((pid_t)s->pid, (unsigned long long)s->start))
    return "stopped";
  if (!strcmp(s->phase, "creating"))
    return "creating";
  if (has_fifo(s))
    return "created";
  return *s->cgroup && cg_frozen(s->cgroup) ? "paused" : "running";
}

int start_container(const char *root, const char *id)
{
  struct state s;
  if (cg_load() < 0)
    hand_over(NULL);
  load_state(root, id, &s);
  if (strcmp(state_status(&s), "created") || s.start_hooks)
    hand_over(NULL);
  char fifo[4300];
  snprintf(fifo, sizeof fifo, "%s/exec.fifo", s.dir);
  /* O_NONBLOCK: ENXIO instead of hanging if nobody waits on the fifo */
  int fd = open(fifo, O_WRONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0)
    hand_over(NULL);
  int ok = write(fd, "", 1) == 1;
  close(fd);
  if (!ok)
    hand_over(NULL);
  unlink(fifo);
  return 0;
}

int delete_container(const char *root, const char *id, int force)
{
  struct state s;
  if (cg_load() < 0)
    hand_over(NULL);
  load_state(root, id, &s);
  const char *st = state_status(&s);
  if (!force && strcmp(st, "stopped") && strcmp(st, "created"))
    hand_over(NULL); /* not stopped: the CLI refuses, with its hint */
  struct journal j;
  if (journal_read(root, id, &j) < 0)
    hand_over(NULL); /* before anything is done: a journal the check refuses is the CLI's to report */
  if (is_alive((pid_t)s.pid, (unsigned long long)s.start)) {
    if (*s.cgroup)
      cg_thaw(s.cgroup);
    if (kill((pid_t)s.pid, SIGKILL) < 0 && errno != ESRCH)
      hand_over(NULL);
    if (wait_gone((pid_t)s.pid, (unsigned long long)s.start, 5000) < 0)
      hand_over(NULL);
  }
  /* a monitor that stayed records the exit status as the init dies: let it finish first */
  if (s.monitor)
    wait_gone((pid_t)s.monitor, (unsigned long long)s.monitor_start, 2000);
  int empty = j.n == 0;
  if (undo_all(&j) < 0)
    hand_over(NULL); /* every undo may be repeated: the CLI tries again and reports */
  if (empty && remove_state_dir(s.dir) < 0)
    hand_over(NULL);
  return 0;
}

/* `state ID`: the OCI state, as container.ts ociState() and JSON.stringify(…, null, 2) print it. */
int state_command(const char *root, const char *id)
{
  struct state s;
  if (cg_load() < 0)
    hand_over(NULL);
  load_state(root, id, &s);
  char file[4300];
  snprintf(file, sizeof file, "%s/state.json", s.dir);
  char *json = read_file(file, NULL);
  static const char *const fields[] = {"bundle", "rootfs", "created", "owner"};
  char version[64], values[4][4096];
  int simple = json && !json_field(json, "ociVersion", version, sizeof version) && strstr(json, "\"annotations\": {}");
  for (size_t k = 0; simple && k < 4; k++)
    simple = !json_field(json, fields[k], values[k], sizeof values[k]);
  free(json);
  if (!simple)
    hand_over(NULL); /* annotations, or something this reader does not take apart */
  const char *status = state_status(&s);
  struct buf b = {0};
  buf_str(&b, "{\n  \"ociVersion\": ");
  buf_json(&b, version);
  buf_str(&b, ",\n  \"id\": ");
  buf_json(&b, id);
  buf_fmt(&b, ",\n  \"pid\": %lld,\n  \"status\": \"%s\"", strcmp(status, "stopped") ? s.pid : 0, status);
  for (size_t k = 0; k < 4; k++) {
    buf_fmt(&b, ",\n  \"%s\": ", fields[k]);
    buf_json(&b, values[k]);
  }
  buf_str(&b, "\n}\n");
  int ok = write(STDOUT_FILENO, b.p, b.len) == (ssize_t)b.len;
  buf_free(&b);
  return ok ? 0 : 1;
}

static const struct {
  const char *name;
  int sig;
} signal_names[] = {{"HUP", SIGHUP},   {"INT", SIGINT},   {"QUIT", SIGQUIT}, {"KILL", SIGKILL}, {"USR1", SIGUSR1},
                    {"USR2", SIGUSR2}, {"TERM", SIGTERM}, {"CONT", SIGCONT}, {"STOP", SIGSTOP}, {"WINCH", SIGWINCH}};

/* signals.ts parseSignal, for the common names; 0 when the CLI should decide. */
static int signal_of(const char *text)
{
  if (strspn(text, "0123456789") == strlen(text)) {
    int n = atoi(text);
    return n > 0 && n <= 64 ? n : 0;
  }
  const char *name = strncasecmp(text, "SIG", 3) ? text : text + 3;
  for (size_t k = 0; k < sizeof signal_names / sizeof *signal_names; k++)
    if (!strcasecmp(name, signal_names[k].name))
      return signal_names[k].sig;
  return 0;
}

/* `kill ID [SIGNAL]` (not --all) as container.ts signal(). */
int kill_command(const char *root, char **args)
{
  if (!args[0] || args[0][0] == '-' || (args[1] && args[2]))
    hand_over(NULL);
  int sig = signal_of(args[1] ? args[1] : "TERM");
  struct state s;
  if (!sig || cg_load() < 0)
    hand_over(NULL);
  load_state(root, args[0], &s);
  const char *st = state_status(&s);
  if (strcmp(st, "created") && strcmp(st, "running") && strcmp(st, "paused"))
    hand_over(NULL); /* the CLI refuses, with its hint */
  if (kill((pid_t)s.pid, sig) < 0 && errno != ESRCH)
    hand_over(NULL);
  /* a frozen process keeps a SIGKILL pending until it is thawed */
  if (sig == SIGKILL && *s.cgroup && cg_frozen(s.cgroup))
    cg_thaw(s.cgroup);
  return 0;
}
