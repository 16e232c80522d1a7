/*
 * wire.h: the one format between the executor (Node) and ctc-init.
 *
 * The executor spawns ctc-init with the container's stdio on fds 0-2 and one
 * end of a unix stream socketpair on fd 3 (the control socket). Everything is
 * little-endian; there is no JSON and no text parsing on this side.
 *
 * Sequence (a ladder; "E" is the executor, "M" is ctc-init, the monitor, and
 * "I" is the container's init, cloned by M):
 *
 *     E                          M                              I
 *     |-- PROGRAM -------------->|  header + init ops
 *     |                          |-- clone(flags) ------------->|  (new namespaces)
 *     |<------------- MSG_PID ---|  I's host pid                |  blocks reading fd 3
 *     |  host steps that need the pid (cgroup.join, ...)        |
 *     |-- GO(until) ------------------------------------------->|  runs ops with
 *     |<------------------------------------------ MSG_ACK -----|  step < until,
 *     |<------------------------------------------ MSG_PAUSED --|  then waits again
 *     |  more host steps, then GO(0): run to the end            |
 *     |<------------------------------------------ MSG_EXEC ----|  just before execve
 *     |                          |  waitpid(I)                  |  (fd 3 is CLOEXEC)
 *     |<------------ MSG_EXIT ---|  exit code (128+sig if killed), then M exits
 *
 * On any failure I sends MSG_ERR(step, errno) and exits 1 (127 when the
 * failing step is the exec; MSG_ERR may then follow MSG_EXEC); M then reports
 * MSG_EXIT as usual. A failed clone is MSG_ERR for the header's spawn_step,
 * then MSG_EXIT(1). If fd 3 reaches EOF while I waits for GO, I exits at once
 * (the executor is gone, so nothing may run unsupervised). I writes to fd 3
 * only after GO and M writes only before GO (MSG_PID) and after I is gone
 * (MSG_EXIT), so the two never interleave on the socket, provided E sends the
 * first GO only after it has read MSG_PID.
 *
 * Every GO with until != 0 is answered by MSG_PAUSED, even when no ops are
 * left; a program without CTC_OP_EXEC ends with I exiting 0 after GO(0).
 * A malformed PROGRAM is a bug in the executor: ctc-init writes
 * "ctc-init: bad program: ..." to stderr, exits 2 and sends nothing (it may
 * leave bytes unread, so E can see ECONNRESET rather than EOF).
 *
 * Exactly the ops in the program are performed, in order; ctc-init decides
 * nothing on its own (the only run-time look-ups are noted per op below).
 *
 * SIGPIPE is ignored in M and I from the start (restored by CTC_OP_EXEC), so
 * a gone executor is an EPIPE, never a signal.
 *
 * Before it reads anything, ctc-init re-executes itself from a sealed memfd
 * copy of its binary (CVE-2019-5736: no process in a container can reach
 * the host's file through /proc/<pid>/exe; the device-filter and net modes
 * skip this, they never run in a container), then closes every fd above 3
 * (CVE-2024-21626: nothing the caller leaked reaches the container, and a
 * detached monitor holds none of the caller's fds). Either failing is like a malformed program:
 * "ctc-init: ..." on stderr, exit 2, nothing sent. /proc/<pid>/exe of M and
 * I reads "/memfd:ctc-init (deleted)"; their name (comm) stays "ctc-init".
 *
 * Variants of the ladder (monitor ops, below):
 *
 *   create/start (CTC_OP_M_DETACH, CTC_OP_FIFO_OPEN, CTC_OP_WAIT_START):
 *     MSG_PID, MSG_DETACHED(d) from M; GO; ACKs from I; MSG_WAITING from I,
 *     then E may exit. After `ctc start`: ACK(wait step), MSG_EXEC, written
 *     only if E is still there (I no longer exits when a write fails).
 *     d = 1: M has exited 0 after MSG_DETACHED; nothing more comes from M, so
 *            E sees EOF once I has exec'd or exited.
 *     d = 0: M stays; when I ends it writes the exit file, then tries
 *            MSG_EXIT (ignored if E is gone) and exits with I's code.
 *   exec (CTC_OP_M_JOIN): as the main ladder; I is born in the joined
 *     namespaces.
 *   terminal in the foreground (CTC_OP_M_CONSOLE_PROXY + CTC_OP_PTY): as the
 *     main ladder; M copies between its stdio and the pty while I runs.
 *
 * Monitor ops are not ACKed. When one fails, or the clone does, M sends
 * MSG_ERR(spawn_step, errno) and MSG_EXIT(1) and exits 1: no MSG_PID, no
 * MSG_DETACHED, no exit file, no I.
 */
