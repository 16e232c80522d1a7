/* PID 1 of the VM tests' guest (scripts/vm/run.mjs). Not part of ctc: built
 * static into the initramfs by the harness.
 *
 * Stage 1 (in the initramfs): load the modules listed in /modules.list (in
 * modules.dep order), make the root: the host's / over virtio-9p (tag
 * "hostroot", read-only) under an overlayfs whose upper is a tmpfs, then mount
 * what a booted system has, and switch_root into it: a move over / and a
 * chroot, so the root is a real mount and pivot_root works in containers.
 * Stage 2: run /mnt/vm-io/job.sh (the read-write share, tag "ctcvm"), reap
 * every orphan meanwhile, write its exit status to /mnt/vm-io/exit-status,
 * power off. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#define OUT "/mnt/vm-io"

static void die(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fprintf(stderr, "vm-init: ");
  vfprintf(stderr, fmt, ap);
  fprintf(stderr, ": %s\n", strerror(errno));
  va_end(ap);
  sync();
  reboot(RB_POWER_OFF); /* the harness sees no exit status: a failure */
  _exit(1);
}

static void mnt(const char *src, const char *dst, const char *type, unsigned long flags, const char *data) {
  mkdir(dst, 0755);
  if (mount(src, dst, type, flags, data) < 0) die("mount %s on %s (%s)", src, dst, type ? type : "move/bind");
}

static void console(void) {
  int fd = open("/dev/console", O_RDWR | O_NOCTTY);
  if (fd < 0) _exit(1);
  for (int i = 0; i < 3; i++) dup2(fd, i);
  if (fd > 2) close(fd);
  setvbuf(stdout, NULL, _IOLBF, 0);
}

/* One module per line, dependencies first (the harness ordered them by modules.dep). */
static void load_modules(void) {
  FILE *f = fopen("/modules.list", "r");
  char line[512];
  if (!f) die("open /modules.list");
  while (fgets(line, sizeof line, f)) {
    line[strcspn(line, "\n")] = 0;
    int fd = open(line, O_RDONLY | O_CLOEXEC);
    if (fd < 0) die("open %s", line);
    if (syscall(SYS_finit_module, fd, "", 0) < 0 && errno != EEXIST) die("load %s", line);
    close(fd);
  }
  fclose(f);
}

/* The host's / (read-only) under a tmpfs upper: the guest writes where it likes, the host sees none of it. */
static void make_root(void) {
  mnt("hostroot", "/lower", "9p", MS_RDONLY, "trans=virtio,version=9p2000.L,msize=512000,cache=loose");
  mnt("upper", "/upper", "tmpfs", 0, "mode=0755");
  mkdir("/upper/u", 0755);
  mkdir("/upper/w", 0755);
  mnt("overlay", "/newroot", "overlay", 0, "lowerdir=/lower,upperdir=/upper/u,workdir=/upper/w");
}

static void system_mounts(const char *modules) {
  mnt("proc", "/newroot/proc", "proc", 0, NULL);
  mnt("sysfs", "/newroot/sys", "sysfs", 0, NULL);
  mnt("cgroup2", "/newroot/sys/fs/cgroup", "cgroup2", 0, NULL); /* cgroup_no_v1=all: the only hierarchy */
  mnt("/dev", "/newroot/dev", NULL, MS_MOVE, NULL);
  mnt("devpts", "/newroot/dev/pts", "devpts", 0, "newinstance,ptmxmode=0666,mode=0620");
  mnt("shm", "/newroot/dev/shm", "tmpfs", 0, "mode=1777");
  mnt("run", "/newroot/run", "tmpfs", 0, "mode=0755"); /* not the host's /run (its ctc state) */
  mnt("tmp", "/newroot/tmp", "tmpfs", 0, "mode=1777");
  mnt("ctcvm", "/newroot" OUT, "9p", 0, "trans=virtio,version=9p2000.L,msize=512000");
  /* The kernel's module autoload runs /sbin/modprobe: busybox's, over the unpacked kernel's modules. */
  char dst[512];
  snprintf(dst, sizeof dst, "/newroot/lib/modules/%s", strrchr(modules, '/') + 1);
  mkdir("/newroot/lib/modules", 0755);
  char src[600];
  snprintf(src, sizeof src, "/newroot%s", modules);
  mnt(src, dst, NULL, MS_BIND, NULL);
  unlink("/newroot/sbin/modprobe");
  if (symlink("/bin/busybox", "/newroot/sbin/modprobe") < 0) die("symlink /sbin/modprobe");
}

static void switch_root(void) {
  if (chdir("/newroot") < 0) die("chdir /newroot");
  if (mount(".", "/", NULL, MS_MOVE, NULL) < 0) die("move /newroot to /");
  if (chroot(".") < 0 || chdir("/") < 0) die("chroot");
}

static void finish_dev(void) {
  static const char *const links[][2] = {
      {"/proc/self/fd", "/dev/fd"}, {"/proc/self/fd/0", "/dev/stdin"},
      {"/proc/self/fd/1", "/dev/stdout"}, {"/proc/self/fd/2", "/dev/stderr"},
  };
  for (size_t i = 0; i < sizeof links / sizeof links[0]; i++) symlink(links[i][0], links[i][1]);
}

static void loopback_up(void) {
  int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  struct ifreq ifr = {0};
  strcpy(ifr.ifr_name, "lo");
  if (s < 0 || ioctl(s, SIOCGIFFLAGS, &ifr) < 0) die("lo flags");
  ifr.ifr_flags |= IFF_UP;
  if (ioctl(s, SIOCSIFFLAGS, &ifr) < 0) die("lo up");
  close(s);
}

static pid_t start_job(void) {
  pid_t pid = fork();
  if (pid < 0) die("fork");
  if (pid == 0) {
    setsid();
    ioctl(0, TIOCSCTTY, 1);
    char *argv[] = {"/bin/sh", OUT "/job.sh", NULL};
    char *envp[] = {"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "HOME=/root",
                    "TERM=dumb", "LANG=C.UTF-8", NULL};
    execve(argv[0], argv, envp);
    die("exec /bin/sh");
  }
  return pid;
}

/* PID 1 reaps every orphan until the job itself ends; what it left is killed. */
static int wait_job(pid_t job) {
  int status = 0;
  for (;;) {
    pid_t p = waitpid(-1, &status, 0);
    if (p == job) break;
    if (p < 0 && errno != EINTR) die("wait");
  }
  kill(-1, SIGKILL);
  while (waitpid(-1, NULL, 0) > 0 || errno == EINTR) {
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

int main(void) {
  const char *modules = getenv("ctc_vm_modules"); /* from the kernel command line */
  if (!modules || !strrchr(modules, '/')) _exit(1);
  mkdir("/dev", 0755);
  mount("devtmpfs", "/dev", "devtmpfs", 0, NULL);
  console();
  load_modules();
  make_root();
  system_mounts(modules);
  switch_root();
  finish_dev();
  sethostname("ctc-vm", 6);
  loopback_up();
  int code = wait_job(start_job());
  FILE *f = fopen(OUT "/exit-status", "w");
  if (!f || fprintf(f, "%d\n", code) < 0 || fclose(f) != 0) die("write exit-status");
  sync();
  reboot(RB_POWER_OFF);
  return 0;
}
