// Seccomp policies as an app.ct.ts writes them (process.seccomp), and the
// default profile. Syscall and errno names are string-literal unions from
// the generated tables, so a misspelled name is a compile error at its line.
// ctc compiles a policy to classic BPF itself (plan/seccomp/bpf.ts).

import type { ErrnoName, Syscall } from './syscalls.ts';

export type { ErrnoName, Syscall, SyscallArch } from './syscalls.ts';

/** What the kernel does with a syscall (SECCOMP_RET_*). */
export type SeccompAction = 'allow' | 'errno' | 'kill_process' | 'kill_thread' | 'trap' | 'trace' | 'log' | 'notify';

/** The architectures ctc filters: a plan runs on either. */
export type SeccompArch = 'x86_64' | 'aarch64';

/** SECCOMP_FILTER_FLAG_* without the prefix, lower case. */
export type SeccompFlag = 'log' | 'spec_allow' | 'tsync';

/** An errno by number (1..4095) or by name. */
export type Errno = number | ErrnoName;

/**
 * A 64-bit argument value: a number (negative ones are two's complement, as
 * the kernel sees -1 as 0xffffffffffffffff), a bigint, or a decimal or 0x
 * hex string for values beyond 2^53.
 */
export type SeccompValue = number | bigint | `${bigint}` | `0x${string}`;

export type SeccompArgIndex = 0 | 1 | 2 | 3 | 4 | 5;

/** A condition on one argument, compared as an unsigned 64-bit number. */
export type SeccompArg =
  | { readonly index: SeccompArgIndex; readonly op: 'ne' | 'lt' | 'le' | 'eq' | 'ge' | 'gt'; readonly value: SeccompValue }
  /** (argument & value) == valueTwo */
  | { readonly index: SeccompArgIndex; readonly op: 'masked_eq'; readonly value: SeccompValue; readonly valueTwo: SeccompValue };

interface RuleBase {
  readonly syscalls: readonly Syscall[];
  /** all must hold */
  readonly args?: readonly SeccompArg[];
}

/**
 * Syscalls, an action, and conditions that must all hold. Rules are checked
 * in order and the first that matches decides. errno and trace carry a value.
 */
// biome-ignore format: each /** */ stays before the member it documents (an editor shows it there)
export type SeccompRule =
  | (RuleBase & { readonly action: 'allow' | 'kill_process' | 'kill_thread' | 'trap' | 'log' | 'notify' })
  | (RuleBase & { readonly action: 'errno'; /** defaults to EPERM */ readonly errno?: Errno })
  | (RuleBase & { readonly action: 'trace'; /** what the tracer sees, 0..65535; defaults to 0 */ readonly ret?: number });

interface PolicyBase {
  /** defaults to both: the plan then runs on either; any other architecture is killed */
  readonly architectures?: readonly SeccompArch[];
  readonly flags?: readonly SeccompFlag[];
  readonly rules: readonly SeccompRule[];
}

/** A policy: rules, then the default action for every syscall no rule matches. */
// biome-ignore format: each /** */ stays before the member it documents (an editor shows it there)
export type Seccomp =
  | (PolicyBase & { readonly defaultAction: 'allow' | 'kill_process' | 'kill_thread' | 'trap' | 'log' | 'notify' })
  | (PolicyBase & { readonly defaultAction: 'errno'; /** defaults to EPERM */ readonly defaultErrno?: Errno })
  | (PolicyBase & { readonly defaultAction: 'trace'; /** what the tracer sees, 0..65535; defaults to 0 */ readonly defaultRet?: number });

/**
 * The CLONE_NEW* flags clone() takes (CLONE_NEWTIME, 0x80, is not one: in
 * clone() that bit belongs to the exit signal; new time namespaces need
 * clone3 or unshare, both refused below).
 */
const CLONE_NEWNS = 0x00020000;
const CLONE_NEWCGROUP = 0x02000000;
const CLONE_NEWUTS = 0x04000000;
const CLONE_NEWIPC = 0x08000000;
const CLONE_NEWUSER = 0x10000000;
const CLONE_NEWPID = 0x20000000;
const CLONE_NEWNET = 0x40000000;
export const cloneNamespaceFlags =
  CLONE_NEWNS | CLONE_NEWCGROUP | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNET;

