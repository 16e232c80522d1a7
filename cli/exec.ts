import { readFileSync } from 'node:fs';
import { nulErrors } from '../compiler/check/nul.ts';
import { CtcError, throwAll } from '../common/error.ts';
import { type ExecProcess, execIn } from '../executor/container/exec.ts';
import type { Globals } from './args.ts';
import { factory } from './lifecycle.ts';

export const execHelp = `usage: ctc exec [options] ID [--] COMMAND [ARG...]
       ctc exec [options] --process FILE ID

Runs a process in a running container: in its namespaces and cgroup, with
its capabilities, limits and user unless overridden.

  -p, --process FILE     an OCI process (JSON) instead of COMMAND
  -d, --detach           return once it runs; ctc-init stays as its monitor
  --pid-file FILE        write its pid
  -t, --tty              give it a pseudo-terminal
  --console-socket SOCK  send the terminal's master to SOCK (with -d)
  --cwd DIR              working directory
  -e, --env NAME=VALUE   set an environment variable (repeatable)
  -u, --user UID[:GID]   run as this user
  -g, --additional-gids GID (repeatable)
  -c, --cap CAP          add a capability (repeatable)
  --no-new-privs         set no_new_privs`;

const valued = new Set([
  '-p',
  '--process',
  '--pid-file',
  '--console-socket',
  '--cwd',
  '-e',
  '--env',
  '-u',
  '--user',
  '-g',
  '--additional-gids',
  '-c',
  '--cap',
]);
const flags = new Set(['-d', '--detach', '-t', '--tty', '--no-new-privs', '-h', '--help']);

/** Options come before the id; everything after the id is the command, options and all. */
function parseExec(args: string[]) {
  const opts = new Map<string, string[]>();
  let i = 0;
  for (; i < args.length && args[i].startsWith('-'); i++) {
    const [name, inline] = args[i].split(/=(.*)/s, 2);
    if (name === '--') break;
    if (flags.has(name)) opts.set(name, ['']);
    else if (valued.has(name)) {
      const v = inline ?? args[++i];
      if (v === undefined) throw new CtcError('CT_USAGE', `${name} needs a value`);
      opts.set(name, [...(opts.get(name) ?? []), v]);
    } else throw new CtcError('CT_USAGE', `exec: unknown option ${name}`, { hint: 'see `ctc exec --help`' });
  }
  const get = (...names: string[]) => names.flatMap((n) => opts.get(n) ?? []);
  const has = (...names: string[]) => names.some((n) => opts.has(n));
  const id = args[i];
  const rest = args.slice(i + 1);
  return { id, command: rest[0] === '--' ? rest.slice(1) : rest, get, has };
}

function userOf(text: string, gids: string[]) {
  const m = /^(\d+)(?::(\d+))?$/.exec(text);
  if (!m) throw new CtcError('CT_USAGE', `--user takes UID[:GID], not '${text}'`);
  return { uid: Number(m[1]), gid: Number(m[2] ?? m[1]), additionalGids: gids.map(Number) };
}

/** An OCI process (runc exec --process): the fields exec honours. */
function processFile(file: string): ExecProcess {
  // biome-ignore lint/suspicious/noExplicitAny: a parsed file, checked field by field below
  let p: Record<string, any>;
  try {
    p = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new CtcError('CT_SOURCE_READ', `cannot read the process file ${file}: ${(e as Error).message}`);
  }
  if (!Array.isArray(p.args) || p.args.length === 0)
    throw new CtcError('CT_PROCESS_ARGS', `${file}: args needs at least the program to run`);
  throwAll(nulErrors(p, 'process', () => file));
  const caps = p.capabilities;
  return {
    args: p.args,
    env: p.env ?? [],
    cwd: p.cwd,
    terminal: p.terminal === true,
    user: p.user && { uid: p.user.uid ?? 0, gid: p.user.gid ?? 0, additionalGids: p.user.additionalGids ?? [] },
    noNewPrivileges: p.noNewPrivileges === true,
    capabilities: caps && {
      bounding: caps.bounding ?? [],
      effective: caps.effective ?? [],
      permitted: caps.permitted ?? [],
      inheritable: caps.inheritable ?? [],
      ambient: caps.ambient ?? [],
    },
  };
}

export async function execCommand(args: string[], g: Globals): Promise<number> {
  const a = parseExec(args);
  if (a.has('-h', '--help')) return (void console.log(execHelp), 0);
  if (!a.id) throw new CtcError('CT_USAGE', 'exec needs a container id', { hint: execHelp.split('\n')[0] });
  const file = a.get('-p', '--process')[0];
  if (!file && a.command.length === 0) throw new CtcError('CT_USAGE', 'exec needs a command or --process FILE');
  const user = a.get('-u', '--user')[0];
  const p: ExecProcess = file
    ? processFile(file)
    : {
        args: a.command,
        extraEnv: a.get('-e', '--env'),
        cwd: a.get('--cwd')[0],
        terminal: a.has('-t', '--tty'),
        ...(user ? { user: userOf(user, a.get('-g', '--additional-gids')) } : {}),
        addCaps: a.get('-c', '--cap'),
        noNewPrivileges: a.has('--no-new-privs'),
      };
  return execIn(factory(g).load(a.id), p, {
    detach: a.has('-d', '--detach'),
    pidFile: a.get('--pid-file')[0],
    consoleSocket: a.get('--console-socket')[0],
  });
}
