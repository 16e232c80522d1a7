// Applies a plan: host steps here, runs of init steps through ctc-init, each
// host change journaled before it is made. On any failure the journal is
// undone in reverse, so the host is left as it was found.
//
// Three ways to run, as libcontainer has them:
//   foreground  `ctc run`: wait for the container, forward signals, undo
//               everything after it exits; resolves to its exit code.
//   create      `ctc create`: set everything up, stop the init just before
//               execve (it waits on the exec fifo for `ctc start`), detach.
//   detached    `ctc run -d`: like create, then exec at once, detach.
// Detaching leaves no Node process behind: ctc-init stays as the monitor,
// or, when the caller is a subreaper (a containerd shim), hands the init to
// it (native/wire.h, CTC_OP_M_DETACH).

import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { CtcError } from '../../common/error.ts';
import { type Plan, type Step, actorOf, int, list, str, subjectOf } from '../../plan/steps.ts';
import { type CgroupDriver, detectCgroups } from '../host/cgroups/index.ts';
import { codeOf, errnoName } from '../../common/errno.ts';
import { Helper, helperPath } from '../native-bridge/helper.ts';
import { atStart, hookOf, runHookStep, waitExec } from '../host/hooks.ts';
import { type ImageSource, writeImage } from '../native-bridge/run-image.ts';
import { Journal } from './journal.ts';
import { callerHasNoOutput, logCap, logName } from '../container/log.ts';
import { currentNetns, makeBridge, makeVeth, publish, vethAlias } from '../host/network.ts';
import { claimAddress } from '../host/ipam.ts';
import { idmapMount, writeMaps } from '../host/idmap.ts';
import { cgroupParent, fillAddresses, fillStep } from '../../plan/placeholders.ts';
import { validatePlanSteps } from '../../plan/validate.ts';
import { preflight } from './preflight.ts';
import { execWords } from '../container/exec-words.ts';
import { procStat } from '../container/proc.ts';
import { createCgroup, createOwnCgroup, createStateDir, setDevices, setLimit, writeStateFile } from '../host/steps.ts';
import { tempName, writeError, writePidFile } from '../container/caller-files.ts';
import { type ContainerState, stateFiles, writeState } from '../container/state.ts';
import { undoAll } from './undo.ts';
import { type Extras, Msg, Op, encodeProgram, op, strArg, u64Arg } from '../native-bridge/wire.ts';

export type RunMode = 'foreground' | 'create' | 'detached';

export interface RunOptions {
  id: string;
  /** the state root, /run/ctc by default */
  root: string;
  mode: RunMode;
  /** the plan's text, kept in the state dir for exec */
  planText: string;
  /** CTC_FAIL_STEP: this step fails with EIO before it acts */
  failStep?: number;
  /** recorded as the OCI state's bundle */
  bundle?: string;
  pidFile?: string;
  /** runc's --console-socket: where the pty master of a terminal goes */
  consoleSocket?: string;
  /** `ctc run -t`: a terminal for the process even if the plan has none */
  tty?: boolean;
  /** runc's --no-pivot: move the root onto / and chroot instead of pivot_root */
  noPivot?: boolean;
  /** what the plan was read from: once the container starts, a run image is cached under its key */
  source?: ImageSource;
  /** the plan file's folder: a relative image archive is found there */
  planDir?: string;
}

export const FORWARDED = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT'] as const;

/** CTC_PAUSE_STEP=N: for the crash tests, ctc stops before step N and waits to be killed. */
const pauseStep = () => Number(process.env.CTC_PAUSE_STEP) || 0;

/** Runs the plan; in the foreground resolves to the container's exit code, else to 0 once detached. */
export async function runPlan(plan: Plan, opts: RunOptions): Promise<number> {
  if (process.getuid?.() !== 0 && !plan.steps.some((s) => s.kind === 'user.map')) {
    throw new CtcError('CT_NOT_ROOT', 'without root, ctc runs only containers with a user namespace', {
      hint: "use the stdlib's rootless preset (container({ ...rootless, ... })), or run ctc as root",
    });
  }
  const run = new Run(plan, opts);
  const native = process.env.CTC_NATIVE_FAILED;
  if (native) {
    delete process.env.CTC_NATIVE_FAILED;
    throw run.reported(native);
  }
  try {
    await run.apply();
    return opts.mode === 'foreground' ? await run.waitExit() : run.detach();
  } catch (e) {
    await run.undo().catch(() => undefined);
    throw e;
  } finally {
    run.stopForwarding();
  }
}

