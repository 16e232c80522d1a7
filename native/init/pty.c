/*
 * pty.c: terminals for ctc-init (see wire.h: CTC_OP_CONSOLE_CONNECT,
 * CTC_OP_PTY, CTC_OP_M_CONSOLE_PROXY).
 *
 * I opens the pty inside the container (its own devpts), makes the peer its
 * controlling terminal and stdio, and hands the master out with SCM_RIGHTS:
 * either to a console socket (runc's --console-socket, for containerd) or
 * to M over a private socketpair, and M then proxies its own stdio to the
 * master while I runs (`ctc run -t` in the foreground).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "ctc-init.h"

/* ---- I: the console socket and the pty ------------------------------------ */

int pty_connect(const char *path)
{
  struct sockaddr_un sa = {.sun_family = AF_UNIX};
  if (strlen(path) >= sizeof sa.sun_path)
    return -ENAMETOOLONG;
  strcpy(sa.sun_path, path);
  int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (s < 0)
    return -errno;
  if (connect(s, (struct sockaddr *)&sa, sizeof sa) < 0) {
    int err = errno;
    close(s);
    return -err;
  }
  return s;
}

/* One byte of data (0) carrying fd: a stream socket cannot send a control
 * message without data. */
static int send_fd(int sock, int fd)
{
  char byte = 0;
  struct iovec iov = {.iov_base = &byte, .iov_len = 1};
  union {
    struct cmsghdr h;
    char buf[CMSG_SPACE(sizeof(int))];
  } u;
  memset(&u, 0, sizeof u);
  struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf, .msg_controllen = sizeof u.buf};
  struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
  c->cmsg_level = SOL_SOCKET;
  c->cmsg_type = SCM_RIGHTS;
  c->cmsg_len = CMSG_LEN(sizeof(int));
  memcpy(CMSG_DATA(c), &fd, sizeof fd);
  ssize_t n;
  do
    n = sendmsg(sock, &msg, MSG_NOSIGNAL);
  while (n < 0 && errno == EINTR);
  return n == 1 ? 0 : n < 0 ? -errno : -EIO;
}

/* The majors of pty peers (UNIX98_PTY_SLAVE_MAJOR and the 7 after it). */
#define PTS_MAJOR_FIRST 136
#define PTS_MAJOR_LAST 143
#ifndef DEVPTS_SUPER_MAGIC
#define DEVPTS_SUPER_MAGIC 0x1cd1 /* linux/magic.h */
#endif

/*
 * /dev/console, as runc gives a container with a terminal: the pty's peer
 * bound onto it, so what the process (or a program that insists on
 * /dev/console) writes there reaches the console socket.
 *
 * Through fds only (CVE-2025-52565: runc's bind could be redirected to
 * another path, such as a /proc file, by a symlink or a racing rename): the
 * source is the peer fd itself, checked to be a pty peer on a devpts (a
 * character device of major 136..143, the very pty the master has: its
 * TIOCGPTN number); the target is the root's /dev/console opened without
 * following a symlink, which must be a regular file (made here if missing:
 * empty, 0666, like runc) or a character device, else ELOOP (a symlink) or
 * EINVAL. A root where it cannot be made (no /dev: ENOENT; read-only:
 * EROFS) gets no console; that is not an error.
 */
static int bind_console(int master, int peer)
{
  unsigned int n;
  struct stat st;
  struct statfs sfs;
  if (ioctl(master, TIOCGPTN, &n) < 0 || fstat(peer, &st) < 0 || fstatfs(peer, &sfs) < 0)
    return -errno;
  unsigned int maj = major(st.st_rdev), min = minor(st.st_rdev);
  if (!S_ISCHR(st.st_mode) || sfs.f_type != DEVPTS_SUPER_MAGIC || maj < PTS_MAJOR_FIRST || maj > PTS_MAJOR_LAST ||
      (maj - PTS_MAJOR_FIRST) * 256 + min != n)
    return -ENOTTY;
  int made = in_root("/dev/console", O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, 0666);
  if (made == -ENOENT || made == -EROFS)
    return 0;
  if (made < 0 && made != -EEXIST)
    return made;
  if (made >= 0)
    close(made);
  autoclose int target = in_root("/dev/console", O_PATH | O_NOFOLLOW, 0);
  if (target < 0)
    return target;
  if (fstat(target, &st) < 0)
    return -errno;
  if (!S_ISREG(st.st_mode) && !S_ISCHR(st.st_mode))
    return S_ISLNK(st.st_mode) ? -ELOOP : -EINVAL;
  char src[32], dst[32];
  snprintf(src, sizeof src, "/proc/self/fd/%d", peer);
  snprintf(dst, sizeof dst, "/proc/self/fd/%d", target);
  return mount(src, dst, NULL, MS_BIND, NULL) < 0 ? -errno : 0;
}

