/*
 * program.c: fd 3, the control socket. The PROGRAM (wire.h) is read and
 * checked whole before anything runs: the one input ctc-init decodes from
 * bytes it did not make (native/fuzz fuzzes read_program). The messages
 * back go out here too.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "ctc-init.h"
#include "program.h"

_Static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "the wire format is little-endian");
_Static_assert(sizeof(struct ctc_wire_header) == 32, "header layout");
_Static_assert(sizeof(struct ctc_wire_op_header) == 12, "op header layout");
_Static_assert(sizeof(struct ctc_wire_msg) == 16, "message layout");
_Static_assert(sizeof(struct ctc_wire_cmd) == 8, "command layout");

/* ---- the program ------------------------------------------------------- */

/*
 * Argument kinds per op, one letter per argument: S = STR, U = U64,
 * B = BLOB, L = LIST. This table is the whole of the per-op validation.
 */
static const char *const op_args[] = {
    [CTC_OP_UNSHARE] = "U",
    [CTC_OP_PROPAGATION] = "SU",
    [CTC_OP_LINK_UP] = "S",
    [CTC_OP_ROOTFS] = "SU",
    [CTC_OP_MIRROR] = "SS",
    [CTC_OP_MOUNT] = "SSSUSU",
    [CTC_OP_MKNOD] = "SUUUU",
    [CTC_OP_SYMLINK] = "SS",
    [CTC_OP_WRITE_FILE] = "SUB",
    [CTC_OP_MKDIR] = "SU",
    [CTC_OP_PIVOT] = "",
    [CTC_OP_HOSTNAME] = "S",
    [CTC_OP_USER] = "UUBU",
    [CTC_OP_CHDIR] = "S",
    [CTC_OP_EXEC] = "LL",
    [CTC_OP_CAPS_BOUNDING] = "U",
    [CTC_OP_CAPS] = "UUUU",
    [CTC_OP_RLIMIT] = "UUU",
    [CTC_OP_NO_NEW_PRIVS] = "",
    [CTC_OP_UMASK] = "U",
    [CTC_OP_MASK] = "S",
    [CTC_OP_READONLY] = "S",
    [CTC_OP_DOMAINNAME] = "S",
    [CTC_OP_FIFO_OPEN] = "S",
    [CTC_OP_WAIT_START] = "",
    [CTC_OP_CONSOLE_CONNECT] = "S",
    [CTC_OP_PTY] = "UU",
    [CTC_OP_M_JOIN] = "UU",
    [CTC_OP_M_DETACH] = "SU",
    [CTC_OP_M_CONSOLE_PROXY] = "",
    [CTC_OP_MOVE_ROOT] = "",
    [CTC_OP_PDEATHSIG] = "U",
    [CTC_OP_M_CONSOLE_CONNECT] = "S",
    [CTC_OP_SYSCTL] = "SS",
    [CTC_OP_USER_NAME] = "SU",
    [CTC_OP_LSM_EXEC] = "SS",
    [CTC_OP_SECCOMP] = "UB",
    [CTC_OP_NET_ADDR] = "SUBU",
    [CTC_OP_NET_ROUTE] = "UBUBBS",
    [CTC_OP_SETNS] = "SU",
    [CTC_OP_ROOTFS_OVERLAY] = "SS",
    [CTC_OP_M_LOG] = "SU",
};

/* A malformed program is a bug in the executor, not a user error. */
__attribute__((noreturn, format(printf, 1, 2))) static void bad(const char *fmt, ...)
{
  char msg[256];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  dprintf(STDERR_FILENO, "ctc-init: bad program: %s\n", msg);
  exit(2);
}

/* 0 when all len bytes were read; -1 on EOF or error. */
int read_full(int fd, void *buf, size_t len)
{
  for (size_t got = 0; got < len;) {
    ssize_t n = read(fd, (char *)buf + got, len - got);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      return -1;
    got += n;
  }
  return 0;
}

