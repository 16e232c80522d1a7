/*
 * init.c: I, the container's init. It waits for GO, runs the init ops in
 * program order up to GO's step, acknowledges each one, and finally execs
 * the container's process (CTC_OP_EXEC); run_op is the one place an op's
 * code meets its function.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <unistd.h>

#include "ctc-init.h"
#include "program.h"

#define S(k) (o->a[k].p)
#define U(k) (o->a[k].u)
#define LEN(k) (o->a[k].len)

static int run_op(const struct op *o)
{
  switch (o->code) {
  case CTC_OP_UNSHARE: return op_unshare(U(0));
  case CTC_OP_PROPAGATION: return op_propagation(S(0), U(1));
  case CTC_OP_LINK_UP: return op_link_up(S(0));
  case CTC_OP_ROOTFS: return op_rootfs(S(0), U(1));
  case CTC_OP_MIRROR: return op_mirror(S(0), S(1));
  case CTC_OP_MOUNT: return op_mount(S(0), S(1), S(2), U(3), S(4), U(5));
  case CTC_OP_MKNOD: return op_mknod(S(0), U(1), U(2), U(3), U(4));
  case CTC_OP_SYMLINK: return op_symlink(S(0), S(1));
  case CTC_OP_WRITE_FILE: return op_write_file(S(0), U(1), S(2), LEN(2));
  case CTC_OP_MKDIR: return op_mkdir(S(0), U(1));
  case CTC_OP_PIVOT: return op_pivot();
  case CTC_OP_HOSTNAME: return op_hostname(S(0));
  case CTC_OP_USER: return op_user(U(0), U(1), S(2), LEN(2), U(3));
  case CTC_OP_CHDIR: return op_chdir(S(0));
  case CTC_OP_EXEC: return op_exec(o->step, S(0), LEN(0), S(1), LEN(1));
  case CTC_OP_CAPS_BOUNDING: return op_caps_bounding(U(0));
  case CTC_OP_CAPS: return op_caps(U(0), U(1), U(2), U(3));
  case CTC_OP_RLIMIT: return op_rlimit(U(0), U(1), U(2));
  case CTC_OP_NO_NEW_PRIVS: return op_no_new_privs();
  case CTC_OP_UMASK: return op_umask(U(0));
  case CTC_OP_MASK: return op_mask(S(0));
  case CTC_OP_READONLY: return op_readonly(S(0));
  case CTC_OP_DOMAINNAME: return op_domainname(S(0));
  case CTC_OP_FIFO_OPEN: return op_fifo_open(S(0));
  case CTC_OP_WAIT_START: return op_wait_start(o->step);
  case CTC_OP_CONSOLE_CONNECT: return op_console_connect(S(0));
  case CTC_OP_PTY: return op_pty(U(0), U(1));
  case CTC_OP_MOVE_ROOT: return op_move_root();
  case CTC_OP_PDEATHSIG: return op_pdeathsig(U(0));
  case CTC_OP_SYSCTL: return op_sysctl(S(0), S(1));
  case CTC_OP_USER_NAME: return op_user_name(S(0), U(1));
  case CTC_OP_LSM_EXEC: return op_lsm_exec(S(0), S(1));
  case CTC_OP_SECCOMP: return op_seccomp(U(0), S(1), LEN(1));
  case CTC_OP_NET_ADDR: return op_net_addr(S(0), U(1), S(2), LEN(2), U(3));
  case CTC_OP_NET_ROUTE: return op_net_route(U(0), &o->a[1], U(2), &o->a[3], &o->a[4], S(5));
  case CTC_OP_SETNS: return op_setns(S(0), U(1));
  case CTC_OP_ROOTFS_OVERLAY: return op_rootfs_overlay(S(0), S(1));
  }
  return -EINVAL; /* unreachable: read_program knows every op */
}

__attribute__((noreturn)) void init_main(const struct program *prog, int console_chan)
{
  /* Its own session, as runc's init and exec'd processes: criu dumps only a
   * tree whose session leader is inside its pid namespace, and a terminal
   * (CTC_OP_PTY) needs a session leader. I is never a group leader (M is). */
  if (setsid() < 0)
    _exit(1);
  /* Modes in the program are exact; the umask comes back just before execve. */
  hold_umask();
  lifecycle_begin(prog, console_chan);
  /* Opened here, after the clone: with CLONE_NEWNS this is our copy of "/". */
  if (root_open("/", NULL) < 0)
    _exit(1);
  open_lowers(prog->ops, prog->h.nops); /* still host root's uid: see open_lowers */

  uint32_t i = 0, fail = prog->h.fail_step;
  for (;;) {
    struct ctc_wire_cmd cmd;
    if (read_full(CTL_FD, &cmd, sizeof cmd) < 0)
      _exit(1); /* the executor is gone */
    if (cmd.type != CTC_CMD_GO) {
      dprintf(STDERR_FILENO, "ctc-init: bad command %u\n", cmd.type);
      _exit(2);
    }
    for (; i < prog->h.nops && (!cmd.until || prog->ops[i].step < cmd.until); i++) {
      const struct op *o = &prog->ops[i];
      if (IS_MONITOR_OP(o->code))
        continue; /* M's, done before the clone */
      int joined_by_m = o == prog->user_join || o == prog->pid_join;
      int r = fail && o->step == fail ? -EIO : joined_by_m ? 0 : run_op(o);
      if (r < 0) {
        report(CTC_MSG_ERR, o->step, -r);
        _exit(o->code == CTC_OP_EXEC ? 127 : 1);
      }
      report(CTC_MSG_ACK, o->step, 0);
    }
    if (!cmd.until)
      _exit(0); /* the program had no CTC_OP_EXEC: done */
    report(CTC_MSG_PAUSED, cmd.until, 0);
  }
}
