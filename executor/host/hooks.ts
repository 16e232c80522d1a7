// OCI hooks: a program run at a moment of the container's life, with the
// container's state as JSON on stdin. Those of the runtime namespace are
// spawned here; createContainer and startContainer run in the container's
// namespaces through `ctc-init hook`, which joins the init's and forks the
// hook there. Whether a failure stops the container is the caller's: the
// runtime spec makes poststart and poststop failures warnings only.

import { spawnSync } from 'node:child_process';
import { readlinkSync } from 'node:fs';
import { CtcError } from '../../common/error.ts';
import { type Step, int, list, str, subjectOf } from '../../plan/steps.ts';
import { helperPath } from '../native-bridge/helper.ts';
import { isAlive } from '../container/proc.ts';
import type { ContainerState } from '../container/state.ts';

export interface HookSpec {
  when: string;
  path: string;
  /** the whole argv */
  args: string[];
  env: string[];
  /** seconds; 0: none */
  timeout: number;
}

/** The state a hook reads on stdin (runtime-spec, "State"). */
export interface HookState {
  ociVersion: string;
  id: string;
  status: string;
  pid: number;
  bundle: string;
  annotations: Record<string, string>;
}

export const hookOf = (step: Step): HookSpec => ({
  when: str(step, 'when'),
  path: str(step, 'path'),
  args: list(step, 'args'),
  env: list(step, 'env'),
  timeout: step.args.timeout === undefined ? 0 : int(step, 'timeout'),
});

/** The container's status as each moment's hooks see it. */
export const hookStatus = (when: string): string =>
  ({ startContainer: 'created', poststart: 'running', poststop: 'stopped' })[when] ?? 'creating';

/** A failure of these is a warning: the container goes on (or is gone already). */
export const warnsOnly = (when: string) => when === 'poststart' || when === 'poststop';

/** Run at `ctc start` when the container was created apart from its start. */
export const atStart = (when: string) => when === 'startContainer' || when === 'poststart';

const inContainer = (when: string) => when === 'createContainer' || when === 'startContainer';

/** The state a hook reads, from ctc's own. */
export const hookStateOf = (s: ContainerState, when: string): HookState => ({
  ociVersion: s.ociVersion,
  id: s.id,
  status: hookStatus(when),
  pid: s.pid,
  bundle: s.bundle,
  annotations: s.annotations,
});

/** Runs the hook and waits for it; returns why it failed, or undefined. */
export function runHook(hook: HookSpec, state: HookState): string | undefined {
  const [file, argv, argv0] = inContainer(hook.when)
    ? [helperPath(), ['hook', String(state.pid), hook.path, ...hook.args], undefined]
    : [hook.path, hook.args.slice(1), hook.args[0]];
  const r = spawnSync(file, argv, {
    argv0,
    env: Object.fromEntries(hook.env.map((e) => [e.slice(0, e.indexOf('=')), e.slice(e.indexOf('=') + 1)])),
    input: JSON.stringify(state),
    stdio: 'pipe',
    timeout: hook.timeout * 1000 || undefined,
    killSignal: 'SIGKILL',
    maxBuffer: 1 << 20,
  });
  const err = r.error as NodeJS.ErrnoException | undefined;
  const said = String(r.stderr ?? '')
    .trim()
    .split('\n')
    .slice(-5)
    .join('\n  ');
  const why =
    err?.code === 'ETIMEDOUT'
      ? `did not finish within ${hook.timeout} s (killed)`
      : err
        ? `could not be started: ${err.code ?? err.message}`
        : r.signal
          ? `was killed by ${r.signal}`
          : r.status !== 0
            ? `exited with status ${r.status}`
            : undefined;
  return why && `the ${hook.when} hook ${hook.path} ${why}${said ? `:\n  ${said}` : ''}`;
}

/**
 * Runs a hook step: a failure is a warning (poststart, poststop) or the
 * error that stops the container (hint: what happens to it then).
 */
export function runHookStep(step: Step, state: ContainerState, hint: string): void {
  const hook = hookOf(step);
  const failure = runHook(hook, hookStateOf(state, hook.when));
  if (!failure) return;
  if (warnsOnly(hook.when)) return void process.stderr.write(`ctc: warning: ${failure}\n`);
  throw new CtcError('CT_HOOK_FAILED', failure, {
    step: { n: step.n, kind: step.kind, subject: subjectOf(step) },
    source: step.source,
    hint,
  });
}

/**
 * Waits (up to 5 s) until the init has exec'd the container's process (its
 * executable is no longer ctc-init's sealed copy) or has ended: a short
 * process may be done before its poststart hooks run.
 */
export function waitExec(pid: number, startTime: number): void {
  const end = Date.now() + 5000;
  const pause = new Int32Array(new SharedArrayBuffer(4));
  while (Date.now() < end && isAlive(pid, startTime)) {
    let exe = '';
    try {
      exe = readlinkSync(`/proc/${pid}/exe`);
    } catch {
      // between the exec's steps the link may not read: look again
    }
    if (exe && !exe.startsWith('/memfd:ctc-init')) return;
    Atomics.wait(pause, 0, 0, 2);
  }
}