class Run {
  private readonly steps: Step[];
  private readonly stateDir: string;
  private readonly journal = new Journal();
  private cgroups?: CgroupDriver;
  /** ctc runs as an ordinary user (a plan with a user namespace) */
  private readonly rootless = process.geteuid?.() !== 0;
  /** rootless, and no cgroup could be made: the cgroup steps are skipped */
  private noCgroup = false;
  private helper?: Helper;
  private state?: ContainerState;
  private interrupted?: string;
  private readonly forwarders = new Map<string, () => void>();

  constructor(
    private readonly plan: Plan,
    private readonly opts: RunOptions,
  ) {
    this.stateDir = join(opts.root, opts.id);
    validatePlanSteps(plan.steps);
    this.steps = plan.steps.map((s) => fillStep(s, { id: opts.id, state: this.stateDir, root: opts.root, cgroupParent: cgroupParent() }));
    this.checkTerminal();
    if (this.logged) logCap(); // a wrong CTC_LOG_MAX_SIZE is refused before anything is made
    preflight(this.steps);
  }

  private get detaching(): boolean {
    return this.opts.mode !== 'foreground';
  }

  /** A detached container without a terminal writes its log (run -d; create only where the caller gave no stdio). */
  private get logged(): boolean {
    if (this.wantsTty || this.opts.consoleSocket) return false;
    return this.opts.mode === 'detached' || (this.opts.mode === 'create' && callerHasNoOutput());
  }

  private get wantsTty(): boolean {
    return this.opts.tty === true || this.steps.some((s) => s.kind === 'proc.tty');
  }

  /** runc's rules: a detached terminal needs a console socket, and a console socket needs a terminal. */
  private checkTerminal(): void {
    const tty = this.wantsTty;
    if (tty && this.detaching && !this.opts.consoleSocket) {
      throw new CtcError('CT_USAGE', 'the container wants a terminal (process.terminal), but it will detach without --console-socket', {
        hint: 'give --console-socket, or set process.terminal to false',
      });
    }
    if (!tty && this.opts.consoleSocket) {
      throw new CtcError('CT_USAGE', '--console-socket was given, but the container has no terminal (process.terminal is false)');
    }
  }

  private driver(): CgroupDriver {
    return (this.cgroups ??= detectCgroups());
  }

  async apply(): Promise<void> {
    for (let i = 0; i < this.steps.length; ) {
      const step = this.steps[i];
      if (this.interrupted) throw new CtcError('CT_INTERRUPTED', `interrupted by ${this.interrupted} before step ${step.n}`);
      if (actorOf(step.kind) === 'host') {
        if (step.n === pauseStep()) await this.pause(step);
        this.host(step);
        if (step.kind === 'ns.clone') await this.clone(step);
        if (step.kind === 'image.unpack') await this.unpack(step);
        i++;
        continue;
      }
      let j = i;
      while (j < this.steps.length && actorOf(this.steps[j].kind) === 'init') j++;
      const until = j < this.steps.length ? this.steps[j].n : 0;
      const pause = pauseStep();
      if (pause >= step.n && (until === 0 || pause < until)) {
        await this.runInit(step, pause); // the init steps before it, then the init waits
        await this.pause(this.stepAt(pause));
      }
      await this.runInit(step, until);
      i = j;
    }
    if (this.state?.phase === 'creating') throw new CtcError('CT_HELPER_PROTOCOL', 'the plan ended without starting the container process');
  }

