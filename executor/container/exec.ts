// `ctc exec`: a new process in a running container. ctc-init joins the
// namespaces the init is in (setns; read from /proc, never from what ctc
// remembers making) before it clones, the executor puts the clone in the
// init's cgroup, and the clone applies the container's own process
// settings from its plan (rlimits, umask, capabilities, user, no_new_privs),
// with what the caller overrides, then execs.

import { CtcError } from '../../common/error.ts';
import { type Step, list } from '../../plan/steps.ts';
import { parsePlan } from '../../plan/text.ts';
import { detectCgroups } from '../host/cgroups/index.ts';
import { cgroupsOf } from '../host/cgroups/membership.ts';
import type { Container } from './container.ts';
import { codeOf, errnoName, errnoNumber } from '../../common/errno.ts';
import { Helper } from '../native-bridge/helper.ts';
import { tempName, writeError, writePidFile } from './caller-files.ts';
import { Msg, NS_ALL, Op, encodeProgram, op, strArg, u64Arg } from '../native-bridge/wire.ts';
import { join } from 'node:path';
import { capabilityNumbers } from '../../stdlib/capabilities.ts';
import { execWords } from './exec-words.ts';

export interface ExecProcess {
  args: string[];
  /** replaces the container's environment when given (an OCI process file) */
  env?: string[];
  /** added to (or replacing, by name) the container's environment */
  extraEnv?: string[];
  cwd?: string;
  user?: { uid: number; gid: number; additionalGids?: number[] };
  terminal?: boolean;
  /** added to every capability set but ambient */
  addCaps?: string[];
  /** replaces the capability sets (an OCI process file) */
  capabilities?: { bounding: string[]; effective: string[]; permitted: string[]; inheritable: string[]; ambient: string[] };
  noNewPrivileges?: boolean;
}

export interface ExecOptions {
  detach: boolean;
  pidFile?: string;
  consoleSocket?: string;
}

/** The process steps of the container's plan, changed as the caller asks. */
export function execSteps(planText: string, p: ExecProcess): Step[] {
  // What confines the container's process confines what is exec'd in it, as in runc.
  const kinds = new Set([
    'proc.rlimit',
    'proc.umask',
    'proc.bounding',
    'proc.user',
    'proc.caps',
    'proc.apparmor',
    'proc.selinux',
    'proc.no-new-privs',
    'proc.cwd',
    'proc.seccomp',
    'proc.exec',
  ]);
  const steps = parsePlan(planText).steps.filter((s) => kinds.has(s.kind));
  const withEnv = (env: string[]) => {
    if (p.env) return p.env;
    const names = new Set((p.extraEnv ?? []).map((e) => e.split('=')[0]));
    return [...env.filter((e) => !names.has(e.split('=')[0])), ...(p.extraEnv ?? [])];
  };
  const out: Step[] = [];
  for (const s of steps) {
    const args = { ...s.args };
    if (s.kind === 'proc.exec') Object.assign(args, { args: p.args, env: withEnv(list(s, 'env')) });
    if (s.kind === 'proc.cwd' && p.cwd) args.dir = p.cwd;
    if (s.kind === 'proc.user' && p.user) {
      delete args.name;
      Object.assign(args, { uid: p.user.uid, gid: p.user.gid, groups: p.user.additionalGids ?? [] });
    }
    if (s.kind === 'proc.caps' && p.capabilities) Object.assign(args, { ...p.capabilities });
    if (s.kind === 'proc.caps' && p.addCaps)
      for (const set of ['effective', 'permitted', 'inheritable']) args[set] = [...new Set([...list(s, set), ...p.addCaps])];
    if (s.kind === 'proc.bounding' && p.addCaps) args.caps = [...new Set([...list(s, 'caps'), ...p.addCaps])];
    if (s.kind === 'proc.bounding' && p.capabilities) args.caps = p.capabilities.bounding;
    if (s.kind === 'proc.exec' && p.terminal) out.push({ n: s.n, kind: 'proc.tty', args: {}, source: s.source });
    out.push({ ...s, args });
  }
  if (p.noNewPrivileges && !out.some((s) => s.kind === 'proc.no-new-privs')) {
    const at = out.findIndex((s) => s.kind === 'proc.cwd');
    out.splice(at, 0, { n: out[at].n, kind: 'proc.no-new-privs', args: {} });
  }
  return out;
}