#ifndef CTC_WIRE_H
#define CTC_WIRE_H

#include <stdint.h>

#define CTC_WIRE_MAGIC 0x50435443u /* "CTCP" */
#define CTC_WIRE_VERSION 2u        /* 2: LIST carries its count */
#define CTC_WIRE_MAX_PROGRAM (16u << 20)
/* every CLONE_NEW* kind CTC_OP_M_JOIN knows: user, mnt, uts, ipc, pid, net, cgroup, time */
#define CTC_NS_ALL 0x7e020080u

/* PROGRAM: a header, then `nops` op records, `body_len` bytes in all (the
 * header not counted; header + body <= CTC_WIRE_MAX_PROGRAM). The records
 * are in plan order: their steps never decrease. */
struct ctc_wire_header {
  uint32_t magic;
  uint32_t version;
  uint32_t clone_flags; /* CLONE_NEW* bits for the clone of I; none in CSIGNAL
                         * (0xff), so CLONE_NEWTIME needs CTC_OP_UNSHARE */
  uint32_t spawn_step;  /* plan step number of the clone (ns.clone) */
  uint32_t fail_step;   /* CTC_FAIL_STEP: this step fails with EIO before acting; 0 = none */
  uint32_t nops;
  uint32_t body_len;
  uint32_t reserved; /* 0 */
};

/*
 * Op record: u32 len (whole record, this header included), u16 op, u16 nargs,
 * u32 step (the plan step number it belongs to; several ops may share one),
 * then nargs arguments, each a u32 length and that many bytes:
 *   STR  a string: the bytes end in one NUL and contain no other NUL
 *   U64  exactly 8 bytes, a little-endian unsigned integer
 *   BLOB any bytes
 *   LIST a u32 count, then that many NUL-terminated strings and nothing
 *        after (the empty list is the count 0 alone). The count is checked
 *        against the NULs: a string holding a NUL would be two strings
 *        (`A\0B` two arguments, `FOO=x\0EVIL=1` two variables), and is a
 *        bad program instead.
 * Paths marked "in root" are resolved beneath the current root directory
 * (openat2 with RESOLVE_IN_ROOT|RESOLVE_NO_MAGICLINKS), never joined as
 * strings: a symlink in the image, absolute or climbing with "..", resolves
 * beneath the root (CVE-2021-30465). Where an op creates missing parents
 * (or a mount target), each is made with mkdirat in the directory its
 * prefix resolved to; a dangling symlink on the way is followed beneath the
 * root and what it names is created there (`data -> /srv/data` makes
 * <root>/srv/data), at most 40 links deep (ELOOP). The root starts as
 * "/" and is changed by CTC_OP_ROOTFS; after CTC_OP_PIVOT it is "/" again.
 * Mounts reach their target as /proc/self/fd/N: before CTC_OP_PIVOT that is
 * the host's /proc, after it the container's, which must be mounted by then.
 */
struct ctc_wire_op_header {
  uint32_t len;
  uint16_t op;
  uint16_t nargs;
  uint32_t step;
};

