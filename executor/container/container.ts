// The programmatic API, shaped like libcontainer's: a factory that creates
// and loads containers by id under a state root, and a Container with its
// status, state, processes and lifecycle operations. The CLI only parses
// arguments and calls this.

import { closeSync, existsSync, openSync, readdirSync, readFileSync, statSync, unlinkSync, writeSync, constants } from 'node:fs';
import { dirname, join } from 'node:path';
import { CtcError } from '../../common/error.ts';
import { type Plan, type Step, str } from '../../plan/steps.ts';
import { parsePlan } from '../../plan/text.ts';
import { type RunOptions, runPlan } from '../run/apply.ts';
import { type CgroupDriver, detectCgroups } from '../host/cgroups/index.ts';
import { CgroupV2 } from '../host/cgroups/v2.ts';
import { codeOf } from '../../common/errno.ts';
import { atStart, runHookStep, waitExec } from '../host/hooks.ts';
import { readJournal } from '../run/journal.ts';
import { isAlive, waitGone } from './proc.ts';
import { type ContainerState, type Status, checkStateRoot, readState, removeStateDir, stateFiles } from './state.ts';
import { undoAll } from '../run/undo.ts';

/** runc's rule for ids, with a length limit so a path can hold them. */
const ID = /^[A-Za-z0-9_.-]{1,1024}$/;

export function checkId(id: string): void {
  if (!ID.test(id) || id === '.' || id === '..') {
    throw new CtcError('CT_ID', `'${id.slice(0, 80)}' is not a valid container id`, {
      hint: 'ids are 1 to 1024 letters, digits, and _ - .',
    });
  }
}

/** The OCI state, as `ctc state` prints it. */
export interface OciState {
  ociVersion: string;
  id: string;
  status: Status;
  pid: number;
  bundle: string;
  rootfs: string;
  created: string;
  owner: string;
  annotations?: Record<string, string>;
}

export class Factory {
  /** Every container command goes through here: a root ctc may not trust is refused before anything is read from it. */
  constructor(readonly root: string) {
    checkStateRoot(root);
  }

  /** Creates (or runs) a container from a plan: see RunOptions for the modes. */
  async create(id: string, plan: Plan, opts: Omit<RunOptions, 'id' | 'root'>): Promise<number> {
    checkId(id);
    return runPlan(plan, { ...opts, id, root: this.root });
  }

  load(id: string): Container {
    checkId(id);
    const dir = join(this.root, id);
    if (!existsSync(dir)) throw new CtcError('CT_NOT_FOUND', `no container ${id} in ${this.root}`, { runtime: 'container does not exist' });
    return new Container(id, dir, readState(dir));
  }

  /** Every container under the root, oldest first. */
  list(): Container[] {
    let ids: string[];
    try {
      ids = readdirSync(this.root);
    } catch {
      return [];
    }
    return ids
      .filter((id) => ID.test(id))
      .map((id) => new Container(id, join(this.root, id), readState(join(this.root, id))))
      .sort((a, b) => (a.state?.created ?? '').localeCompare(b.state?.created ?? ''));
  }
}

/** runc 1.1's words for a command its container's status refuses (libcontainer's errors, start.go). */
function runcRefusal(action: string, status: Status): string {
  if (action === 'resume') return 'container not paused';
  if (action !== 'start') return 'container not running';
  if (status === 'stopped') return 'cannot start a container that has stopped';
  return status === 'running' ? 'cannot start an already running container' : `cannot start a container in the ${status} state`;
}

export class Container {
  private driverCache?: CgroupDriver;

  constructor(
    readonly id: string,
    readonly dir: string,
    /** undefined while the state is not written yet (early in create) */
    readonly state: ContainerState | undefined,
  ) {}

  private get cgroups(): CgroupDriver {
    return (this.driverCache ??= detectCgroups());
  }

  get pid(): number {
    return this.state?.pid ?? 0;
  }

  private initAlive(): boolean {
    return this.state !== undefined && isAlive(this.state.pid, this.state.initStartTime);
  }

  status(): Status {
    const s = this.state;
    if (!s) return 'creating';
    if (!this.initAlive()) return 'stopped';
    if (s.phase === 'creating') return 'creating';
    if (existsSync(join(this.dir, stateFiles.fifo))) return 'created';
    if (this.cgroups.isFrozen(s.cgroupPath)) return 'paused';
    return 'running';
  }

