// Command-line parsing shared by the commands: runc's global options come
// before the command; each command parses the rest with node's parseArgs.

import { parseArgs, type ParseArgsConfig } from 'node:util';
import { CtcError } from '../common/error.ts';
import { closest } from '../compiler/frontend/dsl/names.ts';

export interface Globals {
  root?: string;
  log?: string;
  /** --config FILE: the only project config read (the container commands read none without it) */
  config?: string;
  logFormat: 'text' | 'json';
  help: boolean;
  version: boolean;
  /** the options given on the command line: they win over the project config (cli/project.ts) */
  given?: Partial<Record<GlobalKey, true>>;
}

/** The global options a project config can also set. */
export type GlobalKey = 'root' | 'log' | 'logFormat';

/** Splits `ctc [globals] command [args]`. */
export function splitGlobals(argv: string[]): { globals: Globals; command?: string; rest: string[] } {
  const globals: Globals = { logFormat: 'text', help: false, version: false, given: {} };
  let i = 0;
  const value = (name: string) => {
    const v = argv[++i];
    if (v === undefined) throw new CtcError('CT_USAGE', `${name} needs a value`);
    return v;
  };
  for (; i < argv.length && argv[i].startsWith('-'); i++) {
    const [flag, inline] = argv[i].split(/=(.*)/s, 2);
    const get = () => inline ?? value(flag);
    if (flag === '--root') {
      globals.root = get();
      globals.given!.root = true;
    } else if (flag === '--log') {
      globals.log = get();
      globals.given!.log = true;
    } else if (flag === '--config') globals.config = get();
    else if (flag === '--log-format') {
      const f = get();
      if (f !== 'text' && f !== 'json') throw new CtcError('CT_USAGE', `--log-format is text or json, not ${f}`);
      globals.logFormat = f;
      globals.given!.logFormat = true;
    } else if (flag === '--help' || flag === '-h') globals.help = true;
    else if (flag === '--version' || flag === '-v') globals.version = true;
    else if (flag === '--debug')
      continue; // accepted as runc does; ctc's errors are already complete
    else if (flag === '--systemd-cgroup') {
      throw new CtcError('CT_NOT_YET', 'the systemd cgroup driver is not supported: ctc manages cgroups itself (cgroupfs)', {
        hint: 'configure the orchestrator without SystemdCgroup for ctc',
      });
    } else if (flag === '--criu' || flag === '--rootless')
      get(); // runc options with a value ctc does not use
    else throw new CtcError('CT_USAGE', `unknown option ${flag}`, { hint: 'see `ctc --help`' });
  }
  return { globals, command: argv[i], rest: argv.slice(i + 1) };
}

export function parseCommand<T extends ParseArgsConfig['options']>(command: string, args: string[], options: T) {
  try {
    return parseArgs({ args: negativeValues(args, options), options, allowPositionals: true, strict: true });
  } catch (e) {
    throw new CtcError('CT_USAGE', `${command}: ${(e as Error).message.split('. ')[0]}`, {
      hint: optionHint(command, (e as Error).message, Object.keys(options ?? {})),
    });
  }
}

/**
 * `--memory -1`, as runc's users type it: Node's parser takes a value that
 * starts with a dash for a flag, so a negative number after an option that
 * takes a value is joined to it (`--memory=-1`).
 */
function negativeValues(args: string[], options: ParseArgsConfig['options']): string[] {
  const takesValue = (a: string) => {
    const name = a.startsWith('--') ? a.slice(2) : Object.keys(options ?? {}).find((k) => options?.[k].short === a.slice(1));
    return name !== undefined && options?.[name]?.type === 'string';
  };
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    if (args[i] === '--') return [...out, ...args.slice(i)];
    if (/^-\d+$/.test(args[i + 1] ?? '') && /^--?[^-=][^=]*$/.test(args[i]) && takesValue(args[i])) out.push(`${args[i]}=${args[++i]}`);
    else out.push(args[i]);
  }
  return out;
}

const globalFlags = ['--root', '--log', '--log-format', '--config'];

/** A global option given after the command goes before it; a misspelled option gets the nearest one. */
function optionHint(command: string, message: string, known: string[]): string {
  const flag = /Unknown option '(-[^']*)'/.exec(message)?.[1];
  if (flag && globalFlags.includes(flag.split('=')[0]))
    return `${flag.split('=')[0]} is a global option: it goes before the command (ctc ${flag.split('=')[0]} VALUE ${command} …)`;
  const near = flag?.startsWith('--') ? closest(flag.slice(2), known) : undefined;
  return near ? `did you mean --${near}? (see \`ctc ${command} --help\`)` : `see \`ctc ${command} --help\``;
}
