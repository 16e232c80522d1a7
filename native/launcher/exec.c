/*
 * exec.c: `ctc exec [-d] [--pid-file F] ID [--] CMD...` as executor/container/exec.ts
 * does it: ctc-init joins every namespace the init is in (read from
 * /proc/<pid>/ns, created or joined by path) and clones, the clone goes
 * into the init's cgroup and applies the container's process steps
 * (from the run image of the plan in the state dir) with the caller's
 * command. Other options, a container that is not running, a plan without
 * an image, and every failure go to the TypeScript CLI (for a failure:
 * CTC_NATIVE_FAILED=<step>:<errno>, before anything ran in the container).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../wire.h"
#include "launcher.h"

_Noreturn static void failed(int sock, pid_t helper, uint32_t step, int err)
{
  if (sock >= 0)
    close(sock);
  while (helper > 0 && waitpid(helper, NULL, 0) < 0 && errno == EINTR)
    ;
  char v[64];
  snprintf(v, sizeof v, "CTC_NATIVE_FAILED=%u:%d", step, err);
  hand_over(v);
}

int exec_command(const char *root, char **args)
{
  const char *pid_file = NULL;
  int detach = 0, k = 0;
  for (; args[k] && args[k][0] == '-'; k++) {
    if (!strcmp(args[k], "-d") || !strcmp(args[k], "--detach"))
      detach = 1;
    else if (!strcmp(args[k], "--pid-file") && args[k + 1])
      pid_file = args[++k];
    else if (!strncmp(args[k], "--pid-file=", 11))
      pid_file = args[k] + 11;
    else
      hand_over(NULL);
  }
  const char *id = args[k];
  char **argv = id ? args + k + 1 : NULL;
  if (argv && argv[0] && !strcmp(argv[0], "--"))
    argv++;
  if (!id || !argv || !argv[0])
    hand_over(NULL);
  struct state s;
  if (cg_load() < 0)
    hand_over(NULL);
  load_state(root, id, &s);
  if (strcmp(state_status(&s), "running") || !*s.cgroup)
    hand_over(NULL);
  char plan[4300];
  snprintf(plan, sizeof plan, "%s/plan", s.dir);
  struct run_opts o = {.root = root, .id = id, .plan = plan};
  struct image *img = image_find(&o);
  if (!img)
    hand_over(NULL);
  char exit_file[4400];
  snprintf(exit_file, sizeof exit_file, "%s/exec-%d.exit", s.dir, (int)getpid());
  struct exec_opts e = {.pid = (pid_t)s.pid, .ns_flags = CTC_NS_ALL, .argv = argv, .exit_file = detach ? exit_file : NULL};
  struct buf program = {0};
  if (image_exec_program(img, &o, &e, &program) < 0)
    hand_over(NULL);
  int sock = -1;
  pid_t helper = 0;
  if (helper_spawn(&program, &sock, &helper) < 0)
    hand_over(NULL);
  struct ctc_wire_msg m;
  if (helper_msg(sock, &m) < 0 || m.type != CTC_MSG_PID)
    failed(sock, helper, m.step, m.type == CTC_MSG_ERR ? m.value : ECHILD);
  pid_t pid = (pid_t)m.pid;
  if (detach && (helper_msg(sock, &m) < 0 || m.type != CTC_MSG_DETACHED))
    failed(sock, helper, m.step, m.type == CTC_MSG_ERR ? m.value : ECHILD);
  /* the init's cgroups as the kernel has them; the init alive after the read: its pid was not
   * reused, so these cgroups and the namespaces M joined were the init's */
  int err = cg_join_peer((pid_t)s.pid, pid);
  if (!err && !is_alive((pid_t)s.pid, (unsigned long long)s.start))
    err = -ESRCH;
  if (err < 0 || helper_go(sock, 0) < 0)
    failed(sock, helper, 0, err < 0 ? -err : ECHILD);
  for (;;) {
    if (helper_msg(sock, &m) < 0 || m.type == CTC_MSG_EXIT)
      failed(sock, helper, 0, ECHILD);
    if (m.type == CTC_MSG_ERR)
      failed(sock, helper, m.step, m.value);
    if (m.type == CTC_MSG_EXEC)
      break;
  }
  if (pid_file) {
    char v[32];
    int n = snprintf(v, sizeof v, "%d", (int)pid);
    if ((err = write_atomic(pid_file, v, (size_t)n, 0644)) < 0) {
      kill(pid, SIGKILL); /* as runc: a process whose pid file failed is not left running */
      char failure[64];
      snprintf(failure, sizeof failure, "CTC_NATIVE_FAILED=0:pid-file:%d", -err);
      close(sock);
      while (waitpid(helper, NULL, 0) < 0 && errno == EINTR)
        ;
      hand_over(failure);
    }
  }
  if (detach)
    return 0; /* ctc-init stays as the process's monitor */
  int code = -1;
  while (helper_msg(sock, &m) == 0) {
    if (m.type == CTC_MSG_EXIT) {
      code = m.value;
      break;
    }
    if (m.type == CTC_MSG_ERR) /* the exec itself failed (ENOENT): reported as the CLI reports it */
      failed(sock, helper, m.step, m.value);
  }
  close(sock);
  while (waitpid(helper, NULL, 0) < 0 && errno == EINTR)
    ;
  if (code < 0)
    failed(-1, 0, 0, ECHILD);
  return code;
}