  ociState(): OciState {
    const s = this.state;
    const status = this.status();
    return {
      ociVersion: s?.ociVersion ?? '1.2.0',
      id: this.id,
      pid: status === 'stopped' ? 0 : this.pid,
      status,
      bundle: s?.bundle ?? '',
      rootfs: s?.rootfs ?? '',
      created: s?.created ?? '',
      owner: s?.owner ?? '',
      ...(s && Object.keys(s.annotations).length ? { annotations: s.annotations } : {}),
    };
  }

  /** Stopped, and a monitor that stayed is gone too: it writes the last of the log before it goes. */
  finished(): boolean {
    const s = this.state;
    return this.status() === 'stopped' && !(s?.monitorPid && isAlive(s.monitorPid, s.monitorStartTime));
  }

  /** The exit status a staying monitor recorded, once the container has stopped. */
  exitStatus(): number | undefined {
    try {
      return Number(readFileSync(join(this.dir, stateFiles.exit), 'utf8').trim());
    } catch {
      return undefined;
    }
  }

  plan(): string {
    return readFileSync(join(this.dir, stateFiles.plan), 'utf8');
  }

  /**
   * Nothing will ever finish this container (`ctc gc`): its create stopped
   * halfway (ctc was killed: no init, or an init that never started its
   * process), or it ended with no one there to record it (its monitor died,
   * so there is no exit status). A dir without state.json is taken only once
   * older than minAge: a create in progress writes it within milliseconds.
   * A stopped container with its exit status recorded is not garbage: it
   * waits for `delete`, as runc's do.
   */
  abandoned(minAgeMs: number): boolean {
    const s = this.state;
    if (!s) return Date.now() - statSync(this.dir).mtimeMs >= minAgeMs;
    if (this.initAlive()) return false;
    if (s.phase === 'creating') return true;
    const monitorGone = s.monitorPid !== undefined && !isAlive(s.monitorPid, s.monitorStartTime);
    return monitorGone && this.exitStatus() === undefined;
  }

  private need(allowed: Status[], action: string): Status {
    const status = this.status();
    if (!allowed.includes(status)) {
      throw new CtcError('CT_BAD_STATE', `cannot ${action} container ${this.id}: it is ${status}`, {
        hint: `${action} needs a container that is ${allowed.join(' or ')}`,
        runtime: runcRefusal(action, status),
      });
    }
    return status;
  }

  /**
   * Releases an init waiting on the exec fifo: it execs the container's
   * process. The startContainer hooks run first (one failing stops the
   * container), the poststart hooks once the process runs.
   */
  start(): void {
    this.need(['created'], 'start');
    const hooks = this.state!.startHooks ? this.startHooks() : [];
    for (const step of hooks.filter((s) => str(s, 'when') === 'startContainer')) this.runStartHook(step);
    const fifo = join(this.dir, stateFiles.fifo);
    let fd: number;
    try {
      // O_NONBLOCK: fails with ENXIO instead of hanging if nobody waits on the fifo.
      fd = openSync(fifo, constants.O_WRONLY | constants.O_NONBLOCK);
    } catch (e) {
      throw new CtcError('CT_BAD_STATE', `container ${this.id} is not waiting to start`, { errno: codeOf(e) });
    }
    try {
      writeSync(fd, Buffer.from([0]));
    } finally {
      closeSync(fd);
    }
    unlinkSync(fifo);
    const poststart = hooks.filter((s) => str(s, 'when') === 'poststart');
    if (poststart.length) waitExec(this.pid, this.state!.initStartTime);
    poststart.forEach((s) => this.runStartHook(s));
  }

  /** The hook steps of the plan that `start` runs. */
  private startHooks(): Step[] {
    return parsePlan(this.plan()).steps.filter((s) => s.kind === 'hook.run' && atStart(str(s, 'when')));
  }

  private runStartHook(step: Step): void {
    try {
      runHookStep(step, this.state!, `the container is stopped; remove it with \`ctc delete ${this.id}\``);
    } catch (e) {
      this.signal('SIGKILL'); // the runtime spec: a failing startContainer hook stops the container
      throw e;
    }
  }