enum ctc_wire_op {
  /* U64 flags: unshare(flags). */
  CTC_OP_UNSHARE = 1,
  /* STR path (host path), U64 flags: mount(NULL, path, NULL, flags, NULL);
   * used for propagation changes such as MS_REC|MS_PRIVATE on "/". */
  CTC_OP_PROPAGATION = 2,
  /* STR ifname: bring the interface up (SIOCSIFFLAGS |= IFF_UP). */
  CTC_OP_LINK_UP = 3,
  /* STR dir (host path), U64 kind (0 = bind dir onto itself, 1 = fresh tmpfs,
   * mode 0755): mount it, then make it the root for later "in root" paths. */
  CTC_OP_ROOTFS = 4,
  /* STR host path, STR dst (in root): copy the host's view of a path into the
   * root. Run-time look-up: lstat(host path). A symlink becomes the same
   * symlink; a directory or file is bind-mounted (MS_BIND|MS_REC) and then
   * remounted read-only, keeping the source's nosuid/nodev/noexec (statvfs);
   * a missing path is
   * skipped (ACK as usual). dst is created as for CTC_OP_MOUNT. */
  CTC_OP_MIRROR = 5,
  /* STR source, STR dst (in root), STR fstype, U64 flags, STR data, U64 prop:
   * create dst if missing (directories as 0755; for a bind whose source is
   * not a directory, an empty 0644 file), then mount(source, dst, fstype,
   * flags & ~MS_RDONLY-if-bind, data). For MS_BIND with any of
   * MS_RDONLY|MS_NOSUID|MS_NODEV|MS_NOEXEC|atime flags, a second call
   * MS_REMOUNT|MS_BIND|those flags on the new mount. With MS_REMOUNT in flags,
   * nothing is created and the mount on dst is changed. prop (MS_PRIVATE,
   * MS_SLAVE, MS_SHARED, MS_UNBINDABLE, optionally |MS_REC; 0 = none) is
   * applied last with its own mount call. An empty source, fstype or data is
   * passed as NULL. */
  CTC_OP_MOUNT = 6,
  /* STR path (in root), U64 mode (S_IFCHR/S_IFBLK/S_IFIFO | perms), U64 dev
   * (makedev(major, minor)), U64 uid, U64 gid: mknod, then fchown and chmod
   * (the umask must not change the mode), neither following a symlink. An
   * existing node is replaced. */
  CTC_OP_MKNOD = 7,
  /* STR target, STR path (in root): symlink(target, path); parents created. */
  CTC_OP_SYMLINK = 8,
  /* STR path (in root), U64 mode, BLOB data: create or truncate, write all,
   * chmod to mode; parents created as 0755. */
  CTC_OP_WRITE_FILE = 9,
  /* STR path (in root), U64 mode: mkdir -p, then chmod the last one to mode. */
  CTC_OP_MKDIR = 10,
  /* no args: pivot_root into the root, detach the old root, chdir("/");
   * then the cwd is checked as for CTC_OP_CHDIR (EXDEV). */
  CTC_OP_PIVOT = 11,
  /* STR name: sethostname. */
  CTC_OP_HOSTNAME = 12,
  /* U64 uid, U64 gid, BLOB groups (u32 each), U64 keepcaps: setgroups,
   * setgid, setuid. With keepcaps = 1 the permitted set survives the switch
   * to a non-zero uid: prctl(PR_SET_KEEPCAPS, 1) before setgroups and
   * prctl(PR_SET_KEEPCAPS, 0) after setuid (runc's order: CAPS_BOUNDING,
   * USER with keepcaps, then CAPS). The effective set is still cleared by
   * the kernel; CTC_OP_CAPS sets it again. An empty groups list that
   * setgroups refuses with EPERM while /proc/self/setgroups reads "deny"
   * (a user namespace mapped without newgidmap) is skipped. In a new user
   * namespace, uid 0 and gid 0 make I root inside it (the executor's
   * user.root), keeping its capabilities there. */
  CTC_OP_USER = 13,
  /* STR dir: chdir (inside the container's root). chdir follows magic
   * links, so /proc/self/fd/N of an fd open in I (the executor's, or one a
   * bug let through) could leave the process outside the root
   * (CVE-2024-21626): after the chdir, a cwd that getcwd(2) reports as
   * "(unreachable)..." (not below the root) fails with EXDEV. */
  CTC_OP_CHDIR = 14,
  /* LIST argv, LIST envp: send MSG_EXEC, then execve. A bare argv[0] is
   * searched in envp's PATH (not ctc-init's own). Signal dispositions are
   * reset to default and the signal mask cleared first. */
  CTC_OP_EXEC = 15,

  /* ---- process security (issue 3 needs them for OCI configs) ---------- */