int pty_open(uint64_t rows, uint64_t cols, int sock, int console)
{
  if (sock < 0)
    return -ENOTCONN;
  if (rows > USHRT_MAX || cols > USHRT_MAX)
    return -EINVAL;
  /* The container's ptmx: the pty then lives in its devpts instance, so it
   * is /dev/pts/N inside and counts against the container's limits. */
  autoclose int master = in_root("/dev/ptmx", O_RDWR | O_NOCTTY, 0);
  if (master < 0)
    return master;
  int unlock = 0;
  if (ioctl(master, TIOCSPTLCK, &unlock) < 0)
    return -errno;
  /* The peer through the master, not by opening /dev/pts/N: that name is
   * in a filesystem the container controls and could be swapped for
   * something else (the reason TIOCGPTPEER exists). */
  autoclose int peer = ioctl(master, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (peer < 0)
    return -errno;
  if (rows && cols) {
    struct winsize ws = {.ws_row = rows, .ws_col = cols};
    if (ioctl(master, TIOCSWINSZ, &ws) < 0)
      return -errno;
  }
  if (console) {
    int r = bind_console(master, peer);
    if (r < 0)
      return r;
  }
  /* I is a session leader without a terminal (init_main's setsid). */
  if (ioctl(peer, TIOCSCTTY, 0) < 0)
    return -errno;
  for (int fd = 0; fd < 3; fd++)
    if (dup2(peer, fd) < 0)
      return -errno;
  if (peer < 3)
    peer = -1; /* it is stdio now; do not close it */
  return send_fd(sock, master);
}

/* ---- M: the foreground proxy ---------------------------------------------- */

struct proxy {
  pid_t pid;
  int status; /* I's wait status once reaped, else -1 */
  int chan;   /* until the master arrives, then -1 */
  int sigfd;
  int master; /* -1 until it arrives, and after EIO (no peer left) */
  int stdin_open;
  int stdout_ok; /* after EPIPE the output is read and dropped */
  char in[4096]; /* stdin bytes not yet taken by the master */
  size_t in_len, in_off;
  int raw;
  struct termios saved;
};

static int recv_fd(int sock)
{
  char byte;
  struct iovec iov = {.iov_base = &byte, .iov_len = 1};
  union {
    struct cmsghdr h;
    char buf[CMSG_SPACE(sizeof(int))];
  } u;
  struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf, .msg_controllen = sizeof u.buf};
  ssize_t n;
  do
    n = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC);
  while (n < 0 && errno == EINTR);
  if (n <= 0)
    return n < 0 ? -errno : -ECONNRESET;
  struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
  if (!c || c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS || c->cmsg_len != CMSG_LEN(sizeof(int)))
    return -EBADMSG;
  int fd;
  memcpy(&fd, CMSG_DATA(c), sizeof fd);
  return fd;
}

static void copy_winsize(const struct proxy *px)
{
  struct winsize ws;
  if (px->master >= 0 && ioctl(STDIN_FILENO, TIOCGWINSZ, &ws) == 0)
    ioctl(px->master, TIOCSWINSZ, &ws); /* the kernel sends SIGWINCH inside */
}

static void take_master(struct proxy *px)
{
  int fd = recv_fd(px->chan);
  /* Either way the channel is done: I sends one master, or closes its end
   * (at exec, or when it exits) without one. */
  close(px->chan);
  px->chan = -1;
  if (fd < 0)
    return;
  px->master = fd;
  /* Non-blocking, so a container that does not read its input cannot stop
   * us copying its output (which could in turn block it). */
  fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
  if (isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &px->saved) == 0) {
    struct termios raw = px->saved;
    cfmakeraw(&raw); /* the container's own pty does the line discipline */
    px->raw = tcsetattr(STDIN_FILENO, TCSANOW, &raw) == 0;
    copy_winsize(px);
  }
}

