#!/usr/bin/env python3
"""Terminal helpers for the tests (Node cannot receive file descriptors or
own a pseudo-terminal):

  tty.py receive SOCK INPUT   listen on SOCK, take one pty master sent with
                              SCM_RIGHTS (runc's console socket), type INPUT
                              into it, print what comes back until EOF
  tty.py pty ROWSxCOLS INPUT RESIZE -- CMD...
                              run CMD on a new pseudo-terminal of that size,
                              type INPUT, after the first output line resize
                              to RESIZE (e.g. 40x120), type INPUT again, print
                              everything CMD writes; exit with its status
"""
import array, fcntl, os, select, socket, struct, sys, termios, time

def read_until_eof(fd, deadline):
    out = b''
    while time.time() < deadline:
        r, _, _ = select.select([fd], [], [], 0.2)
        if not r:
            continue
        try:
            chunk = os.read(fd, 4096)
        except OSError:
            break
        if not chunk:
            break
        out += chunk
    return out

def receive(path, text):
    srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    srv.bind(path)
    srv.listen(1)
    print('listening', flush=True)
    conn, _ = srv.accept()
    fds = array.array('i')
    msg, anc, _, _ = conn.recvmsg(1, socket.CMSG_LEN(fds.itemsize))
    for level, kind, data in anc:
        if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
            fds.frombytes(data[:fds.itemsize])
    master = fds[0]
    os.write(master, text.encode())
    sys.stdout.write(read_until_eof(master, time.time() + 20).decode(errors='replace'))

def setsize(fd, rows, cols):
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack('HHHH', rows, cols, 0, 0))

def run_on_pty(size, text, resize, cmd):
    rows, cols = map(int, size.split('x'))
    pid, master = os.forkpty()
    if pid == 0:
        os.execvp(cmd[0], cmd)
    setsize(master, rows, cols)
    time.sleep(0.5)
    os.write(master, text.encode())
    out = b''
    deadline = time.time() + 20
    resized = False
    while time.time() < deadline:
        r, _, _ = select.select([master], [], [], 0.2)
        if r:
            try:
                chunk = os.read(master, 4096)
            except OSError:
                break
            if not chunk:
                break
            out += chunk
        if not resized and b'size:' in out:
            resized = True
            r2, c2 = map(int, resize.split('x'))
            setsize(master, r2, c2)  # the kernel sends SIGWINCH to the foreground group
            time.sleep(0.3)
            os.write(master, text.encode())
    _, status = os.waitpid(pid, 0)
    sys.stdout.write(out.decode(errors='replace'))
    sys.exit(os.waitstatus_to_exitcode(status))

if __name__ == '__main__':
    if sys.argv[1] == 'receive':
        receive(sys.argv[2], sys.argv[3])
    else:
        sep = sys.argv.index('--')
        run_on_pty(sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[sep + 1:])