/** Runs a process in the container; resolves to its exit code, or 0 once detached. */
export async function execIn(c: Container, p: ExecProcess, opts: ExecOptions): Promise<number> {
  const status = c.status();
  if (status !== 'running') {
    const runtime = status === 'stopped' ? 'exec failed: cannot exec in a stopped container' : undefined; // runc's words
    throw new CtcError('CT_BAD_STATE', `cannot exec in container ${c.id}: it is ${status}`, { runtime });
  }
  if (p.terminal && opts.detach && !opts.consoleSocket) {
    throw new CtcError('CT_USAGE', 'exec --tty --detach needs --console-socket');
  }
  const unknown = [...(p.addCaps ?? []), ...Object.values(p.capabilities ?? {}).flat()].filter((n) => !Object.hasOwn(capabilityNumbers, n));
  if (unknown.length) throw new CtcError('CT_CAP_UNKNOWN', `unknown capability ${unknown.join(', ')}`);
  const state = c.state!;
  const steps = execSteps(c.plan(), p);
  const spawnStep = Math.max(0, steps[0].n - 1);
  // The console socket is a host path: M connects before it joins the container's mount namespace.
  // M joins every namespace the running init is in that ctc is not, made by ctc or joined by path.
  const monitor = [
    ...(opts.consoleSocket ? [op(Op.M_CONSOLE_CONNECT, strArg(opts.consoleSocket))] : []),
    op(Op.M_JOIN, u64Arg(state.pid), u64Arg(NS_ALL)),
    ...(opts.detach ? [op(Op.M_DETACH, strArg(join(c.dir, `exec-${process.pid}.exit`)), u64Arg(process.ppid))] : []),
    ...(p.terminal && !opts.detach && !opts.consoleSocket ? [op(Op.M_CONSOLE_PROXY)] : []),
  ];
  const failed = (step: number, errno: number) => {
    const s = steps.find((x) => x.n === step);
    if (s?.kind === 'proc.exec') {
      const missing = commandMissing(c.id, list(s, 'args')[0], errnoName(errno));
      if (missing) return missing;
    }
    return new CtcError('CT_STEP_FAILED', `exec failed`, {
      step: s && { n: s.n, kind: s.kind },
      errno: errnoName(errno),
      source: s?.source,
    });
  };
  // The native launcher tried this exec and failed (native/launcher/exec.c): its report.
  const native = process.env.CTC_NATIVE_FAILED;
  if (native) {
    delete process.env.CTC_NATIVE_FAILED;
    const [n, what, pidFileErrno] = native.split(':');
    // the launcher's exec ran, but its pid file could not be written: it killed the process
    if (what === 'pid-file') throw writeError(tempName(opts.pidFile ?? ''), errnoName(Number(pidFileErrno)));
    const [step, errno] = [Number(n), Number(what)];
    if (errno === errnoNumber('ECHILD')) throw new CtcError('CT_HELPER_PROTOCOL', 'ctc-init stopped unexpectedly during exec');
    throw failed(step, errno);
  }
  const helper = Helper.start(encodeProgram({ cloneNs: [], spawnStep, failStep: 0 }, steps, [], { monitor, before: new Map() }));
  try {
    const pid = await expect(helper, Msg.PID, failed);
    if (opts.detach) await expect(helper, Msg.DETACHED, failed);
    joinInitCgroups(c, pid.pid, failed);
    helper.go(0);
    for (let m = await helper.next(); m?.type !== Msg.EXEC; m = await helper.next()) {
      if (m?.type === Msg.ERR) throw failed(m.step, m.value);
      if (m === undefined || m.type === Msg.EXIT) throw new CtcError('CT_HELPER_PROTOCOL', 'the exec process died during setup');
    }
    if (opts.pidFile) writeExecPidFile(opts.pidFile, pid.pid);
    if (opts.detach) {
      helper.detach();
      return 0;
    }
    for (;;) {
      const m = await helper.next();
      if (m?.type === Msg.ERR) throw failed(m.step, m.value);
      if (m === undefined) throw new CtcError('CT_HELPER_PROTOCOL', 'lost the exec process');
      if (m.type === Msg.EXIT) return m.value;
    }
  } catch (e) {
    helper.close();
    throw e;
  } finally {
    if (!opts.detach) await helper.exited;
  }
}

/**
 * The exec'd process goes into the cgroups the init is in now (not the ones ctc made). The init is
 * checked to be alive after the read: its pid was not reused, so the namespaces M joined were its too.
 */
function joinInitCgroups(c: Container, pid: number, failed: (step: number, errno: number) => Error): void {
  try {
    const init = cgroupsOf(c.state!.pid);
    if (c.status() === 'stopped') throw Object.assign(new Error('the init is gone'), { code: 'ESRCH' });
    detectCgroups().joinPeer(init, pid);
  } catch (e) {
    throw failed(0, errnoNumber(codeOf(e) ?? '') || errnoNumber('EIO'));
  }
}

/** runc's: a pid file that cannot be written ends the process it names, which nobody would know of. */
function writeExecPidFile(file: string, pid: number): void {
  try {
    writePidFile(file, pid);
  } catch (e) {
    process.kill(pid, 'SIGKILL');
    throw e;
  }
}

async function expect(helper: Helper, type: number, failed: (step: number, errno: number) => Error) {
  const m = await helper.next();
  if (m?.type === Msg.ERR) throw failed(m.step, m.value);
  if (m?.type !== type) throw new CtcError('CT_HELPER_PROTOCOL', `ctc-init stopped unexpectedly during exec`);
  return m;
}

/**
 * A command exec cannot run, said as docker says it (exit 127: not found,
 * 126: found but not executable), naming the command and the container, not
 * the container's source line; runc's words first, for orchestrators.
 */
function commandMissing(id: string, command: string, errno: string): CtcError | undefined {
  if (errno !== 'ENOENT' && errno !== 'EACCES') return undefined;
  const found = errno === 'EACCES';
  const why = found
    ? 'it is not executable there (or is a directory)'
    : command.includes('/')
      ? 'its root has no such file'
      : 'no entry of its PATH holds it';
  return new CtcError('CT_EXEC_COMMAND', `cannot run ${command} in container ${id}: ${why}`, {
    errno,
    runtime: `exec failed: ${execWords(command, errno)}`,
    hint: found
      ? `check its mode inside: ctc exec ${id} ls -l ${command}`
      : `look for it inside: ctc exec ${id} sh -c 'command -v ${command.replace(/'/g, '')}'`,
    exit: found ? 126 : 127,
  });
}
