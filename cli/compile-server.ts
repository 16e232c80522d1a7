// `ctc compile-server`: a warm compiler for the launcher's cold path.
//
// containerd and CRI hand the runtime a new config.json for every container,
// so the launcher's run images never hit and each first run started Node
// (~100 ms) only to compile JSON that a warm compiler turns into a plan in
// 1-2 ms. This server keeps that compiler warm: the launcher sends it a
// bundle's directory name and its config's bytes over a root-only socket
// and gets the plan text back, which it checks and applies itself
// (native/launcher/compile-client.c). It is optional: with no server, or on
// any doubt, the launcher hands the run to the CLI as before.
//
// It never touches host state and reads no file of the request: it binds
// its socket as root, then drops to an unprivileged user, and compiles only
// the bytes it is sent (an OCI config is data: no code of it runs). A config
// with warnings gets them back as the CLI prints them on stderr (runc's
// place for them when there is no --log; with a --log the launcher leaves
// the run to the CLI, which writes them there).
//
// Protocol, one request a connection (the client shuts its side down after
// the request): "ctc-compile 1\n" BUNDLE_DIR "\n" CONFIG_BYTES; answer
// "ok\n" PLAN_TEXT, "warn\n" WARNINGS "\0" PLAN_TEXT, or "cli\n" REASON (the
// CLI compiles it instead).

import { chmodSync, lstatSync, mkdirSync, unlinkSync } from 'node:fs';
import { createServer, type Socket } from 'node:net';
import { dirname } from 'node:path';
import { CtcError, formatError } from '../common/error.ts';
import { type Globals, parseCommand } from './args.ts';

/** native/launcher/launcher.h COMPILE_SOCKET */
export const DEFAULT_SOCKET = '/run/ctc-compile/socket';
const MAGIC = 'ctc-compile 1\n';
/** a config is a few kB; containerd's with a seccomp profile ~30 kB */
const MAX_REQUEST = 4 << 20;
/** nobody: the server needs no file of anyone's */
const UNPRIVILEGED = 65534;

export async function compileServerCommand(args: string[], _g: Globals): Promise<number> {
  const { values, positionals } = parseCommand('compile-server', args, { socket: { type: 'string' } });
  if (positionals.length) throw new CtcError('CT_USAGE', 'usage: ctc compile-server [--socket PATH]');
  if (process.getuid?.() !== 0) throw new CtcError('CT_USAGE', 'ctc compile-server runs as root (its socket is root-only), then as nobody');
  const path = values.socket ?? DEFAULT_SOCKET;
  const { buildOciText } = await import('../compiler/build.ts');
  await warm(buildOciText);
  // the client ends its side after the request: the answer goes back on the half still open
  const server = createServer({ allowHalfOpen: true }, (conn) => void answer(conn, buildOciText));
  await listenRootOnly(server, path);
  dropPrivileges();
  process.stderr.write(`ctc: compile server listening on ${path}\n`);
  const stop = () => server.close(() => process.exit(0));
  process.on('SIGTERM', stop).on('SIGINT', stop);
  return new Promise(() => {}); // until a signal
}

type Compile = (text: string, bundle: string) => Promise<{ text: string; warnings: CtcError[] }>;

/** The first compile loads and JIT-compiles the compiler: done here, not on a container's time. */
async function warm(compile: Compile): Promise<void> {
  const config = {
    ociVersion: '1.0.2',
    process: { args: ['/bin/true'], cwd: '/' },
    root: { path: 'rootfs' },
    linux: { namespaces: [{ type: 'mount' }] },
  };
  for (let i = 0; i < 20; i++) await compile(JSON.stringify(config), '/nonexistent').catch(() => {});
}

/** Its folder is root's alone (made 0700, or refused if it is anything else), the socket 0600. */
async function listenRootOnly(server: ReturnType<typeof createServer>, path: string): Promise<void> {
  const dir = dirname(path);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const st = lstatSync(dir);
  if (!st.isDirectory() || st.uid !== 0 || st.mode & 0o077) {
    throw new CtcError(
      'CT_STATE_UNSAFE',
      `${dir} must be a directory that only root can use (it is mode ${(st.mode & 0o7777).toString(8)}, uid ${st.uid})`,
    );
  }
  const old = lstatSync(path, { throwIfNoEntry: false });
  if (old?.isSocket())
    unlinkSync(path); // a server that is gone left it
  else if (old) throw new CtcError('CT_EXISTS', `${path} exists and is not a socket`);
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(path, () => resolve()));
  chmodSync(path, 0o600);
}

function dropPrivileges(): void {
  process.setgroups?.([]);
  process.setgid?.(UNPRIVILEGED);
  process.setuid?.(UNPRIVILEGED);
}

async function answer(conn: Socket, compile: Compile): Promise<void> {
  conn.on('error', () => {}); // a client that went away
  try {
    const request = await readAll(conn);
    conn.end(await reply(request, compile));
  } catch (e) {
    if (process.env.CTC_DEBUG) process.stderr.write(`ctc: compile server: ${(e as Error).stack}\n`);
    conn.destroy();
  }
}

async function reply(request: Buffer, compile: Compile): Promise<string> {
  const bundleEnd = request.indexOf('\n', MAGIC.length);
  if (!request.subarray(0, MAGIC.length).equals(Buffer.from(MAGIC)) || bundleEnd < 0) return 'cli\nnot a ctc-compile 1 request';
  const bundle = request.subarray(MAGIC.length, bundleEnd).toString();
  try {
    const built = await compile(request.subarray(bundleEnd + 1).toString(), bundle);
    if (!built.warnings.length) return `ok\n${built.text}`;
    // as cli/bundle.ts prints them without --log; with --log the launcher leaves the run to the CLI
    return `warn\n${built.warnings.map((w) => `ctc: ${formatError(w, 'warning')}\n`).join('')}\0${built.text}`;
  } catch (e) {
    if (process.env.CTC_DEBUG) process.stderr.write(`ctc: compile server: ${(e as Error).stack}\n`);
    return `cli\n${e instanceof CtcError ? e.code : 'not compiled'}`;
  }
}

function readAll(conn: Socket): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    let size = 0;
    conn.on('data', (d: Buffer) => {
      size += d.length;
      if (size > MAX_REQUEST) return void reject(new Error('too large'));
      parts.push(d);
    });
    conn.on('end', () => resolve(Buffer.concat(parts)));
    conn.on('error', reject);
    conn.setTimeout(5000, () => reject(new Error('timeout')));
  });
}