/*
 * A LIST (wire.h): its count, then exactly that many NUL-terminated strings.
 * Counting the NULs is what tells a string holding a NUL (two strings to
 * execve) from two strings. On success a's bytes are the strings alone.
 */
static int list_ok(struct arg *a)
{
  uint32_t count, nuls = 0;
  if (a->len < 4)
    return 0;
  memcpy(&count, a->p, 4);
  const char *p = a->p + 4;
  uint32_t len = a->len - 4;
  if (len && p[len - 1])
    return 0;
  for (uint32_t k = 0; k < len; k++)
    nuls += !p[k];
  if (nuls != count)
    return 0;
  a->p = p, a->len = len, a->u = count;
  return 1;
}

static size_t parse_op(const char *body, size_t size, size_t off, uint32_t i, struct op *o)
{
  struct ctc_wire_op_header oh;
  if (size - off < sizeof oh)
    bad("op %u: truncated header", i);
  memcpy(&oh, body + off, sizeof oh);
  if (oh.len < sizeof oh || oh.len > size - off)
    bad("op %u: record length %u", i, oh.len);
  const char *sig = oh.op < sizeof op_args / sizeof *op_args ? op_args[oh.op] : NULL;
  if (!sig)
    bad("op %u (step %u): unknown op %u", i, oh.step, oh.op);
  if (oh.nargs != strlen(sig))
    bad("op %u (step %u): op %u takes %zu args, not %u", i, oh.step, oh.op, strlen(sig), oh.nargs);

  o->code = oh.op;
  o->step = oh.step;
  const char *p = body + off + sizeof oh, *end = body + off + oh.len;
  for (size_t k = 0; sig[k]; k++) {
    struct arg *a = &o->a[k];
    if (end - p < 4)
      bad("op %u (step %u): arg %zu: truncated", i, oh.step, k);
    memcpy(&a->len, p, 4);
    p += 4;
    if (a->len > (size_t)(end - p))
      bad("op %u (step %u): arg %zu: length %u past the record", i, oh.step, k, a->len);
    a->p = p;
    p += a->len;
    switch (sig[k]) {
    case 'S': /* exactly one NUL, at the end */
      if (a->len == 0 || memchr(a->p, 0, a->len) != a->p + a->len - 1)
        bad("op %u (step %u): arg %zu: not a STR", i, oh.step, k);
      break;
    case 'U':
      if (a->len != 8)
        bad("op %u (step %u): arg %zu: U64 of %u bytes", i, oh.step, k, a->len);
      memcpy(&a->u, a->p, 8);
      break;
    case 'L':
      if (!list_ok(a))
        bad("op %u (step %u): arg %zu: not a LIST of its count (a NUL inside a string?)", i, oh.step, k);
      break;
    }
  }
  if (p != end)
    bad("op %u (step %u): %td bytes after the last arg", i, oh.step, end - p);
  return off + oh.len;
}

