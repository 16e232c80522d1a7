/*
 * sealed-self.c: ctc-init runs from a sealed copy of itself (CVE-2019-5736).
 *
 * The attack: a process in the container opens /proc/<pid>/exe of a process
 * that runs the runtime's binary inside the container (the init of `exec`
 * before its execve, or a container binary replaced by "#!/proc/self/exe",
 * which makes the kernel run the runtime again as the interpreter). That
 * magic link reaches the host's file, which the container can then reopen
 * for writing (through /proc/self/fd/N) once the runtime has exited, and
 * the next `ctc run` on the host runs the container's code as root.
 *
 * The defence, as runc's: before it does anything else, ctc-init copies its
 * own binary into a memfd, seals it (no write, grow, shrink; no more seals)
 * and re-executes itself from it, with the same argv, environment and fds
 * (fd 3 is not close-on-exec yet). From then on /proc/<pid>/exe of every
 * ctc-init process, and of anything that execs /proc/self/exe from one, is
 * that memfd ("/memfd:ctc-init (deleted)"), never the host's file; and a
 * write to the memfd fails (EPERM; ETXTBSY while it runs).
 *
 * The re-exec is skipped when /proc/self/exe is already sealed: the second
 * start, and a ctc-init started by one (`#!/proc/self/exe`).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ctc-init.h"

/* Linux 6.3: without MFD_EXEC a memfd may be made non-executable by the
 * vm.memfd_noexec sysctl; older kernels refuse the flag (EINVAL). */
#ifndef MFD_EXEC
#define MFD_EXEC 0x0010U
#endif
/* Linux 6.3: no chmod of the copy either; older kernels refuse it (EINVAL). */
#ifndef F_SEAL_EXEC
#define F_SEAL_EXEC 0x0020
#endif

#define SEALS (F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE)

extern char **environ;

static int copy_all(int to, int from)
{
  struct stat st;
  if (fstat(from, &st) < 0)
    return -errno;
  off_t off = 0;
  while (off < st.st_size) {
    ssize_t n = sendfile(to, from, &off, (size_t)(st.st_size - off));
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0)
      return -errno;
    if (n == 0)
      return -EIO; /* the file shrank under us */
  }
  return 0;
}

int seal_self(char **argv)
{
  autoclose int exe = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
  if (exe < 0)
    return -errno;
  /* F_GET_SEALS is EINVAL on anything but a memfd: the host's file. */
  int seals = fcntl(exe, F_GET_SEALS);
  if (seals >= 0 && (seals & SEALS) == SEALS) {
    /* The kernel names a process exec'd from a memfd after the memfd
     * ("memfd:ctc-init"); keep the name people (and tests) look for. */
    prctl(PR_SET_NAME, "ctc-init", 0, 0, 0);
    return 0;
  }
  /* MFD_CLOEXEC: the copy's fd is closed by the exec below; the exec'd
   * image keeps the file alive, and nothing else holds it. */
  autoclose int copy = memfd_create("ctc-init", MFD_CLOEXEC | MFD_ALLOW_SEALING | MFD_EXEC);
  if (copy < 0 && errno == EINVAL)
    copy = memfd_create("ctc-init", MFD_CLOEXEC | MFD_ALLOW_SEALING);
  if (copy < 0)
    return -errno;
  int r = copy_all(copy, exe);
  if (r < 0)
    return r;
  if (fcntl(copy, F_ADD_SEALS, SEALS | F_SEAL_EXEC) < 0 && (errno != EINVAL || fcntl(copy, F_ADD_SEALS, SEALS) < 0))
    return -errno;
  fexecve(copy, argv, environ);
  return -errno;
}
