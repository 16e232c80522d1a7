#!/usr/bin/env python3
"""Loads a seccomp program that ctc compiled into the real kernel and reports
what syscalls then do (Node cannot fork, set no_new_privs or load a filter
into itself):

  seccomp-probe.py calls PROGRAM CALLS
      CALLS is JSON: [[nr, [arg0, ..., arg5]], ...] (args as decimal strings,
      unsigned 64-bit). Each call runs in a fresh child that sets
      no_new_privs, loads PROGRAM (struct sock_filter bytes) with
      prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER), and makes the one syscall
      through libc's syscall(). Prints a JSON list, one entry per call:
      {"ret": r, "errno": e}, or {"signal": n} if the child was killed first
      (SIGSYS is 31 on both architectures). PROGRAM '-' loads no filter: what
      the kernel itself answers, for comparison.

  seccomp-probe.py exec PROGRAM -- CMD ARG...
      sets no_new_privs, loads PROGRAM, and executes CMD under it.

The child writes its result to memory shared with the parent, so reporting
needs no syscall the filter might refuse.
"""
import ctypes, json, mmap, os, struct, sys

PR_SET_NO_NEW_PRIVS = 38
PR_SET_SECCOMP = 22
SECCOMP_MODE_FILTER = 2

libc = ctypes.CDLL(None, use_errno=True)
libc.prctl.argtypes = [ctypes.c_int, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong]
libc.prctl.restype = ctypes.c_int
libc.syscall.argtypes = [ctypes.c_long] * 7
libc.syscall.restype = ctypes.c_long


class SockFilter(ctypes.Structure):
    _fields_ = [('code', ctypes.c_ushort), ('jt', ctypes.c_ubyte), ('jf', ctypes.c_ubyte), ('k', ctypes.c_uint)]


class SockFprog(ctypes.Structure):
    _fields_ = [('len', ctypes.c_ushort), ('filter', ctypes.POINTER(SockFilter))]


def load_program(path):
    data = open(path, 'rb').read()
    n = len(data) // 8
    insns = (SockFilter * n).from_buffer_copy(data)
    prog = SockFprog(n, ctypes.cast(insns, ctypes.POINTER(SockFilter)))
    return prog, insns  # insns must outlive prog


def install(prog):
    """Returns 0, or the errno of the prctl that failed."""
    if libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
        return ctypes.get_errno()
    if libc.prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, ctypes.addressof(prog), 0, 0) != 0:
        return ctypes.get_errno()
    return 0


def signed(v):
    v = int(v)
    return v - (1 << 64) if v >= (1 << 63) else v


def calls(path, spec):
    prog, keep = load_program(path) if path != '-' else (None, None)
    shared = mmap.mmap(-1, 32, mmap.MAP_SHARED)
    out = []
    for nr, args in json.loads(spec):
        argv = [ctypes.c_long(signed(a)) for a in (list(args) + ['0'] * 6)[:6]]
        number = ctypes.c_long(nr)
        shared[0:32] = bytes(32)
        pid = os.fork()
        if pid == 0:
            failed = install(prog) if prog is not None else 0
            if failed:
                shared[0:24] = struct.pack('<qqq', 2, -1, failed)
                os._exit(1)
            ret = libc.syscall(number, *argv)
            err = ctypes.get_errno()
            shared[0:24] = struct.pack('<qqq', 1, ret, err)
            os._exit(0)
        _, status = os.waitpid(pid, 0)
        state, ret, err = struct.unpack('<qqq', shared[0:24])
        if state == 2:
            out.append({'error': 'loading the filter failed', 'errno': err})
        elif state == 1:
            out.append({'ret': ret, 'errno': err if ret == -1 else 0})
        elif os.WIFSIGNALED(status):
            out.append({'signal': os.WTERMSIG(status)})
        else:
            out.append({'error': 'no result', 'status': status})
    print(json.dumps(out))


def execute(path, argv):
    prog, keep = load_program(path)
    failed = install(prog)
    if failed:
        print(f'seccomp-probe: loading the filter failed: {os.strerror(failed)}', file=sys.stderr)
        sys.exit(125)
    os.execv(argv[0], argv)


if __name__ == '__main__':
    if len(sys.argv) == 4 and sys.argv[1] == 'calls':
        calls(sys.argv[2], sys.argv[3])
    elif len(sys.argv) > 4 and sys.argv[1] == 'exec' and sys.argv[3] == '--':
        execute(sys.argv[2], sys.argv[4:])
    else:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
