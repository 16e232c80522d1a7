/*
 * lifecycle.c: create/start and terminals, as I's ops: the fifo `ctc start`
 * writes to (CTC_OP_FIFO_OPEN, CTC_OP_WAIT_START), the console socket and
 * the pty (CTC_OP_CONSOLE_CONNECT, CTC_OP_PTY; pty.c does the work).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ctc-init.h"
#include "program.h"

static int fifo_fd = -1;      /* CTC_OP_FIFO_OPEN, for CTC_OP_WAIT_START */
static int console_fd = -1;   /* CTC_OP_CONSOLE_CONNECT, for CTC_OP_PTY */
static int console_chan = -1; /* I's end of M's console channel (CTC_OP_M_CONSOLE_PROXY) */

/* The program's CTC_OP_EXEC (at most one), whose command CTC_OP_WAIT_START looks up. */
static const struct op *exec_op;

/* Set when the program joins a running container (CTC_OP_M_JOIN, `ctc exec`). */
static int joined;

void lifecycle_begin(const struct program *prog, int chan)
{
  exec_op = prog->exec;
  joined = prog->join != NULL;
  console_chan = chan;
}

int op_fifo_open(const char *path)
{
  /* Node cannot make fifos, so the fifo is made here (owner-only: only root
   * may start the container); an existing one is used as it is. */
  if (mkfifo(path, 0600) < 0 && errno != EEXIST)
    return -errno;
  /* O_RDWR: a read-only open of a fifo blocks until there is a writer, and
   * being a writer ourselves means the read in CTC_OP_WAIT_START sees no EOF. */
  int fd = open(path, O_RDWR | O_CLOEXEC);
  if (fd < 0)
    return -errno;
  struct stat st;
  int err = fstat(fd, &st) < 0 ? errno : S_ISFIFO(st.st_mode) ? 0 : EINVAL;
  if (err) {
    close(fd);
    return -err;
  }
  if (fifo_fd >= 0)
    close(fifo_fd);
  fifo_fd = fd;
  return 0;
}

int op_wait_start(uint32_t step)
{
  if (fifo_fd < 0)
    return -EBADF;
  int missing = exec_op ? exec_findable(exec_op) : 0;
  if (missing < 0)
    return missing;
  report(CTC_MSG_WAITING, step, 0);
  /* `ctc create` returns now: from here on the executor may be gone, and
   * the container must still start (or fail) on its own. */
  executor_may_go();
  char byte;
  ssize_t n;
  do
    n = read(fifo_fd, &byte, 1);
  while (n < 0 && errno == EINTR);
  int r = n == 1 ? 0 : n == 0 ? -ECANCELED : -errno;
  close(fifo_fd);
  fifo_fd = -1;
  return r;
}

int op_console_connect(const char *path)
{
  int fd = pty_connect(path);
  if (fd < 0)
    return fd;
  if (console_fd >= 0)
    close(console_fd);
  console_fd = fd;
  return 0;
}

void console_drop(void)
{
  if (console_fd >= 0)
    close(console_fd);
}

int op_pty(uint64_t rows, uint64_t cols)
{
  /* An exec'd process shares the container's mounts: /dev/console stays the init's. */
  int r = pty_open(rows, cols, console_fd >= 0 ? console_fd : console_chan, !joined);
  if (r < 0)
    return r;
  /* The master has gone out; nothing more is sent on either. */
  if (console_fd >= 0)
    close(console_fd);
  if (console_chan >= 0)
    close(console_chan);
  console_fd = console_chan = -1;
  return 0;
}