  /* U64 keep: drop from the bounding set every capability (0..cap_last_cap)
   * whose bit is not set in keep (prctl PR_CAPBSET_DROP). Needs root, so it
   * comes before CTC_OP_USER. cap_last_cap is found by PR_CAPBSET_READ
   * (EINVAL past the last one), so /proc is not needed; capabilities not in
   * the set already are left alone. */
  CTC_OP_CAPS_BOUNDING = 16,
  /* U64 effective, U64 permitted, U64 inheritable, U64 ambient: capset() the
   * three sets (bits above 63 are not representable and never used), then
   * clear the ambient set and raise each ambient bit (PR_CAP_AMBIENT_RAISE).
   * Comes after CTC_OP_USER (with keepcaps=1), as the target uid. capset
   * uses _LINUX_CAPABILITY_VERSION_3; the kernel ignores bits past
   * cap_last_cap there, but raising such an ambient bit is EINVAL, and one
   * that is not both permitted and inheritable is EPERM (the kernel's errno
   * is reported as is). */
  CTC_OP_CAPS = 17,
  /* U64 resource (RLIMIT_*), U64 soft, U64 hard: setrlimit. UINT64_MAX is
   * RLIM_INFINITY. Raising a hard limit needs CAP_SYS_RESOURCE (EPERM). */
  CTC_OP_RLIMIT = 18,
  /* no args: prctl(PR_SET_NO_NEW_PRIVS, 1). */
  CTC_OP_NO_NEW_PRIVS = 19,
  /* U64 mask: the umask the container's process gets. Init ops keep
   * running with umask 0 (their modes are exact); CTC_OP_EXEC sets this
   * mask (& 0777) just before execve. Without this op the process gets
   * the umask ctc-init was started with. */
  CTC_OP_UMASK = 20,
  /* STR path (in root): hide a path. A directory gets a read-only, empty
   * tmpfs (mount("tmpfs", path, "tmpfs", MS_RDONLY, "size=0,mode=555");
   * for tmpfs size=0 means "no limit", which is moot on a read-only mount);
   * anything else gets /dev/null bind-mounted over it (the root's
   * /dev/null, resolved in root; a plain MS_BIND, like runc). That
   * /dev/null must be the character device 1:3, else ENODEV: a symlink or
   * file there would be bound over the masked path instead (runc's
   * CVE-2025-31133). The path is followed if it is a symlink. A missing
   * path (ENOENT) is skipped with an ACK; any other error is reported. */
  CTC_OP_MASK = 21,
  /* STR path (in root): bind the path onto itself (MS_BIND|MS_REC) and
   * remount it read-only, keeping its nosuid/nodev/noexec (statvfs before
   * the bind; atime flags are not kept, as in runc). Only the top mount is
   * made read-only, not mounts below it. A missing path (ENOENT) is skipped
   * with an ACK. */
  CTC_OP_READONLY = 22,
  /* STR name: setdomainname. */
  CTC_OP_DOMAINNAME = 23,

  /* ---- lifecycle: create/start, terminals ----------------------------- */