  /**
   * The native launcher ran this plan, failed, and undid everything
   * (native/launcher/apply.c): the error it describes, as this run would
   * have thrown it.
   */
  reported(failure: string): CtcError {
    const [n, what, errno] = failure.split(':');
    const step = this.stepAt(Number(n));
    if (what === 'pid-file') return writeError(tempName(this.opts.pidFile ?? ''), errnoName(Number(errno)));
    if (what === 'interrupted') return new CtcError('CT_INTERRUPTED', `interrupted before step ${step.n}`);
    if (what === 'helper') {
      return new CtcError('CT_HELPER_PROTOCOL', 'ctc-init stopped unexpectedly', {
        step: { n: step.n, kind: step.kind },
        hint: 'the container init died during setup; see the messages above',
      });
    }
    return this.fail(step, errnoName(Number(what)));
  }

  /** CTC_PAUSE_STEP (tests): stop before the step, for good, so a test can kill ctc there. */
  private async pause(step: Step): Promise<never> {
    process.stderr.write(`ctc: paused before step ${step.n} ${step.kind} (CTC_PAUSE_STEP)\n`);
    setInterval(() => undefined, 1 << 30);
    return new Promise<never>(() => undefined);
  }

  private fail(step: Step, errno: string, message?: string): CtcError {
    const injected = this.opts.failStep === step.n;
    return new CtcError('CT_STEP_FAILED', injected ? 'failed as CTC_FAIL_STEP asked' : (message ?? 'failed'), {
      step: { n: step.n, kind: step.kind, subject: subjectOf(step) },
      source: step.source,
      errno,
      hint: injected
        ? 'unset CTC_FAIL_STEP to run normally'
        : hintFor(
            step,
            errno,
            this.steps.some((s) => s.kind === 'user.map'),
          ),
      runtime: step.kind === 'proc.exec' && !injected ? execWords(list(step, 'args')[0], errno) : undefined,
    });
  }

  /** Host steps act synchronously; their undo is journaled first. */
  private host(step: Step): void {
    if (this.opts.failStep === step.n) throw this.fail(step, 'EIO');
    try {
      this.hostAction(step);
    } catch (e) {
      if (e instanceof CtcError) throw e;
      throw this.fail(step, codeOf(e) ?? 'EIO', (e as Error).message);
    }
  }

  private hostAction(step: Step): void {
    switch (step.kind) {
      case 'state.create':
        return createStateDir(step, this.opts.id, this.opts.planText, this.journal);
      case 'cgroup.create':
        return this.rootless ? this.rootlessCgroup(step) : createOwnCgroup(step, this.driver(), this.journal);
      case 'cgroup.limit':
        return this.noCgroup ? this.limitWithoutCgroup(step) : setLimit(step, this.driver());
      case 'cgroup.devices':
        // without a cgroup the user namespace still keeps the devices away: no mknod, only the user's own nodes bound
        return this.noCgroup ? undefined : setDevices(step, this.driver());
      case 'ns.clone':
      case 'image.unpack':
        return; // asynchronous: see clone(), unpack()
      case 'cgroup.join':
        if (this.noCgroup) return;
        return this.driver().join(str(step, 'path'), this.state!.pid);
      case 'proc.oom-score':
        return writeFileSync(`/proc/${this.state!.pid}/oom_score_adj`, String(int(step, 'value')));
      case 'mount.idmap':
        return idmapMount(step, this.state!.pid);
      case 'user.map':
        return writeMaps(this.state!.pid, list(step, 'uid'), list(step, 'gid'));
      case 'state.file':
        return writeStateFile(step, this.stateDir);
      case 'net.bridge':
        this.journal.record({ undo: 'net.bridge.release', step: step.n, name: str(step, 'name'), netns: currentNetns() });
        return makeBridge(step);
      case 'net.ipam':
        return this.ipam(step);
      case 'net.veth':
        this.journal.record({
          undo: 'net.link.remove',
          step: step.n,
          name: str(step, 'host'),
          alias: vethAlias(this.opts.id),
          netns: currentNetns(),
        });
        return makeVeth(step, this.state!.pid, this.opts.id);
      case 'net.publish':
        this.journal.record({ undo: 'net.unpublish', step: step.n, table: str(step, 'table'), id: this.opts.id, netns: currentNetns() });
        return publish(step, this.opts.id);
      case 'hook.run':
        return this.hook(step);
    }
    throw this.fail(step, 'EINVAL', `${step.kind} is not a host step`);
  }