static void write_out(struct proxy *px, const char *p, size_t len)
{
  while (px->stdout_ok && len) {
    ssize_t n = write(STDOUT_FILENO, p, len);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0) {
      px->stdout_ok = 0; /* SIGPIPE is ignored: EPIPE */
      return;
    }
    p += n;
    len -= n;
  }
}

/* 1 if something was read, 0 if nothing is there now, -1 once no peer is left (EIO). */
static int master_to_stdout(struct proxy *px)
{
  char buf[8192];
  ssize_t n = read(px->master, buf, sizeof buf);
  if (n > 0) {
    write_out(px, buf, n);
    return 1;
  }
  if (n < 0 && (errno == EAGAIN || errno == EINTR))
    return 0;
  close(px->master);
  px->master = -1;
  return -1;
}

static void stdin_to_master(struct proxy *px, int readable)
{
  if (readable && px->in_off == px->in_len) {
    ssize_t n = read(STDIN_FILENO, px->in, sizeof px->in);
    if (n < 0 && (errno == EINTR || errno == EAGAIN))
      return;
    if (n <= 0) {
      px->stdin_open = 0; /* the pty stays open: no EOF for the container */
      return;
    }
    px->in_off = 0;
    px->in_len = n;
  }
  if (px->in_off < px->in_len) {
    ssize_t n = write(px->master, px->in + px->in_off, px->in_len - px->in_off);
    if (n > 0)
      px->in_off += n;
    else if (n < 0 && errno != EAGAIN && errno != EINTR)
      px->in_off = px->in_len; /* the master is going away: drop the input */
  }
}

static void on_signals(struct proxy *px)
{
  struct signalfd_siginfo si;
  while (read(px->sigfd, &si, sizeof si) == sizeof si)
    if (si.ssi_signo == SIGWINCH)
      copy_winsize(px);
  /* SIGCHLD coalesces, and the one for I is all we wait for. */
  int status;
  if (px->status < 0 && waitpid(px->pid, &status, WNOHANG) == px->pid)
    px->status = status;
}

static long now_ms(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1000L + ts.tv_nsec / 1000000;
}

/* What I (or a process it left behind) wrote last is still in the master. */
static void drain(struct proxy *px)
{
  long deadline = now_ms() + 2000;
  while (px->master >= 0 && now_ms() < deadline) {
    struct pollfd p = {.fd = px->master, .events = POLLIN};
    int n = poll(&p, 1, 100);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0 || master_to_stdout(px) < 0)
      break;
  }
}

int pty_proxy(int chan, int sigfd, pid_t pid)
{
  struct proxy px = {.pid = pid, .status = -1, .chan = chan, .sigfd = sigfd, .master = -1, .stdin_open = 1, .stdout_ok = 1};
  fcntl(sigfd, F_SETFL, fcntl(sigfd, F_GETFL) | O_NONBLOCK);
  while (px.status < 0) {
    enum { CHAN, SIG, IN, MASTER, N };
    struct pollfd p[N] = {
        [CHAN] = {.fd = px.chan, .events = POLLIN},
        [SIG] = {.fd = sigfd, .events = POLLIN},
        /* read stdin only when the last chunk has gone to the master */
        [IN] = {.fd = px.master >= 0 && px.stdin_open && px.in_off == px.in_len ? STDIN_FILENO : -1, .events = POLLIN},
        [MASTER] = {.fd = px.master, .events = POLLIN | (px.in_off < px.in_len ? POLLOUT : 0)},
    };
    if (poll(p, N, -1) < 0) {
      if (errno == EINTR)
        continue;
      break; /* cannot happen with valid fds; fall back to a plain wait */
    }
    if (p[CHAN].revents)
      take_master(&px);
    if (p[MASTER].revents & (POLLIN | POLLHUP | POLLERR))
      master_to_stdout(&px);
    if (px.master >= 0 && (p[IN].revents || (p[MASTER].revents & POLLOUT)))
      stdin_to_master(&px, p[IN].revents != 0);
    if (p[SIG].revents)
      on_signals(&px);
  }
  if (px.status < 0) {
    int status;
    pid_t r;
    do
      r = waitpid(pid, &status, 0);
    while (r < 0 && errno == EINTR);
    px.status = r == pid ? status : -1;
  }
  drain(&px);
  if (px.raw)
    tcsetattr(STDIN_FILENO, TCSANOW, &px.saved);
  if (px.master >= 0)
    close(px.master);
  if (px.chan >= 0)
    close(px.chan);
  return px.status;
}
