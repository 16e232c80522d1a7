// The seccomp policy of the process that evaluates a project's code
// (sandbox.ts, native/init/sandbox.c): what Node and V8 need to compute and to
// answer on their stdout, and nothing else. Compiled by ctc's own seccomp
// compiler. Everything not listed fails with EPERM: no execve, no socket,
// no ptrace, no mount or namespace calls, no new processes (threads only),
// no file opened for writing, no io_uring (which would bypass the filter).

import { compileSeccomp } from '../../plan/seccomp/bpf.ts';
import type { SpecSeccomp, SpecSeccompArg, SpecSeccompRule } from '../../plan/seccomp/types.ts';

/** native/init/sandbox.c's EXEC_FD: the one fd execveat may run, and RLIMIT_NOFILE there */
export const SANDBOX_EXEC_FD = 63;

const allowed = [
  // memory
  'brk',
  'mmap',
  'munmap',
  'mprotect',
  'madvise',
  'mremap',
  'mincore',
  'membarrier',
  'pkey_alloc',
  'pkey_free',
  'pkey_mprotect',
  // threads, signals, time
  'futex',
  'futex_waitv',
  'set_robust_list',
  'get_robust_list',
  'rseq',
  'set_tid_address',
  'gettid',
  'rt_sigaction',
  'rt_sigprocmask',
  'rt_sigreturn',
  'sigaltstack',
  'tgkill',
  'tkill',
  'sched_yield',
  'sched_getaffinity',
  'sched_getparam',
  'sched_getscheduler',
  'getcpu',
  'clock_gettime',
  'clock_getres',
  'clock_nanosleep',
  'nanosleep',
  'gettimeofday',
  'exit',
  'exit_group',
  // who and where it is (all answers are the sandbox's)
  'getpid',
  'getppid',
  'getuid',
  'geteuid',
  'getgid',
  'getegid',
  'getgroups',
  'getresuid',
  'getresgid',
  'capget',
  'uname',
  'sysinfo',
  'getrandom',
  'getrlimit',
  'prlimit64',
  'getcwd',
  'arch_prctl',
  'getrusage',
  // fds: stdio, the event loop, files of the read-only root
  'read',
  'readv',
  'pread64',
  'write',
  'writev',
  'close',
  'close_range',
  'lseek',
  'dup',
  'dup2',
  'dup3',
  'fcntl',
  'fstat',
  'newfstatat',
  'stat',
  'lstat',
  'statx',
  'readlink',
  'readlinkat',
  'access',
  'faccessat',
  'faccessat2',
  'getdents64',
  'epoll_create1',
  'epoll_ctl',
  'epoll_wait',
  'epoll_pwait',
  'epoll_pwait2',
  'eventfd2',
  'pipe2',
  'poll',
  'ppoll',
];

const O_WRITES = 0o1 | 0o2 | 0o100 | 0o1000 | 0o2000; // O_WRONLY O_RDWR O_CREAT O_TRUNC O_APPEND
const CLONE_THREAD = 0x10000;
const AT_EMPTY_PATH = 0x1000;
/** ioctl requests Node makes on its stdio (TCGETS, FIONBIO, FIOCLEX, FIONCLEX, FIONREAD); never TIOCSTI */
const ioctls = [0x5401, 0x5421, 0x5451, 0x5450, 0x541b];
/** prctl options V8 and libuv use: PR_SET_NAME, PR_GET_NAME, PR_SET_VMA */
const prctls = [15, 16, 0x53564d41];

const arg = (index: number, op: SpecSeccompArg['op'], value: number, valueTwo?: number): SpecSeccompArg => ({
  index,
  op,
  value: String(value),
  ...(valueTwo === undefined ? {} : { valueTwo: String(valueTwo) }),
});
const allow = (syscalls: string[], ...args: SpecSeccompArg[]): SpecSeccompRule => ({ syscalls, action: 'allow', args });

export const sandboxPolicy: SpecSeccomp = {
  defaultAction: 'errno',
  architectures: ['x86_64', 'aarch64'],
  flags: [],
  rules: [
    allow(allowed),
    // threads, never processes
    allow(['clone'], arg(0, 'masked_eq', CLONE_THREAD, CLONE_THREAD)),
    // clone3's flags are behind a pointer: ENOSYS makes glibc use clone
    { syscalls: ['clone3', 'io_uring_setup'], action: 'errno', ret: 38, args: [] },
    allow(['openat'], arg(2, 'masked_eq', O_WRITES, 0)),
    allow(['open'], arg(1, 'masked_eq', O_WRITES, 0)),
    ...ioctls.map((request) => allow(['ioctl'], arg(1, 'eq', request))),
    ...prctls.map((option) => allow(['prctl'], arg(0, 'eq', option))),
    // the exec of the evaluator itself, from the fd native/init/sandbox.c opened
    allow(['execveat'], arg(0, 'eq', SANDBOX_EXEC_FD), arg(4, 'eq', AT_EMPTY_PATH)),
  ],
};

let compiled: string | undefined;

/** The policy as native/init/sandbox.c's --filter takes it. */
export const sandboxFilterHex = (): string => (compiled ??= compileSeccomp(sandboxPolicy).toString('hex'));