  /**
   * A hook runs now, or is journaled to run when the container is deleted
   * (poststop), or, for a container created apart from its start, is left
   * to `ctc start` (startContainer, poststart).
   */
  private hook(step: Step): void {
    const hook = hookOf(step);
    if (hook.when === 'poststop') return this.journal.record({ undo: 'hook.poststop', step: step.n, dir: this.stateDir, hook });
    if (this.opts.mode === 'create' && atStart(hook.when)) return;
    // poststart: once the process runs, not only once the init is about to exec it
    if (hook.when === 'poststart') waitExec(this.state!.pid, this.state!.initStartTime);
    runHookStep(step, this.state!, 'the container is stopped and undone, as the runtime spec asks of a failing hook');
  }

  /**
   * Rootless: a cgroup where the user may make one (a delegated subtree);
   * otherwise none, said once. Without a cgroup, limits are an error unless
   * CTC_ROOTLESS_CGROUPS=skip says to run without them.
   */
  private rootlessCgroup(step: Step): void {
    const path = str(step, 'path');
    this.journal.record({ undo: 'cgroup.remove', step: step.n, path });
    try {
      createCgroup(this.driver(), path);
    } catch (e) {
      if (!['EACCES', 'EPERM', 'EROFS', 'ENOENT'].includes(codeOf(e) ?? '')) throw e;
      this.noCgroup = true;
      process.stderr.write(
        `ctc: warning: no cgroup for the container: ${path} cannot be made by uid ${process.getuid!()} (${codeOf(e)}); it runs in ctc's own, and a cgroup mount is left out\n`,
      );
    }
  }

  private limitWithoutCgroup(step: Step): void {
    if (process.env.CTC_ROOTLESS_CGROUPS === 'skip') return;
    throw new CtcError('CT_ROOTLESS_CGROUP', `the plan sets ${str(step, 'key')}, but this user has no cgroup to set it in`, {
      step: { n: step.n, kind: step.kind, subject: subjectOf(step) },
      source: step.source,
      hint: 'delegate a cgroup subtree to the user (systemd: Delegate=yes), or set CTC_ROOTLESS_CGROUPS=skip to run without the limits',
    });
  }

  /** addresses: 'auto': claim one address per subnet, and put them into the steps that name them. */
  private ipam(step: Step): void {
    const dev = str(step, 'dev');
    const given = new Map<string, string>();
    for (const subnet of list(step, 'subnets')) {
      const claim = claimAddress(this.opts.root, str(step, 'bridge'), subnet, this.opts.id, (file) =>
        this.journal.record({ undo: 'net.ipam.release', step: step.n, file, id: this.opts.id }),
      );
      given.set(`{ipv${claim.family}:${dev}}`, claim.address);
    }
    for (let i = 0; i < this.steps.length; i++) if (this.steps[i].n > step.n) this.steps[i] = fillAddresses(this.steps[i], given);
  }

  /** image.unpack: the image in the cache; a relative archive is the plan's folder's. A cache: nothing to undo. */
  private async unpack(step: Step): Promise<void> {
    const { unpackImage } = await import('../host/image-unpack.ts');
    const archive = resolve(this.opts.planDir ?? '.', str(step, 'archive'));
    try {
      await unpackImage(archive, { cacheRoot: this.opts.root, digest: str(step, 'digest'), progress: process.stderr });
    } catch (e) {
      if (!(e instanceof CtcError)) throw this.fail(step, codeOf(e) ?? 'EIO', (e as Error).message);
      throw new CtcError(e.code, e.message, {
        step: { n: step.n, kind: step.kind, subject: archive },
        source: step.source,
        errno: e.errno,
        hint: e.hint,
      });
    }
  }

