// Shared by the tests: running the built CLI, temp dirs, host snapshots.

import { spawn, spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { packageRoot } from '../common/package.ts';

export const root = packageRoot();
export const cli = join(root, 'dist', 'ctc.mjs');
export const example = (name: string) => join(root, 'examples', name);

export interface Ran {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `ctc ...args` to completion. */
export function ctc(args: string[], opts: { env?: Record<string, string>; cwd?: string; input?: string } = {}): Ran {
  const r: SpawnSyncReturns<string> = spawnSync(process.execPath, [cli, ...args], {
    encoding: 'utf8',
    cwd: opts.cwd ?? root,
    env: { ...process.env, ...opts.env },
    input: opts.input ?? '',
    timeout: 60_000,
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Starts `ctc ...args` and leaves it running; stdin is a pipe. */
export function ctcAsync(args: string[], opts: { env?: Record<string, string> } = {}) {
  const child = spawn(process.execPath, [cli, ...args], {
    cwd: root,
    env: { ...process.env, ...opts.env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  const done = new Promise<Ran>((resolve) => child.on('close', (status) => resolve({ status, stdout, stderr })));
  return { child, done, out: () => stdout };
}

/**
 * Starts `command` (a ctc run with CTC_PAUSE_STEP=n in env), waits until ctc
 * says it paused before step n, then kills it outright (SIGKILL). command[0]
 * must become ctc itself (nsenter and setpriv exec it), so the kill is ctc's.
 */
export async function killedBefore(command: string[], env: Record<string, string>, n: number): Promise<void> {
  const child = spawn(command[0], command.slice(1), {
    cwd: root,
    env: { ...process.env, ...env, CTC_PAUSE_STEP: String(n) },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  const exited = new Promise((resolve) => child.on('close', resolve));
  await until(() => stderr.includes(`paused before step ${n} `) || child.exitCode !== null, `ctc to pause before step ${n}`);
  if (!stderr.includes(`paused before step ${n} `)) throw new Error(`ctc did not pause before step ${n}: ${stderr}`);
  child.kill('SIGKILL');
  await exited;
}

export async function until(cond: () => boolean, what: string, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

export function tempDir(prefix = 'ctc-test-'): { dir: string; remove: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** The host's mounts (root, mount point, options), sorted: compared before and after a test. */
export const mountTable = () =>
  readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((l) => l.split(' ').slice(3, 6).join(' '))
    .sort();

/**
 * `ctc run -d --bundle DIR ID` through the launcher (env may send it to the
 * CLI: CTC_NATIVE=0); ctc's output to a file in logDir (the container's
 * goes to its log, `ctc logs`; a terminal container's stays with its caller).
 */
export function runDetached(stateRoot: string, logDir: string, dir: string, id: string, env: Record<string, string> = {}): Ran {
  const log = join(logDir, `${id}.log`);
  const fd = openSync(log, 'w');
  try {
    const r = spawnSync(join(root, 'dist', 'ctc'), ['--root', stateRoot, 'run', '-d', '--bundle', dir, id], {
      cwd: root,
      stdio: ['ignore', fd, fd],
      env: { ...process.env, CTC_NODE: process.execPath, ...env },
      timeout: 60_000,
    });
    return { status: r.status, stdout: '', stderr: readFileSync(log, 'utf8') };
  } finally {
    closeSync(fd);
  }
}

/** The two ways a command runs: the native launcher, and the TypeScript CLI it hands over to. */
export const WAYS: [string, Record<string, string>][] = [
  ['the native launcher', {}],
  ['the TypeScript CLI', { CTC_NATIVE: '0' }],
];

export { hostResidue } from './residue.mjs';