  /* STR fifo (host path): make the exec fifo (mkfifo 0600; an existing one
   * is used), open it O_RDWR|O_CLOEXEC (never blocks) and keep the fd. Must come before CTC_OP_PIVOT (the path is a host path).
   * Because I holds a writer too, `ctc start`'s O_WRONLY|O_NONBLOCK open
   * succeeds whenever I is waiting, and fails with ENXIO once I is gone.
   * A path that is not a fifo is EINVAL. */
  CTC_OP_FIFO_OPEN = 24,
  /* no args: look up CTC_OP_EXEC's command as it will be run (its env's
   * PATH when the name has no slash): missing is ENOENT, a directory or not
   * executable for this uid EACCES (the step fails: `ctc create` fails, as
   * runc's does); a look-up the kernel refuses otherwise (a seccomp errno) is
   * left to the exec. Then send MSG_WAITING(step), block in read() on the kept fifo fd
   * until `ctc start` writes a byte into it (or fail with EPIPE-like errors:
   * a read of 0 bytes is ECANCELED). Close the fd. Comes right before
   * CTC_OP_EXEC. After MSG_WAITING the executor may be gone: from then on,
   * I and M ignore failed writes on fd 3 (SIGPIPE is ignored from the start).
   * If sending MSG_WAITING itself fails, I exits 1 (E died during setup).
   * Without an earlier CTC_OP_FIFO_OPEN: EBADF. Until CTC_OP_EXEC, I still
   * ignores SIGINT/SIGTERM/SIGHUP/SIGQUIT (inherited from M), and as pid 1
   * of a pid namespace it only dies of SIGKILL anyway: kill a created
   * container with SIGKILL. */
  CTC_OP_WAIT_START = 25,
  /* STR socket path (host path): connect an AF_UNIX SOCK_STREAM socket to the
   * console socket (runc's --console-socket) and keep the fd (CLOEXEC). Must
   * come before CTC_OP_PIVOT. A path that does not fit sockaddr_un's
   * sun_path (107 bytes) is ENAMETOOLONG. */
  CTC_OP_CONSOLE_CONNECT = 26,
  /* U64 rows, U64 cols: open the root's /dev/ptmx (resolved in root, i.e. the
   * container's own devpts after it is mounted), unlockpt, open the peer
   * (TIOCGPTPEER), set the window size if rows and cols are not 0, bind the
   * peer onto /dev/console (below), setsid(), make the peer the controlling
   * terminal (TIOCSCTTY) and dup2 it onto fds 0, 1 and 2. Then hand the
   * master over with SCM_RIGHTS: to the
   * console socket if CTC_OP_CONSOLE_CONNECT ran, else to M over the console
   * channel (CTC_OP_M_CONSOLE_PROXY); fails with ENOTCONN if neither. The
   * message carries one byte of data (0); the master is then closed in I,
   * and so is the console socket (nothing more is sent on it). Before
   * setsid, I is not a process-group leader, so setsid cannot fail with
   * EPERM unless CTC_OP_PTY runs twice.
   * /dev/console (runc's): unless the program has CTC_OP_M_JOIN (`exec`
   * shares the container's mounts; its /dev/console stays the init's), the
   * peer is bind-mounted onto the root's /dev/console, fd to fd
   * (/proc/self/fd/N both sides; CVE-2025-52565 was that bind redirected
   * by a symlink or a race). The peer must be a character device on a
   * devpts, major 136..143, whose number is the master's (TIOCGPTN), else
   * ENOTTY. /dev/console is created if missing (an empty file, mode 0666,
   * not following a symlink); an existing one is opened without following
   * a symlink and must be a regular file or a character device (a symlink:
   * ELOOP; anything else: EINVAL). If it is missing and cannot be created
   * because /dev is missing (ENOENT) or read-only (EROFS), there is no
   * console and no error. */
  CTC_OP_PTY = 27,
  /* no args: runc's --no-pivot, for roots where pivot_root cannot work (a
   * ramdisk): chdir into the root, move it onto "/" (MS_MOVE), chroot("."),
   * chdir("/"). The old root stays underneath, unreachable by path. Takes
   * the place of CTC_OP_PIVOT. */
  CTC_OP_MOVE_ROOT = 28,
  /* U64 signal: prctl(PR_SET_PDEATHSIG, signal): the process gets it when its
   * parent (M, or the subreaper that adopted it) dies. The kernel clears it
   * on a credential change, so it comes after CTC_OP_USER. */
  CTC_OP_PDEATHSIG = 29,
  /* STR key, STR value: write value to /proc/sys/<key, dots as slashes>, in
   * root (the container's /proc: after CTC_OP_PIVOT, before /proc/sys is
   * made read-only).
   * The write must reach the kernel (CVE-2025-52881: runc's /proc writes
   * could be redirected by the container's mounts). The root's /proc must
   * be the root of a procfs (statfs f_type PROC_SUPER_MAGIC, inode 1); the
   * file is opened beneath it with openat2(RESOLVE_BENEATH|RESOLVE_NO_XDEV|
   * RESOLVE_NO_MAGICLINKS), so a mount anywhere on the way (a bind over
   * /proc/sys, or over the file) is refused, and the opened file must be on
   * a procfs too. Otherwise EXDEV (ELOOP for a magic link). */
  CTC_OP_SYSCTL = 30,
  /* STR name, U64 keepcaps: CTC_OP_USER for a user named in the root's own
   * /etc/passwd (uid, gid) and /etc/group (the groups listing the name),
   * read when the op runs. A name the passwd file lacks is ESRCH. */
  CTC_OP_USER_NAME = 31,
  /* STR attr, STR value: write value to /proc/thread-self/attr/<attr>, the
   * label the LSM gives the process at execve (AppArmor: "apparmor/exec",
   * "exec <profile>"; SELinux: "exec", the context). The root's /proc, opened
   * and checked as for CTC_OP_SYSCTL (EXDEV); "thread-self" is a plain
   * symlink within procfs. */
  CTC_OP_LSM_EXEC = 32,
  /* U64 flags, BLOB program: seccomp(SECCOMP_SET_MODE_FILTER, flags) with the
   * program, an array of struct sock_filter (8 bytes each). Comes right
   * before CTC_OP_EXEC (after CTC_OP_NO_NEW_PRIVS), or before the user
   * switch while the process still has CAP_SYS_ADMIN. */
  CTC_OP_SECCOMP = 33,