  /** Ops this run adds to the plan's: the monitor's mode, the exec fifo, the console socket. */
  private extras(cloneStep: Step): Extras {
    const inits = this.steps.filter((s) => actorOf(s.kind) === 'init');
    const first = inits[0]?.n ?? cloneStep.n;
    const exec = inits.find((s) => s.kind === 'proc.exec')?.n ?? 0;
    const tty = this.wantsTty;
    const before = new Map<number, ReturnType<typeof op>[]>();
    const add = (n: number, o: ReturnType<typeof op>) => before.set(n, [...(before.get(n) ?? []), o]);
    if (this.opts.consoleSocket) add(first, op(Op.CONSOLE_CONNECT, strArg(this.opts.consoleSocket)));
    // -t on a plan without a terminal: the process gets one all the same, as with docker run -t,
    // where lowering puts proc.tty: before the process steps (the seccomp filter would refuse
    // the /dev/console bind mount).
    const ttyAt = inits.find((s) => s.kind.startsWith('proc.') && s.kind !== 'proc.sysctl')?.n ?? exec;
    if (this.opts.tty && !inits.some((s) => s.kind === 'proc.tty')) add(ttyAt, op(Op.PTY, u64Arg(0), u64Arg(0)));
    if (this.opts.mode === 'create') {
      add(first, op(Op.FIFO_OPEN, strArg(join(this.stateDir, stateFiles.fifo))));
      add(exec, op(Op.WAIT_START));
    }
    const monitor = this.detaching
      ? [
          op(Op.M_DETACH, strArg(join(this.stateDir, stateFiles.exit)), u64Arg(process.ppid)),
          ...(this.logged ? [op(Op.M_LOG, strArg(join(this.stateDir, logName)), u64Arg(logCap()))] : []),
        ]
      : tty && !this.opts.consoleSocket
        ? [op(Op.M_CONSOLE_PROXY)]
        : [];
    return { monitor, before, noPivot: this.opts.noPivot };
  }

  /** ns.clone: start ctc-init with every init step, and wait for the init's pid. */
  private async clone(step: Step): Promise<void> {
    const program = encodeProgram(
      { cloneNs: list(step, 'ns'), spawnStep: step.n, failStep: this.opts.failStep ?? 0 },
      // without a cgroup of its own (rootless) there is no cgroup to show: the mount is left out
      this.steps.filter((s) => actorOf(s.kind) === 'init' && !(this.noCgroup && s.kind === 'mount.cgroup')),
      this.driver().mounts(),
      this.extras(step),
    );
    const helper = Helper.start(program);
    this.helper = helper;
    const m = await helper.next();
    // a pid namespace is joined by the monitor before the clone, and fails at its ns.join step
    if (m?.type === Msg.ERR)
      throw m.step === step.n ? this.fail(step, errnoName(m.value), 'clone failed') : this.fail(this.stepAt(m.step), errnoName(m.value));
    if (m?.type !== Msg.PID) throw await this.helperGone(step);
    const startTime = procStat(m.pid)?.startTime ?? 0;
    this.journal.record({ undo: 'init.kill', step: step.n, pid: m.pid, startTime });
    let monitorPid: number | undefined;
    if (this.detaching) {
      const d = await helper.next();
      if (d?.type !== Msg.DETACHED) throw await this.helperGone(step);
      if (d.value === 0) monitorPid = helper.child.pid;
    }
    this.state = {
      ociVersion: '1.2.0',
      id: this.opts.id,
      phase: 'creating',
      pid: m.pid,
      initStartTime: startTime,
      ...(monitorPid ? { monitorPid, monitorStartTime: procStat(monitorPid)?.startTime } : {}),
      bundle: this.opts.bundle ?? '',
      rootfs: rootfsOf(this.steps),
      created: new Date().toISOString(),
      owner: '',
      annotations: annotationsOf(this.steps),
      cgroupPath: this.steps.find((s) => s.kind === 'cgroup.create')?.args.path as string,
      namespaces: namespacesOf(this.steps),
      ...(this.opts.mode === 'create' && this.steps.some((s) => s.kind === 'hook.run' && atStart(str(s, 'when')))
        ? { startHooks: true }
        : {}),
    };
    writeState(this.stateDir, this.state);
    if (!this.detaching) this.forwardSignals();
  }