/** personality(2) values that change nothing a container could abuse. */
const PER_LINUX = 0x0000;
const PER_LINUX32 = 0x0008;
const UNAME26 = 0x0020000;
const PER_QUERY = 0xffffffff;

/**
 * The default profile, in the spirit of Docker's: every syscall a normal
 * program (a shell, coreutils, Node, a libc of today) needs is allowed;
 * anything else fails with EPERM. Left out, because they reach beyond the
 * container: mounts and the new mount API, namespaces (unshare, setns, clone
 * with CLONE_NEW*), modules, kexec, bpf, perf events, ptrace and
 * process_vm_*, pidfd_getfd, keyrings, accounting, swap, reboot, the clocks,
 * quotas, file handles, userfaultfd, lookup_dcookie, port I/O, syslog,
 * vhangup, NUMA policy, io_uring, fanotify, kcmp, and the obsolete uselib,
 * ustat, sysfs, nfsservctl and _sysctl. clone3 fails with ENOSYS, because its
 * flags are in memory that seccomp cannot read: libc then falls back to clone.
 * Syscalls newer than the profile (numbered above every one it names) fail
 * with ENOSYS too, so a libc of tomorrow falls back instead of failing.
 */
// biome-ignore format: a table: the syscalls of a kind, a line of related ones at a time
export const defaultSeccomp: Seccomp = {
  defaultAction: 'errno',
  defaultErrno: 'EPERM',
  architectures: ['x86_64', 'aarch64'],
  rules: [
    {
      // files and file descriptors
      action: 'allow',
      syscalls: [
        'read', 'write', 'readv', 'writev', 'pread64', 'pwrite64', 'preadv', 'pwritev', 'preadv2', 'pwritev2',
        'open', 'openat', 'openat2', 'creat', 'close', 'close_range', 'dup', 'dup2', 'dup3',
        'lseek', 'fcntl', 'ioctl', 'flock', 'fsync', 'fdatasync', 'sync', 'syncfs', 'sync_file_range',
        'truncate', 'ftruncate', 'fallocate', 'fadvise64', 'readahead', 'cachestat',
        'stat', 'lstat', 'fstat', 'newfstatat', 'statx', 'statfs', 'fstatfs',
        'access', 'faccessat', 'faccessat2', 'getdents', 'getdents64', 'getcwd', 'chdir', 'fchdir', 'chroot',
        'mkdir', 'mkdirat', 'rmdir', 'rename', 'renameat', 'renameat2', 'link', 'linkat', 'unlink', 'unlinkat',
        'symlink', 'symlinkat', 'readlink', 'readlinkat', 'mknod', 'mknodat',
        'chmod', 'fchmod', 'fchmodat', 'fchmodat2', 'chown', 'fchown', 'lchown', 'fchownat', 'umask',
        'utime', 'utimes', 'utimensat', 'futimesat', 'file_getattr', 'file_setattr',
        'setxattr', 'lsetxattr', 'fsetxattr', 'setxattrat', 'getxattr', 'lgetxattr', 'fgetxattr', 'getxattrat',
        'listxattr', 'llistxattr', 'flistxattr', 'listxattrat', 'removexattr', 'lremovexattr', 'fremovexattr', 'removexattrat',
        'sendfile', 'splice', 'tee', 'vmsplice', 'copy_file_range', 'memfd_create',
        'inotify_init', 'inotify_init1', 'inotify_add_watch', 'inotify_rm_watch',
      ],
    },
    {
      // memory
      action: 'allow',
      syscalls: [
        'brk', 'mmap', 'munmap', 'mremap', 'mprotect', 'msync', 'mincore', 'madvise', 'remap_file_pages',
        'mlock', 'mlock2', 'munlock', 'mlockall', 'munlockall', 'membarrier', 'mseal', 'map_shadow_stack',
        'pkey_mprotect', 'pkey_alloc', 'pkey_free',
      ],
    },
    {
      // processes, threads, credentials, limits
      action: 'allow',
      syscalls: [
        'fork', 'vfork', 'execve', 'execveat', 'exit', 'exit_group', 'wait4', 'waitid',
        'kill', 'tkill', 'tgkill', 'pidfd_open', 'pidfd_send_signal',
        'getpid', 'getppid', 'gettid', 'set_tid_address', 'set_robust_list', 'get_robust_list', 'rseq', 'restart_syscall',
        'futex', 'futex_waitv', 'futex_wake', 'futex_wait', 'futex_requeue',
        'arch_prctl', 'set_thread_area', 'get_thread_area', 'prctl', 'seccomp',
        'landlock_create_ruleset', 'landlock_add_rule', 'landlock_restrict_self',
        'sched_yield', 'sched_getaffinity', 'sched_setaffinity', 'sched_getparam', 'sched_setparam',
        'sched_getscheduler', 'sched_setscheduler', 'sched_get_priority_max', 'sched_get_priority_min',
        'sched_rr_get_interval', 'sched_getattr', 'sched_setattr', 'getpriority', 'setpriority', 'ioprio_get', 'ioprio_set',
        'capget', 'capset', 'getuid', 'geteuid', 'getgid', 'getegid', 'getresuid', 'getresgid', 'getgroups',
        'setuid', 'setgid', 'setreuid', 'setregid', 'setresuid', 'setresgid', 'setfsuid', 'setfsgid', 'setgroups',
        'getsid', 'setsid', 'getpgid', 'setpgid', 'getpgrp',
        'getrlimit', 'setrlimit', 'prlimit64', 'getrusage', 'times', 'uname', 'sysinfo', 'getcpu', 'getrandom',
      ],
    },
    {
      // signals, time, waiting for events
      action: 'allow',
      syscalls: [
        'rt_sigaction', 'rt_sigprocmask', 'rt_sigreturn', 'rt_sigpending', 'rt_sigtimedwait', 'rt_sigqueueinfo',
        'rt_tgsigqueueinfo', 'rt_sigsuspend', 'sigaltstack', 'pause', 'alarm', 'signalfd', 'signalfd4',
        'nanosleep', 'clock_nanosleep', 'clock_gettime', 'clock_getres', 'gettimeofday', 'time',
        'getitimer', 'setitimer', 'timer_create', 'timer_settime', 'timer_gettime', 'timer_getoverrun', 'timer_delete',
        'timerfd_create', 'timerfd_settime', 'timerfd_gettime',
        'select', 'pselect6', 'poll', 'ppoll', 'epoll_create', 'epoll_create1', 'epoll_ctl', 'epoll_wait',
        'epoll_pwait', 'epoll_pwait2', 'eventfd', 'eventfd2', 'pipe', 'pipe2',
        'io_setup', 'io_destroy', 'io_submit', 'io_cancel', 'io_getevents', 'io_pgetevents',
      ],
    },
    {
      // sockets and System V / POSIX IPC (the container's own namespaces)
      action: 'allow',
      syscalls: [
        'socket', 'socketpair', 'bind', 'listen', 'accept', 'accept4', 'connect', 'shutdown',
        'getsockname', 'getpeername', 'getsockopt', 'setsockopt',
        'sendto', 'recvfrom', 'sendmsg', 'recvmsg', 'sendmmsg', 'recvmmsg',
        'shmget', 'shmat', 'shmdt', 'shmctl', 'semget', 'semop', 'semtimedop', 'semctl',
        'msgget', 'msgsnd', 'msgrcv', 'msgctl',
        'mq_open', 'mq_unlink', 'mq_timedsend', 'mq_timedreceive', 'mq_notify', 'mq_getsetattr',
      ],
    },
    // threads and fork, but no new namespaces (flags are argument 0 on both architectures)
    { action: 'allow', syscalls: ['clone'], args: [{ index: 0, op: 'masked_eq', value: cloneNamespaceFlags, valueTwo: 0 }] },
    { action: 'allow', syscalls: ['personality'], args: [{ index: 0, op: 'eq', value: PER_LINUX }] },
    { action: 'allow', syscalls: ['personality'], args: [{ index: 0, op: 'eq', value: PER_LINUX32 }] },
    { action: 'allow', syscalls: ['personality'], args: [{ index: 0, op: 'eq', value: UNAME26 }] },
    { action: 'allow', syscalls: ['personality'], args: [{ index: 0, op: 'eq', value: UNAME26 | PER_LINUX32 }] },
    { action: 'allow', syscalls: ['personality'], args: [{ index: 0, op: 'eq', value: PER_QUERY }] },
    { action: 'errno', errno: 'ENOSYS', syscalls: ['clone3'] },
  ],
};
