// Shared by the tests: running the built CLI, temp dirs, host snapshots.

import { spawn, spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { packageRoot } from '../compiler/package.ts';

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
  const child = spawn(process.execPath, [cli, ...args], { cwd: root, env: { ...process.env, ...opts.env }, stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  const done = new Promise<Ran>((resolve) => child.on('close', (status) => resolve({ status, stdout, stderr })));
  return { child, done, out: () => stdout };
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

export { hostResidue } from './residue.mjs';
