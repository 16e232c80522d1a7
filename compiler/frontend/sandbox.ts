// Runs a project's code (the modules of a .ct.ts source, or of a lint
// plugin, transpiled) in a process of its own that can only compute:
// `ctc-init sandbox` (native/init/sandbox.c) gives it new namespaces, an
// unprivileged uid, a root holding only Node's own files, no network,
// rlimits, a wall clock and the seccomp filter of sandbox-policy.ts; inside,
// the modules run in a fresh V8 context (sandbox-code.ts), which does one
// task. Strings go in, one JSON text comes out, and the caller checks what it
// says (frontend/def.ts, lint/plugins.ts): nothing of user code runs in this
// process, which is root's.

// A default import: the build snapshot loads child_process only at its first use (scripts/build.mjs).
import childProcess from 'node:child_process';
import { existsSync, openSync, readSync, closeSync } from 'node:fs';
import { CtcError } from '../../common/error.ts';
import { helperMissingHint, helperPath } from '../../common/package.ts';
import { NONDETERMINISTIC, evaluator, prelude } from './sandbox-code.ts';
import { sandboxFilterHex } from './sandbox-policy.ts';
import { originalPosition } from './sourcemap.ts';

export interface SandboxModule {
  id: string;
  /** the name used in stack traces */
  filename: string;
  /** CommonJS code */
  code: string;
  /** import specifier → module id */
  deps: Record<string, string>;
}

/** What a sandbox run does (sandbox-code.ts says what each answers). */
export type SandboxTask =
  | { task: 'container'; entry: string }
  | { task: 'lint-describe'; entry: string }
  /** each check: a plan (JSON) and the plugin's rules to run over it, with their options */
  | { task: 'lint-check'; entry: string; checks: { plan: string; rules: { id: string; options: Record<string, unknown> }[] }[] };

/** The code a run is about, for the errors that stop it: 'the source', 'the lint plugin policy.ts'. */
export interface SandboxSubject {
  what: string;
  /** what that code should do instead of looping or allocating */
  hint: string;
}

/** What the sandbox answered for a container: the definition and its origins, or what went wrong. */
export type Evaluated = { def: unknown; origins: [string, string][] } | { error: { code?: string; message?: string; stack?: string } };

/** The limits of one evaluation; each is named in the error that reports it. */
export const sandboxLimits = {
  /** the evaluation itself, promise jobs included (V8's own timeout) */
  seconds: 10,
  /** the whole sandboxed process, from its start (native/init/sandbox.c's clock) */
  wallSeconds: 20,
  cpuSeconds: 20,
  heapMiB: 512,
  dataMiB: 4096,
  /** the answer on stdout */
  answerMiB: 64,
};

const SANDBOX_TIMEOUT = 124;
const SANDBOX_FAILED = 125;
const SIGKILL = 9;
const SIGXCPU = 24;

const containerSubject: SandboxSubject = {
  what: 'the source',
  hint: 'a container source computes a definition; it must not loop or allocate without end',
};

export function evaluateInSandbox(modules: SandboxModule[], entry: string): Evaluated {
  return runInSandbox(modules, { task: 'container', entry }, containerSubject) as Evaluated;
}

/**
 * The task's answer, parsed, for the caller to check; {error: …} for what the
 * code threw. Limits are CT_EVAL_LIMIT, a sandbox that cannot be made CT_SANDBOX.
 */
export function runInSandbox(modules: SandboxModule[], task: SandboxTask, subject: SandboxSubject): unknown {
  const helper = helperPath();
  if (!existsSync(helper)) {
    throw new CtcError('CT_HELPER_MISSING', `the native helper ${helper} is missing`, { hint: helperMissingHint });
  }
  const limit = limitError(subject);
  const input = JSON.stringify({ prelude, modules, task, timeoutMs: sandboxLimits.seconds * 1000 });
  const r = childProcess.spawnSync(helper, sandboxArgv(), {
    input,
    // pipes, never the caller's terminal
    stdio: ['pipe', 'pipe', 'pipe'],
    env: {},
    maxBuffer: sandboxLimits.answerMiB << 20,
    timeout: (sandboxLimits.wallSeconds + 10) * 1000,
    killSignal: 'SIGTERM',
  });
  const stderr = String(r.stderr ?? '');
  if ((r.error as NodeJS.ErrnoException | undefined)?.code === 'ENOBUFS') {
    throw limit(`its answer is larger than ${sandboxLimits.answerMiB} MiB`);
  }
  if (r.error) throw new CtcError('CT_SANDBOX', `cannot start the sandbox: ${r.error.message}`);
  if (r.status !== 0) throw failure(r.status, r.signal, stderr, limit);
  let answer: { error?: { code?: unknown } };
  try {
    answer = JSON.parse(String(r.stdout));
  } catch {
    throw new CtcError('CT_SANDBOX', 'the sandbox gave an answer that is not JSON');
  }
  // V8's timeout, which covers promise jobs: the evaluator's own answer
  if (answer?.error?.code === 'CT_EVAL_LIMIT') throw limit(`it ran for more than ${sandboxLimits.seconds} s (promise jobs included)`);
  return answer;
}