void read_program(struct program *prog)
{
  struct ctc_wire_header *h = &prog->h;
  if (read_full(CTL_FD, h, sizeof *h) < 0)
    bad("short header");
  if (h->magic != CTC_WIRE_MAGIC)
    bad("magic %#x", h->magic);
  if (h->version != CTC_WIRE_VERSION)
    bad("version %u", h->version);
  if (h->reserved)
    bad("reserved field %#x", h->reserved);
  if (h->body_len > CTC_WIRE_MAX_PROGRAM - sizeof *h)
    bad("body_len %u over the limit", h->body_len);
  if (h->nops > h->body_len / sizeof(struct ctc_wire_op_header))
    bad("nops %u does not fit in body_len %u", h->nops, h->body_len);
  /* The low byte of clone(2)'s flags is the exit signal (CLONE_NEWTIME lives
   * there too and can only be had through CTC_OP_UNSHARE). */
  if (h->clone_flags & CSIGNAL)
    bad("clone_flags %#x has bits in CSIGNAL", h->clone_flags);

  prog->body = malloc(h->body_len + 1);
  prog->ops = calloc(h->nops + 1, sizeof *prog->ops);
  if (!prog->body || !prog->ops)
    bad("out of memory");
  if (read_full(CTL_FD, prog->body, h->body_len) < 0)
    bad("short body");

  size_t off = 0;
  const struct op *first_init = NULL;
  uint32_t second_step = 0; /* the step of the first init op after the first init step */
  for (uint32_t i = 0; i < h->nops; i++) {
    struct op *o = &prog->ops[i];
    off = parse_op(prog->body, h->body_len, off, i, o);
    /* GO(until) runs a prefix of the program, so steps must not go back. */
    if (i && o->step < prog->ops[i - 1].step)
      bad("op %u: step %u after step %u", i, o->step, prog->ops[i - 1].step);
    first_init = first_init || IS_MONITOR_OP(o->code) ? first_init : o;
    if (o->code == CTC_OP_SETNS && o->a[1].u == CLONE_NEWUSER) {
      if (prog->user_join || o->step != first_init->step)
        bad("op %u: a user namespace joined twice, or after the first init op", i);
      prog->user_join = o;
    }
    if (first_init && !IS_MONITOR_OP(o->code) && o->step != first_init->step && !second_step)
      second_step = o->step;
    if (o->code == CTC_OP_SETNS && o->a[1].u == CLONE_NEWPID) {
      /* the first init step, or the one right after the user join's */
      int after_user = prog->user_join && o->step == second_step;
      if (prog->pid_join || (o->step != first_init->step && !after_user))
        bad("op %u: a pid namespace joined twice, or not first (after a user namespace's)", i);
      prog->pid_join = o;
    }
    if (o->code == CTC_OP_EXEC)
      prog->exec = o;
    if (!IS_MONITOR_OP(o->code))
      continue;
    if (i && !IS_MONITOR_OP(prog->ops[i - 1].code))
      bad("op %u: monitor op %u after an init op", i, o->code);
    if (o->step != h->spawn_step)
      bad("op %u: monitor op %u at step %u, not the spawn step %u", i, o->code, o->step, h->spawn_step);
    const struct op **slot = o->code == CTC_OP_M_JOIN              ? &prog->join
                             : o->code == CTC_OP_M_DETACH          ? &prog->detach
                             : o->code == CTC_OP_M_CONSOLE_CONNECT ? &prog->console
                             : o->code == CTC_OP_M_LOG             ? &prog->log
                                                                   : &prog->proxy;
    if (*slot)
      bad("op %u: monitor op %u given twice", i, o->code);
    *slot = o;
  }
  if (off != h->body_len)
    bad("%zu bytes after the last op", h->body_len - off);
  if (prog->detach && prog->proxy)
    bad("CTC_OP_M_DETACH and CTC_OP_M_CONSOLE_PROXY together");
  if (prog->log && !prog->detach)
    bad("CTC_OP_M_LOG without CTC_OP_M_DETACH");
  if (prog->console && prog->proxy)
    bad("CTC_OP_M_CONSOLE_CONNECT and CTC_OP_M_CONSOLE_PROXY together");
}

/* ---- messages ------------------------------------------------------------ */

int send_msg(uint32_t type, uint32_t step, int32_t value, uint32_t pid)
{
  struct ctc_wire_msg m = {.type = type, .step = step, .value = value, .pid = pid};
  ssize_t n;
  do
    n = send(CTL_FD, &m, sizeof m, MSG_NOSIGNAL); /* a gone executor is EPIPE, not a signal */
  while (n < 0 && errno == EINTR);
  return n == sizeof m ? 0 : -1;
}

/* Set by I after MSG_WAITING: `ctc create` has returned, its executor may be gone. */
static int executor_may_be_gone;

void executor_may_go(void)
{
  executor_may_be_gone = 1;
}

/* For I: if the executor cannot hear us, nothing may go on unsupervised,
 * until the executor has handed the container over (CTC_OP_WAIT_START). */
void report(uint32_t type, uint32_t step, int32_t value)
{
  if (send_msg(type, step, value, 0) < 0 && !executor_may_be_gone)
    _exit(1);
}
