/*
 * helper.c: starting ctc-init and talking to it (wire.h), as
 * executor/native-bridge/helper.ts does.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../wire.h"
#include "launcher.h"

int helper_spawn(const struct buf *program, int *sock, pid_t *pid)
{
  int sv[2];
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
    return -errno;
  char path[4200];
  snprintf(path, sizeof path, "%s/ctc-init", dist_dir());
  pid_t child = fork();
  if (child < 0) {
    int err = errno;
    close(sv[0]), close(sv[1]);
    return -err;
  }
  if (child == 0) {
    /* the container's stdio is ours (fds 0-2); fd 3 the control socket */
    if (dup2(sv[1], 3) < 0)
      _exit(127);
    for (size_t k = 0; k < sizeof forwarded_signals / sizeof *forwarded_signals; k++)
      signal(forwarded_signals[k], SIG_DFL);
    char *argv[] = {path, NULL};
    execv(path, argv);
    _exit(127);
  }
  close(sv[1]);
  *sock = sv[0];
  *pid = child;
  for (size_t off = 0; off < program->len;) {
    ssize_t n = write(*sock, program->p + off, program->len - off);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      return -EPIPE;
    off += (size_t)n;
  }
  return 0;
}

int helper_msg(int sock, struct ctc_wire_msg *m)
{
  for (size_t got = 0; got < sizeof *m;) {
    ssize_t n = read(sock, (char *)m + got, sizeof *m - got);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      return -1;
    got += (size_t)n;
  }
  return 0;
}

int helper_go(int sock, uint32_t until)
{
  uint32_t go[2] = {CTC_CMD_GO, until};
  return write(sock, go, sizeof go) == sizeof go ? 0 : -1;
}