  /** Runs init steps from `first` up to (not including) step `until` (0: to the end). */
  private async runInit(first: Step, until: number): Promise<void> {
    const helper = this.helper;
    if (!helper) throw this.fail(first, 'EINVAL', 'an init step comes before ns.clone');
    helper.go(until);
    for (;;) {
      const m = await helper.next();
      switch (m?.type) {
        case Msg.ACK:
          continue;
        case Msg.ERR:
          throw this.fail(this.stepAt(m.step), errnoName(m.value));
        case Msg.PAUSED:
          return;
        case Msg.WAITING:
          return this.settled('created');
        case Msg.EXEC:
          return this.settled('running');
        default:
          throw await this.helperGone(first, m?.type === Msg.EXIT ? m.value : undefined);
      }
    }
  }

  /** The init is set up: waiting for start, or exec'ing. */
  private settled(phase: 'created' | 'running'): void {
    this.state = { ...this.state!, phase };
    writeState(this.stateDir, this.state);
    if (this.opts.pidFile) writePidFile(this.opts.pidFile, this.state.pid);
    const { source, planText, bundle, id, failStep } = this.opts;
    if (source && !failStep) writeImage({ plan: this.plan, planText, source, id, stateDir: this.stateDir, bundle, driver: this.driver() });
  }

  /** Leaves the container to ctc-init (or the caller) and lets this process exit. */
  detach(): number {
    this.helper?.detach();
    return 0;
  }

  async waitExit(): Promise<number> {
    for (;;) {
      const m = await this.helper!.next();
      if (m === undefined) throw await this.helperGone(this.steps[this.steps.length - 1]);
      if (m.type === Msg.EXIT) {
        await this.helper!.exited;
        await this.undo();
        return m.value;
      }
      if (m.type === Msg.ERR) throw this.fail(this.stepAt(m.step), errnoName(m.value));
    }
  }

  private stepAt(n: number): Step {
    return this.steps.find((s) => s.n === n) ?? this.steps[this.steps.length - 1];
  }

  private async helperGone(step: Step, code?: number): Promise<CtcError> {
    await this.helper?.exited;
    const spawn = this.helper?.spawnError;
    if (spawn) return this.fail(step, spawn.code ?? 'EIO', `cannot start ${helperPath()}`);
    const status = code ?? this.helper?.child.exitCode ?? this.helper?.child.signalCode;
    return new CtcError('CT_HELPER_PROTOCOL', `ctc-init stopped unexpectedly (status ${status})`, {
      step: { n: step.n, kind: step.kind },
      hint: 'the container init died during setup; see the messages above',
    });
  }

  /** Ctrl-C and friends: before the process runs they abort the run; after, they go to the container. */
  private forwardSignals(): void {
    for (const sig of FORWARDED) {
      const handler = () => {
        if (this.state?.phase !== 'running') this.interrupted = sig;
        else if (this.helper?.child.exitCode === null) process.kill(this.state.pid, sig);
      };
      this.forwarders.set(sig, handler);
      process.on(sig, handler);
    }
  }

  stopForwarding(): void {
    for (const [sig, handler] of this.forwarders) process.off(sig, handler);
    this.forwarders.clear();
  }

  /** Undoes the journal in reverse, then lets ctc-init go. */
  async undo(): Promise<void> {
    const entries = this.journal.entries.splice(0);
    try {
      await undoAll(entries, () => this.driver());
    } finally {
      this.helper?.close();
      await this.helper?.exited;
    }
  }
}

const rootfsOf = (steps: Step[]) => {
  const r = steps.find((s) => s.kind === 'rootfs.bind' || s.kind === 'rootfs.tmpfs' || s.kind === 'rootfs.overlay');
  return !r ? '' : r.kind === 'rootfs.overlay' ? `${str(r, 'dir')}/root` : str(r, 'dir');
};

/** state.create's key=value list: the OCI state's annotations. */
const annotationsOf = (steps: Step[]): Record<string, string> => {
  const create = steps.find((s) => s.kind === 'state.create');
  return Object.fromEntries(
    (create ? list(create, 'annotations') : []).map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]),
  );
};