  /* ---- network (rtnetlink, in I's network namespace) --------------------
   * The host's side (bridge, veth pair into I's namespace) is the
   * executor's, with `ctc-init net ...`. Interface names are looked up when
   * the op runs (a missing one is ENODEV); an address or route already
   * there is EEXIST. */

  /* STR ifname, U64 family (AF_INET 2 / AF_INET6 10), BLOB address (4 or
   * 16 bytes, the family's size), U64 prefix length: add the address
   * (RTM_NEWADDR, NLM_F_CREATE|NLM_F_EXCL; IPv4 gets the subnet's broadcast
   * address below /31). An IPv6 address gets IFA_F_NODAD: usable at once,
   * without the second or more of duplicate address detection (which
   * would also refuse it as a route's source until done). A wrong size,
   * family or prefix length is EINVAL. */
  CTC_OP_NET_ADDR = 34,
  /* U64 family, BLOB destination (0 bytes = the default route), U64
   * destination length (0 with no destination), BLOB gateway (0 bytes =
   * none), BLOB preferred source (0 bytes = none), STR ifname ("" = none):
   * add a route (RTM_NEWROUTE, NLM_F_CREATE|NLM_F_EXCL) to the main table,
   * protocol RTPROT_BOOT, type unicast; scope universe with a gateway, link
   * without. Each address is empty or of the family's size, else EINVAL.
   * The kernel's rules apply: a gateway must be reachable through a route
   * already there (else ENETUNREACH; IPv6: EHOSTUNREACH), and an address's
   * own subnet route exists only while its link is up, so CTC_OP_LINK_UP
   * comes first; a source must be a usable address of the namespace
   * (EINVAL); IPv4 host bits past the length are EINVAL. */
  CTC_OP_NET_ROUTE = 35,
  /* STR path (host path), U64 nstype (one CLONE_NEW* bit): open the path
   * O_RDONLY|O_CLOEXEC, setns(fd, nstype), close: join an existing
   * namespace by path (OCI's namespaces[].path; the network namespace
   * before CTC_OP_NET_*). Comes before CTC_OP_ROOTFS/CTC_OP_PIVOT (the path
   * is the host's). nstype 0 (any kind) or several bits is EINVAL, so a
   * path to another kind of namespace fails (EINVAL) rather than being
   * joined. After joining a mount namespace, "in root" paths are resolved
   * from its "/". A pid namespace applies to children only, so M joins it,
   * before the clone (after the monitor ops), and I is born in it: such an
   * op must be in the program's first init step, at most once; I
   * acknowledges it without acting, and a failure is MSG_ERR(its step). */
  CTC_OP_SETNS = 36,
  /* STR dir (host path), STR lower (host path): a writable root over a
   * read-only one. A fresh tmpfs (mode 0755) at dir gets the directories
   * upper, work and root; the overlay of lower (upperdir dir/upper, workdir
   * dir/work) is mounted at dir/root, which becomes the root as with
   * CTC_OP_ROOTFS. A path holding ',' or ':' (overlayfs's separators) is
   * EINVAL. */
  CTC_OP_ROOTFS_OVERLAY = 37,

