// The executor's side of the control socket to ctc-init (native/wire.h).

import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import type { Duplex } from 'node:stream';
import { CtcError } from '../../common/error.ts';
import { helperMissingHint, helperPath } from '../../common/package.ts';
import { errnoName } from '../../common/errno.ts';
import { decodeMsg, goCommand, type WireMsg } from './wire.ts';

export { helperPath };

/**
 * Runs a one-shot host mode of ctc-init (device-filter, net, idmap-mount):
 * its exit status is the errno of what failed and its stderr says what; a
 * failure throws an Error whose code is that errno's name.
 */
export function helperMode(args: string[], input?: Buffer): void {
  try {
    execFileSync(helperPath(), args, { input, stdio: [input ? 'pipe' : 'ignore', 'ignore', 'pipe'] });
  } catch (e) {
    const err = e as { status?: number; stderr?: Buffer; code?: string };
    const message = String(err.stderr ?? '').trim() || `ctc-init ${args[0]} failed (${err.status ?? err.code})`;
    throw Object.assign(new Error(message), { code: err.status ? errnoName(err.status) : (err.code ?? 'EIO') });
  }
}

const MSG_SIZE = 16;

export class Helper {
  readonly child: ChildProcess;
  private readonly socket: Duplex;
  private buffered = Buffer.alloc(0);
  private readonly queue: WireMsg[] = [];
  private waiting?: (m: WireMsg | undefined) => void;
  private ended = false;
  /** set when ctc-init could not even be started */
  spawnError?: NodeJS.ErrnoException;
  readonly exited: Promise<void>;

  private constructor(program: Buffer) {
    const path = helperPath();
    if (!existsSync(path)) {
      throw new CtcError('CT_HELPER_MISSING', `the native helper ${path} is missing`, { hint: helperMissingHint });
    }
    // fds 0-2 are the container's stdio, unchanged; fd 3 is a socketpair.
    this.child = spawn(path, [], { stdio: ['inherit', 'inherit', 'inherit', 'pipe'] });
    this.exited = new Promise((resolve) => {
      this.child.once('exit', () => resolve());
      // A spawn that fails (EACCES, ENOENT) never exits: it ends here, and the socket with it.
      this.child.once('error', (e) => {
        this.spawnError = e as NodeJS.ErrnoException;
        this.end();
        resolve();
      });
    });
    this.socket = this.child.stdio[3] as Duplex;
    this.socket.on('data', (chunk: Buffer) => this.receive(chunk));
    this.socket.on('close', () => this.end());
    this.socket.on('error', () => this.end());
    this.socket.write(program);
  }

  static start(program: Buffer): Helper {
    return new Helper(program);
  }

  private receive(chunk: Buffer): void {
    this.buffered = Buffer.concat([this.buffered, chunk]);
    while (this.buffered.length >= MSG_SIZE) {
      this.push(decodeMsg(this.buffered));
      this.buffered = this.buffered.subarray(MSG_SIZE);
    }
  }

  private push(m: WireMsg | undefined): void {
    const w = this.waiting;
    if (w) {
      this.waiting = undefined;
      w(m);
    } else if (m) this.queue.push(m);
  }

  private end(): void {
    this.ended = true;
    this.push(undefined);
  }

  /** The next message, or undefined once the helper has closed the socket. */
  next(): Promise<WireMsg | undefined> {
    const m = this.queue.shift();
    if (m || this.ended) return Promise.resolve(m);
    return new Promise((resolve) => (this.waiting = resolve));
  }

  go(until: number): void {
    this.socket.write(goCommand(until));
  }

  /** Closes our end: an init still waiting for GO exits on EOF. */
  close(): void {
    this.socket.destroy();
  }

  /** Leaves ctc-init running on its own and lets this process exit. */
  detach(): void {
    this.socket.destroy();
    this.child.unref();
  }
}