function failure(status: number | null, signal: NodeJS.Signals | null, stderr: string, limit: (what: string) => CtcError): CtcError {
  if (status === SANDBOX_TIMEOUT || signal) return limit(`it ran for more than ${sandboxLimits.wallSeconds} s`);
  if (status === SANDBOX_FAILED) {
    const line = stderr.split('\n').find((l) => l.startsWith('ctc-init: sandbox:')) ?? stderr.trim().split('\n')[0];
    return new CtcError('CT_SANDBOX', `the sandbox for a project's code cannot be made here: ${line.replace(/^ctc-init: sandbox: /, '')}`, {
      hint: "ctc runs a project's code (a .ct.ts, lint plugins) in namespaces of its own, or else under Landlock: it needs user namespaces (sysctl user.max_user_namespaces > 0, kernel.unprivileged_userns_clone = 1 for non-root users) or a kernel with Landlock enabled",
    });
  }
  // V8's own report of its heap limit; the process then dies of SIGABRT or SIGSEGV
  if (/heap out of memory|heap limit/i.test(stderr)) return limit(`it used more than ${sandboxLimits.heapMiB} MiB of heap`);
  if (status === 128 + SIGKILL) return limit('it was killed (out of memory?)');
  if (status === 128 + SIGXCPU) return limit(`it used more than ${sandboxLimits.cpuSeconds} s of CPU`);
  return new CtcError(
    'CT_SANDBOX',
    `the evaluation process failed (exit status ${status}): ${stderr.trim().split('\n').slice(-1)[0] ?? ''}`,
  );
}

const limitError =
  ({ what, hint }: SandboxSubject) =>
  (why: string) =>
    new CtcError('CT_EVAL_LIMIT', `evaluating ${what} was stopped: ${why}`, { hint });

function sandboxArgv(): string[] {
  const l = sandboxLimits;
  return [
    'sandbox',
    ...nodeRuntimeFiles().flatMap((f) => ['--mirror', f]),
    '--filter',
    sandboxFilterHex(),
    '--seconds',
    String(l.wallSeconds),
    '--cpu',
    String(l.cpuSeconds),
    '--data-mib',
    String(l.dataMiB),
    '--',
    process.execPath,
    // no JIT: no writable-executable memory, and a start that is no slower for code this small
    '--jitless',
    '--no-expose-wasm',
    `--max-old-space-size=${l.heapMiB}`,
    '-e',
    evaluator,
  ];
}

let runtimeFiles: string[] | undefined;

/**
 * What Node needs to start in an empty root: its program interpreter, the
 * shared libraries as that loader finds them (`ld.so --list`), its cache,
 * and OpenSSL's config. Node itself is exec'd from an fd opened outside.
 */
export function nodeRuntimeFiles(): string[] {
  if (runtimeFiles) return runtimeFiles;
  const interp = programInterpreter(process.execPath);
  if (!interp) return (runtimeFiles = []); // a static node
  const listed = childProcess.spawnSync(interp, ['--list', process.execPath], { encoding: 'utf8', env: {} });
  const libs = String(listed.stdout ?? '')
    .split('\n')
    .map((l) => /(?:=>\s*)?(\/\S+)\s+\(0x/.exec(l)?.[1])
    .filter((f): f is string => f !== undefined);
  // OpenSSL's config, which Node reads at start: absent is fine, unreadable (Landlock) is fatal
  const etc = ['/etc/ld.so.cache', '/etc/ssl/openssl.cnf'].filter((f) => existsSync(f));
  const files = [...new Set([interp, ...libs, ...etc])];
  return (runtimeFiles = files);
}

const PT_INTERP = 3;

/** The PT_INTERP path of a 64-bit little-endian ELF file, or undefined. */
function programInterpreter(file: string): string | undefined {
  const fd = openSync(file, 'r');
  try {
    const head = Buffer.alloc(64);
    readSync(fd, head, 0, 64, 0);
    if (head.readUInt32BE(0) !== 0x7f454c46 || head[4] !== 2 || head[5] !== 1) return undefined;
    const phoff = Number(head.readBigUInt64LE(32));
    const phentsize = head.readUInt16LE(54);
    const phnum = head.readUInt16LE(56);
    const ph = Buffer.alloc(phentsize * phnum);
    readSync(fd, ph, 0, ph.length, phoff);
    for (let i = 0; i < phnum; i++) {
      const at = i * phentsize;
      if (ph.readUInt32LE(at) !== PT_INTERP) continue;
      const offset = Number(ph.readBigUInt64LE(at + 8));
      const size = Number(ph.readBigUInt64LE(at + 32));
      const text = Buffer.alloc(size);
      readSync(fd, text, 0, size, offset);
      return text.toString('utf8').replace(/\0.*$/s, '');
    }
    return undefined;
  } finally {
    closeSync(fd);
  }
}

/**
 * The source position of the first frame of a stack from the sandbox that is
 * in one of `maps` (module filename → its source map), as `name(file):line:col`.
 */
export function throwSite(stack: string, maps: ReadonlyMap<string, string>, name: (file: string) => string): string | undefined {
  // frames only: the first line is the message, which the code chose
  for (const frame of stack.split('\n').filter((l) => /^\s+at /.test(l))) {
    for (const [file, map] of maps) {
      const escaped = file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
      const hit = new RegExp(`(?:^|[\\s(])${escaped}:(\\d+):(\\d+)`).exec(frame);
      if (!hit) continue;
      const pos = originalPosition(map, Number(hit[1]), Number(hit[2]));
      return pos ? `${name(file)}:${pos.line}:${pos.column}` : name(file);
    }
  }
  return undefined;
}

/** Whether an error thrown in the sandbox was one of its refusals. */
export function refusal(message: string): 'CT_NONDETERMINISTIC' | 'CT_IMPORT' | 'CT_SHAPE' | undefined {
  if (message.startsWith(NONDETERMINISTIC)) return 'CT_NONDETERMINISTIC';
  if (message.startsWith('CT_IMPORT')) return 'CT_IMPORT';
  if (message.startsWith('CT_SHAPE')) return 'CT_SHAPE';
  return undefined;
}