  /* ---- monitor ops ----------------------------------------------------
   * Performed by M, not I, when the program is read, before the clone; they
   * come first in the program, carry the spawn step, and I skips them.
   * Each may appear once; M_DETACH and M_CONSOLE_PROXY exclude each other
   * (a detached container has no foreground terminal). Breaking these rules
   * is a bad program. Whatever their order in the program, M performs them
   * in one fixed order: M_DETACH's preparations (exit directory, /dev/null,
   * the subreaper probe), M_LOG, M_JOIN, M_CONSOLE_PROXY's socketpair, clone. */

  /* U64 pid, U64 ns flags: join pid's namespaces of the listed kinds (setns
   * on /proc/<pid>/ns/<name>, opened all first; user first, mnt last) before
   * the clone, so I is born inside them (`ctc exec`). cgroup joining is the
   * executor's (cgroup.join after MSG_PID), as for a new container.
   * ns flags are CLONE_NEW* bits: USER, NS (mnt), UTS, IPC, NET, PID,
   * CGROUP, TIME (0x80 is allowed here); any other bit is EINVAL. `exec`
   * lists them all (CTC_NS_ALL): what counts is what the running pid is in,
   * whether ctc made it or the container joined it by path, never what ctc
   * remembers making. A namespace M already shares with pid (same
   * st_dev/st_ino of /proc/self/ns/<name> and /proc/<pid>/ns/<name>) is
   * skipped: setns into one's own user namespace is EINVAL; so is time on a
   * kernel without time namespaces (no /proc/<pid>/ns/time). Order: user, uts, ipc, net, pid,
   * cgroup, time, mnt (mnt last: it changes M's root and cwd to the
   * container's, which is also where I starts). The pid namespace applies
   * to children only, i.e. to I. Clone flags 0 are usual with this op. */
  CTC_OP_M_JOIN = 100,
  /* STR exit file (host path), U64 caller pid: detach. M opens the exit
   * file's directory before anything else (it may join a mount namespace).
   * After MSG_PID, M finds out whether the caller (the process that started
   * the executor) is a child subreaper: it forks a child that forks a
   * grandchild and exits; the orphaned grandchild is re-parented to the
   * nearest subreaper ancestor, and reports whether that is the caller.
   * If it is (a containerd shim), M exits 0 at once, so I is re-parented
   * to the caller, which reaps it. If not, M stays as I's monitor: it points
   * its own fds 0-2 at /dev/null, waits for I, writes I's exit status
   * (decimal, newline; 128+signal if killed) to the exit file through a
   * temporary name and rename, and exits. Without this op M is the
   * foreground monitor described above (MSG_EXIT). Either way M sends
   * MSG_DETACHED right after MSG_PID, before E's first GO (E reads it first,
   * so M's writes still never interleave with I's).
   * Details: the probe runs before M_JOIN and the clone and is only
   * reported after MSG_PID (a child forked after setns into a pid namespace
   * would be born in it, and its orphans would go to the container's init).
   * The probe's processes close every fd but their pipe at once, so they
   * never hold E's stdio or fd 3, and are named "ctc-init-probe" (the
   * orphan is reaped by whoever adopts it); the orphan gives up after ~1 s
   * and answers 0; a failed fork is MSG_ERR (EAGAIN). Caller pid 0 means
   * "no caller": no probe, MSG_DETACHED(0).
   * The exit file is written by openat/renameat on the directory fd opened
   * first (temporary name ".ctc-exit.<M's pid>", mode 0644); M keeps fd 3
   * and, after writing it, still tries MSG_EXIT. M's own exit code: 0 when
   * detaching (d = 1), else I's exit code. */
  CTC_OP_M_DETACH = 101,
  /* no args: foreground terminal. Before the clone M makes a private unix
   * socketpair (the console channel) for I's CTC_OP_PTY. After MSG_PID, M
   * receives the pty master, puts its own stdin into raw mode if it is a
   * terminal (restored when M exits), copies its stdin to the master and the
   * master to its stdout until I exits, and on SIGWINCH copies stdin's window
   * size to the master (once at start, too).
   * Details: raw mode and the window size are applied when the master
   * arrives (so a failed setup never touches the terminal), only if fd 0 is
   * a terminal. The channel is SOCK_STREAM|SOCK_CLOEXEC; I's end closes at
   * its exec. At EOF on stdin M stops reading it (the pty is not closed, so
   * the container sees no EOF, as with runc). When I has exited, M drains
   * the master until EIO or 100 ms of silence (at most 2 s), restores the
   * terminal, then sends MSG_EXIT. SIGCHLD and SIGWINCH are blocked in M
   * and read from a signalfd; I starts with the signal mask M had. */
  CTC_OP_M_CONSOLE_PROXY = 102,
  /* STR socket path (host path): as CTC_OP_CONSOLE_CONNECT, but done by M
   * before CTC_OP_M_JOIN (the path is the host's; after joining a container's
   * mount namespace it is out of reach). I inherits the connection as its
   * console socket for CTC_OP_PTY. */
  CTC_OP_M_CONSOLE_CONNECT = 103,
  /* STR log file (host path), U64 cap (bytes a file): a detached container's
   * log. Needs CTC_OP_M_DETACH (else a bad program); done right after its
   * preparations, before CTC_OP_M_JOIN. M opens the log file's directory
   * (O_PATH) and the file (O_APPEND|O_CREAT|O_NOFOLLOW, mode 0600; an
   * existing log is appended to) and makes two pipes: I starts with fd 0
   * on /dev/null and fds 1 and 2 on the pipes' write ends, so nothing the
   * container writes reaches the caller. Each line read from them is
   * appended as one record of CRI's format:
   *   <RFC 3339 time, UTC, ns> <stdout|stderr> <F|P> <text>\n
   * F a whole line (its newline not in text), P a part: a line longer than
   * 16 KiB, or what a stream ended with that had no newline. Before a
   * record would take the file past the cap, it is renamed to "<name>.1"
   * (replacing the older one) and a new file is started (made as
   * "<name>.new", then renamed); where that fails (M has joined a user
   * namespace that may not write the directory, or it is gone) the file
   * is truncated and written from its start instead.
   * Who writes: if the caller reaps I (MSG_DETACHED(1)), M forks a writer
   * (named "ctc-log", holding only the log and the pipes, fds 0-2 on
   * /dev/null) before the clone, which writes until both pipes end (every
   * holder of the write ends is gone) and exits; it is re-parented to the
   * caller like I. Otherwise M writes the log while it waits for I (SIGCHLD
   * from a signalfd, blocked before the clone as for M_CONSOLE_PROXY); when
   * I is gone M reads what is left in the pipes without waiting for
   * processes I left holding them, then writes the exit file: the exit
   * file's presence means the log is complete. */
  CTC_OP_M_LOG = 104,
};

