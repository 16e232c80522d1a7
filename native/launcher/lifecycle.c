/*
 * lifecycle.c: `start` and `delete` as executor/container.ts does them, for
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
  if (strcmp(state_status(&s), "created"))
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
  if (journal_read(s.dir, &j) < 0)
    hand_over(NULL);
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
