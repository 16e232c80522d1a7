// Applies a plan: host steps here, runs of init steps through ctc-init, each
// host change journaled before it is made. On any failure, and after the
// container exits, the journal is undone in reverse, so the host is left as
// it was found.

import { join } from 'node:path';
import { CtcError } from '../compiler/error.ts';
import { type Plan, type Step, actorOf, list, str, subjectOf } from '../compiler/plan/steps.ts';
import { type CgroupDriver, detectCgroups, isLimitKey } from './cgroups/index.ts';
import { codeOf, errnoName } from './errno.ts';
import { Helper } from './helper.ts';
import { Journal, type Undo } from './journal.ts';
import { fillStep } from './placeholders.ts';
import { type ContainerState, assertNoState, createStateDir, removeStateDir, writeState } from './state.ts';
import { encodeProgram, Msg } from './wire.ts';

export interface RunOptions {
  id: string;
  /** the state root, /run/ctc by default */
  root: string;
  /** CTC_FAIL_STEP: this step fails with EIO before it acts */
  failStep?: number;
  /** recorded as the OCI state's bundle */
  bundle?: string;
}

const FORWARDED = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT'] as const;

/** Runs the plan in the foreground; resolves to the container's exit code. */
export async function runPlan(plan: Plan, opts: RunOptions): Promise<number> {
  if (process.getuid?.() !== 0) throw new CtcError('CT_NOT_ROOT', 'ctc run needs root', { hint: 'rootless containers are not supported yet' });
  const run = new Run(plan, opts);
  try {
    await run.apply();
    return await run.waitExit();
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
  private helper?: Helper;
  private initPid = 0;
  private execd = false;
  private interrupted?: string;
  private readonly forwarders = new Map<string, () => void>();

  constructor(
    plan: Plan,
    private readonly opts: RunOptions,
  ) {
    this.stateDir = join(opts.root, opts.id);
    this.steps = plan.steps.map((s) => fillStep(s, { id: opts.id, state: this.stateDir }));
  }

  async apply(): Promise<void> {
    for (let i = 0; i < this.steps.length; ) {
      const step = this.steps[i];
      if (this.interrupted) throw new CtcError('CT_INTERRUPTED', `interrupted by ${this.interrupted} before step ${step.n}`);
      if (actorOf(step.kind) === 'host') {
        this.host(step);
        await this.afterHost(step);
        i++;
        continue;
      }
      let j = i;
      while (j < this.steps.length && actorOf(this.steps[j].kind) === 'init') j++;
      await this.runInit(step, j < this.steps.length ? this.steps[j].n : 0);
      i = j;
    }
    if (!this.execd) throw new CtcError('CT_HELPER_PROTOCOL', 'the plan ended without starting the container process');
  }

  private fail(step: Step, errno: string, message?: string): CtcError {
    const injected = this.opts.failStep === step.n;
    return new CtcError('CT_STEP_FAILED', injected ? 'failed as CTC_FAIL_STEP asked' : (message ?? `failed`), {
      step: { n: step.n, kind: step.kind, subject: subjectOf(step) },
      source: step.source,
      errno,
      hint: injected ? 'unset CTC_FAIL_STEP to run normally' : hintFor(step, errno),
    });
  }

  private record(undo: Undo): void {
    this.journal.record(undo);
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
      case 'state.create': {
        const dir = str(step, 'dir');
        assertNoState(dir, this.opts.id); // before anything is journaled: it is not ours to undo
        this.record({ undo: 'state.remove', step: step.n, dir });
        createStateDir(dir, this.opts.id);
        this.journal.attach(dir);
        return;
      }
      case 'cgroup.create': {
        const path = str(step, 'path');
        this.cgroups ??= detectCgroups();
        if (this.cgroups.exists(path)) {
          throw new CtcError('CT_CGROUP_EXISTS', `the cgroup ${path} already exists`, { step: { n: step.n, kind: step.kind, subject: path } });
        }
        this.record({ undo: 'cgroup.remove', step: step.n, path });
        this.cgroups.create(path);
        return;
      }
      case 'cgroup.limit': {
        const key = str(step, 'key');
        if (!isLimitKey(key)) throw this.fail(step, 'EINVAL', `unknown limit ${key}`);
        this.cgroups!.limit(str(step, 'path'), key, str(step, 'value'));
        return;
      }
      case 'ns.clone':
        return; // asynchronous: see afterHost
      case 'cgroup.join':
        this.cgroups!.join(str(step, 'path'), this.initPid);
        return;
    }
    throw this.fail(step, 'EINVAL', `${step.kind} is not a host step`);
  }

  /** The clone: start ctc-init with every init step, and wait for the init's pid. */
  private async afterHost(step: Step): Promise<void> {
    if (step.kind !== 'ns.clone') return;
    this.cgroups ??= detectCgroups();
    const program = encodeProgram(
      { cloneNs: list(step, 'ns'), spawnStep: step.n, failStep: this.opts.failStep ?? 0 },
      this.steps.filter((s) => actorOf(s.kind) === 'init'),
      this.cgroups.mounts(),
    );
    const helper = Helper.start(program);
    this.helper = helper;
    const m = await helper.next();
    if (m?.type === Msg.ERR) throw this.fail(step, errnoName(m.value), 'clone failed');
    if (m?.type !== Msg.PID) throw await this.helperGone(step);
    this.initPid = m.pid;
    this.record({ undo: 'init.kill', step: step.n, pid: m.pid });
    this.writeState('creating');
    this.forwardSignals();
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
        case Msg.EXEC:
          this.execd = true;
          this.writeState('running');
          return;
        default:
          throw await this.helperGone(first, m?.type === Msg.EXIT ? m.value : undefined);
      }
    }
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
    const status = code ?? this.helper?.child.exitCode ?? this.helper?.child.signalCode;
    return new CtcError('CT_HELPER_PROTOCOL', `ctc-init stopped unexpectedly (status ${status})`, {
      step: { n: step.n, kind: step.kind },
      hint: 'the container init died during setup; see the messages above',
    });
  }

  private writeState(status: ContainerState['status']): void {
    writeState(this.stateDir, {
      ociVersion: '1.2.0',
      id: this.opts.id,
      status,
      pid: this.initPid,
      bundle: this.opts.bundle ?? '',
      created: new Date().toISOString(),
    });
  }

  /** Ctrl-C and friends: before the process runs they abort the run; after, they go to the container. */
  private forwardSignals(): void {
    for (const sig of FORWARDED) {
      const handler = () => {
        if (!this.execd) this.interrupted = sig;
        else if (this.helper?.child.exitCode === null) process.kill(this.initPid, sig);
      };
      this.forwarders.set(sig, handler);
      process.on(sig, handler);
    }
  }

  stopForwarding(): void {
    for (const [sig, handler] of this.forwarders) process.off(sig, handler);
    this.forwarders.clear();
  }

  /** Undoes the journal in reverse. Every undo is attempted; failures are reported together. */
  async undo(): Promise<void> {
    const failures: string[] = [];
    for (const entry of [...this.journal.entries].reverse()) {
      try {
        await this.undoOne(entry);
      } catch (e) {
        failures.push(`undo of step ${entry.step} (${entry.undo}): ${(e as Error).message}`);
      }
    }
    this.journal.entries.length = 0;
    if (failures.length) {
      throw new CtcError('CT_ROLLBACK', `could not undo everything:\n  ${failures.join('\n  ')}`, {
        hint: 'what is listed is still on the host; remove it by hand',
      });
    }
  }

  private async undoOne(entry: Undo): Promise<void> {
    switch (entry.undo) {
      case 'init.kill':
        // Only while ctc-init lives: it has not reaped the init, so the pid cannot be reused yet.
        if (this.helper && this.helper.child.exitCode === null && this.helper.child.signalCode === null) {
          try {
            process.kill(entry.pid, 'SIGKILL');
          } catch (e) {
            if (codeOf(e) !== 'ESRCH') throw e;
          }
        }
        this.helper?.close();
        await this.helper?.exited;
        return;
      case 'cgroup.remove':
        return this.cgroups?.remove(entry.path);
      case 'state.remove':
        return removeStateDir(entry.dir);
    }
  }
}

function hintFor(step: Step, errno: string): string | undefined {
  if (step.kind === 'proc.exec' && errno === 'ENOENT') return `is ${list(step, 'args')[0]} in the container's root and PATH?`;
  if (step.kind === 'cgroup.limit' && errno === 'ENOENT') return 'this host does not offer that controller';
  if (step.kind === 'rootfs.bind' && errno === 'ENOENT') return `does ${str(step, 'dir')} exist?`;
  if (step.kind === 'mount.bind' && errno === 'ENOENT') return `does ${str(step, 'src')} exist on the host?`;
  if (errno === 'EPERM') return 'the kernel refused; ctc must run as root with all capabilities';
  return undefined;
}