const namespacesOf = (steps: Step[]) => steps.filter((s) => s.kind === 'ns.clone' || s.kind === 'ns.unshare').flatMap((s) => list(s, 'ns'));

function hintFor(step: Step, errno: string, userns = false): string | undefined {
  if (userns && errno === 'EACCES' && /^(rootfs|mount|fs)\./.test(step.kind)) {
    return "in a user namespace the container's root is an unprivileged host user: every directory above this path (the state root's too) must let others through (o+x), as /run/ctc does";
  }
  if (step.kind === 'proc.exec' && errno === 'ENOENT') return `is ${list(step, 'args')[0]} in the container's root and PATH?`;
  if (step.kind === 'cgroup.limit' && errno === 'ENOENT') return 'this host does not offer that controller';
  if (step.kind === 'rootfs.bind' && errno === 'ENOENT') return `does ${str(step, 'dir')} exist?`;
  if (step.kind === 'mount.bind' && errno === 'ENOENT') return `does ${str(step, 'src')} exist on the host?`;
  if (step.kind.startsWith('net.') && errno === 'EPERM' && process.geteuid?.() !== 0)
    return 'making interfaces, bridges or nft rules on the host needs root: a rootless container has lo only, or joins a namespace by path (network: { join })';
  if (step.kind === 'mount.cgroup' && errno === 'ENOENT' && process.geteuid?.() !== 0)
    return 'without a cgroup of its own (rootless) there is none to mount: leave the cgroup mount out (the rootless preset does)';
  if (step.kind === 'net.veth' && errno === 'EEXIST')
    return `a link named ${str(step, 'host')} or ${str(step, 'peer')} exists already (another container's?): give the veth another hostName`;
  if (step.kind === 'net.veth' && errno === 'ENODEV')
    return `is there a bridge ${str(step, 'bridge')}? make it, or let ctc (bridge: { name, create: true })`;
  if (step.kind === 'net.publish' && errno === 'ENOENT') return 'publishing ports needs nft: apt-get install nftables';
  if (step.kind === 'net.route' && (errno === 'ENETUNREACH' || errno === 'EHOSTUNREACH'))
    return "the gateway is not on any subnet of the container's interfaces";
  if (step.kind === 'ns.join') return joinHint(step, errno);
  if (step.kind === 'proc.rlimit' && errno === 'EPERM')
    return 'raising a hard limit needs CAP_SYS_RESOURCE, which this host does not give ctc';
  if (step.kind === 'proc.oom-score' && errno === 'EACCES') return 'lowering the OOM score needs CAP_SYS_RESOURCE';
  // ctc-init's refusals of the runc CVEs' attacks (native/wire.h)
  if (step.kind === 'proc.cwd' && errno === 'EXDEV')
    return "the working directory is outside the container's root (reached through /proc/self/fd or a mount): refused, see CVE-2024-21626";
  if (step.kind === 'proc.sysctl' && errno === 'EXDEV')
    return "the container's /proc/sys is not its procfs: something is mounted over it (refused, see CVE-2025-52881)";
  if (step.kind === 'fs.mask' && errno === 'ENODEV')
    return "the root's /dev/null is not the 1:3 device, so it cannot mask anything (refused, see CVE-2025-31133)";
  if (errno === 'EPERM') return 'the kernel refused; ctc must run as root with all capabilities';
  return undefined;
}

/** Why a namespace could not be entered, by what the kernel answered. */
function joinHint(step: Step, errno: string): string | undefined {
  const [ns, path] = [str(step, 'ns'), str(step, 'path')];
  if (errno === 'ENOENT' || errno === 'ESRCH') {
    return path.startsWith('/proc/')
      ? `${path} is gone: has the process whose namespace it names exited?`
      : `does ${path} exist? (ip netns add NAME makes /var/run/netns/NAME)`;
  }
  if (errno === 'EINVAL')
    return `${path} is not a namespace of the ${ns} kind (a process's is /proc/PID/ns/${ns === 'network' ? 'net' : ns})`;
  if (errno === 'EPERM') return 'a container with a user namespace of its own cannot enter a namespace its user namespace does not own';
  return undefined;
}
