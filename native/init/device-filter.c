/*
 * device-filter.c: `ctc-init device-filter CGROUP_DIR`, a one-shot mode of
 * ctc-init for cgroup v2, which has no devices.allow/deny files: read a
 * BPF_PROG_TYPE_CGROUP_DEVICE program (raw 8-byte instructions, compiled
 * by the executor from the plan's device rules) from stdin, load it, and
 * attach it to the cgroup. The attachment lives as long as the cgroup.
 *
 * Exit status: 0, or the errno of the failing call (the verifier's log, if
 * any, goes to stderr).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "ctc-init.h"

#define MAX_INSNS 4096

static int bpf(int cmd, union bpf_attr *attr)
{
  return (int)syscall(SYS_bpf, cmd, attr, sizeof *attr);
}

static int fail(const char *what)
{
  int err = errno ? errno : EINVAL;
  dprintf(STDERR_FILENO, "ctc-init: device-filter: %s: %s\n", what, strerror(err));
  return err;
}

int device_filter_main(const char *cgroup_dir)
{
  static struct bpf_insn insns[MAX_INSNS];
  size_t len = 0;
  for (ssize_t n; len < sizeof insns && (n = read(STDIN_FILENO, (char *)insns + len, sizeof insns - len)) != 0;
       len += (size_t)n) {
    if (n < 0 && errno != EINTR)
      return fail("reading the program");
    if (n < 0)
      n = 0;
  }
  return device_filter_attach(cgroup_dir, insns, len);
}

int device_filter_attach(const char *cgroup_dir, const void *insns, size_t len)
{
  if (len == 0 || len % sizeof(struct bpf_insn) || len >= MAX_INSNS * sizeof(struct bpf_insn)) {
    errno = EINVAL;
    return fail("the program must be 1 to 4095 whole instructions");
  }

  autoclose int cgroup = open(cgroup_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (cgroup < 0)
    return fail(cgroup_dir);

  static char log[16384];
  union bpf_attr load;
  memset(&load, 0, sizeof load);
  load.prog_type = BPF_PROG_TYPE_CGROUP_DEVICE;
  load.insns = (uint64_t)(uintptr_t)insns;
  load.insn_cnt = (uint32_t)(len / sizeof(struct bpf_insn));
  load.license = (uint64_t)(uintptr_t) "Apache-2.0";
  load.log_buf = (uint64_t)(uintptr_t)log;
  load.log_size = sizeof log;
  load.log_level = 1;
  autoclose int prog = bpf(BPF_PROG_LOAD, &load);
  if (prog < 0) {
    int err = errno;
    if (log[0])
      dprintf(STDERR_FILENO, "%s\n", log);
    errno = err;
    return fail("loading the program");
  }

  /* ALLOW_MULTI: a program of the parent cgroup still applies too, as the
   * v1 devices controller's hierarchy does. */
  union bpf_attr attach;
  memset(&attach, 0, sizeof attach);
  attach.target_fd = (uint32_t)cgroup;
  attach.attach_bpf_fd = (uint32_t)prog;
  attach.attach_type = BPF_CGROUP_DEVICE;
  attach.attach_flags = BPF_F_ALLOW_MULTI;
  if (bpf(BPF_PROG_ATTACH, &attach) < 0)
    return fail("attaching the program");
  return 0;
}