/* Messages from ctc-init to the executor: fixed 16-byte records. Fields a
 * message does not use are 0; MSG_PID (step = spawn_step) and MSG_EXIT
 * (step 0) carry I's pid. */
struct ctc_wire_msg {
  uint32_t type;
  uint32_t step;
  int32_t value;
  uint32_t pid;
};

enum ctc_wire_msg_type {
  CTC_MSG_PID = 1,      /* pid = I's pid in the executor's pid namespace */
  CTC_MSG_ACK = 2,      /* step done (sent once per op) */
  CTC_MSG_ERR = 3,      /* step failed; value = errno */
  CTC_MSG_PAUSED = 4,   /* step = the `until` it stopped at; I waits for GO */
  CTC_MSG_EXEC = 5,     /* step = exec step; execve is next */
  CTC_MSG_EXIT = 6,     /* value = exit code, 128+signal if killed */
  CTC_MSG_WAITING = 7,  /* step = CTC_OP_WAIT_START's step (the exec step, if encoded
                        * under it); I is set up and waits for `ctc start` */
  CTC_MSG_DETACHED = 8, /* step = spawn_step; value = 1 if M exits (the caller
                         * reaps I), 0 if M stays as the monitor */
};

/* Commands from the executor to I: fixed 8-byte records. */
struct ctc_wire_cmd {
  uint32_t type;  /* CTC_CMD_GO */
  uint32_t until; /* run ops with step < until, then MSG_PAUSED; 0 = to the end */
};

enum ctc_wire_cmd_type {
  CTC_CMD_GO = 1,
};

#endif