  /** Sends a signal to the init, or with all to every process in the container's cgroup. */
  signal(signal: NodeJS.Signals | number, all = false): void {
    // As runc's, --all also reaches what a stopped init left in its cgroup (a container without a pid
    // namespace of its own): containerd's shim sends it after such an init exits.
    if (!(all && this.status() === 'stopped')) this.need(['created', 'running', 'paused'], 'signal');
    const kill = signal === 'SIGKILL' || signal === 9;
    // v2 kills a whole cgroup at once, with no race against forks (cgroup.kill).
    if (all && kill && this.cgroups instanceof CgroupV2 && this.cgroups.killAll(this.state!.cgroupPath)) return;
    const pids = all ? this.processes() : [this.pid];
    for (const pid of pids) {
      try {
        process.kill(pid, signal);
      } catch (e) {
        if (codeOf(e) !== 'ESRCH') throw new CtcError('CT_BAD_STATE', `cannot signal pid ${pid}`, { errno: codeOf(e) });
      }
    }
    // A frozen process keeps a SIGKILL pending until it is thawed.
    if (kill && this.cgroups.isFrozen(this.state!.cgroupPath)) void this.cgroups.thaw(this.state!.cgroupPath);
  }

  /**
   * docker's and podman's stop: the stop signal to the init, then SIGKILL to
   * every process once graceMs has passed (a pid 1 without a handler ignores
   * the signal); done when the init is gone. A stopped container is left as
   * it is; a paused one is thawed first, so the signal can be handled.
   */
  async stop(signal: NodeJS.Signals | number, graceMs: number): Promise<void> {
    const status = this.status();
    if (status === 'stopped') return;
    if (status === 'paused') await this.resume();
    this.signal(signal);
    if (await this.stoppedWithin(graceMs)) return;
    this.signal('SIGKILL', true);
    if (!(await this.stoppedWithin(10_000)))
      throw new CtcError('CT_BAD_STATE', `container ${this.id} is still running 10 s after SIGKILL`, {
        hint: 'a process in uninterruptible sleep (D) cannot die until its I/O ends: see ctc ps',
      });
  }

  private async stoppedWithin(ms: number): Promise<boolean> {
    for (const end = Date.now() + ms; this.status() !== 'stopped'; ) {
      if (Date.now() >= end) return false;
      await new Promise((r) => setTimeout(r, 20));
    }
    return true;
  }

  processes(): number[] {
    return this.state ? this.cgroups.pids(this.state.cgroupPath) : [];
  }

  async pause(): Promise<void> {
    this.need(['running', 'created'], 'pause');
    await this.cgroups.freeze(this.state!.cgroupPath);
  }

  async resume(): Promise<void> {
    this.need(['paused'], 'resume');
    await this.cgroups.thaw(this.state!.cgroupPath);
  }

  /**
   * Removes the container: a stopped (or created) one always, a running,
   * paused or half-created one only with force. Kills what is left and undoes
   * the journal, as a failed run would have.
   */
  async destroy(force = false): Promise<void> {
    const status = this.status();
    if (!force && !['stopped', 'created'].includes(status)) {
      throw new CtcError('CT_BAD_STATE', `cannot delete container ${this.id} that is not stopped: it is ${status}`, {
        hint: 'stop it with `ctc stop` (the stop signal, then SIGKILL), or use `ctc delete --force`',
      });
    }
    // Checked before anything is done: a journal the check refuses leaves the container as it is.
    const entries = readJournal(dirname(this.dir), this.id);
    const s = this.state;
    if (s && this.initAlive()) {
      await this.cgroups.thaw(s.cgroupPath);
      this.signal('SIGKILL');
      if (!(await waitGone(s.pid, s.initStartTime))) throw new CtcError('CT_ROLLBACK', `the init (pid ${s.pid}) did not die after SIGKILL`);
    }
    // A monitor that stayed records the exit status as the init dies: let it finish before the dir goes.
    if (s?.monitorPid) await waitGone(s.monitorPid, s.monitorStartTime, 2000);
    await undoAll(entries, () => this.cgroups);
    if (entries.length === 0) removeStateDir(this.dir); // a state dir whose journal was lost
  }
}
