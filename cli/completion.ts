// `ctc completion bash|zsh|fish`: a completion script with ctc's commands
// and each command's flags, read from the help texts (the one place they are
// written), so the script cannot drift from `ctc CMD --help`.

import { CtcError } from '../common/error.ts';
import { commandHelp } from './help.ts';

/** Every command's help text: the container commands' from cli/help.ts, the others' from their modules. */
export async function helpTexts(): Promise<Record<string, string>> {
  const own = {
    build: (await import('./build.ts')).buildHelp,
    check: (await import('./check.ts')).checkHelp,
    config: (await import('./config.ts')).configHelp,
    diff: (await import('./diff.ts')).diffHelp,
    exec: (await import('./exec.ts')).execHelp,
    explain: (await import('./explain.ts')).explainHelp,
    fmt: (await import('./fmt.ts')).fmtHelp,
    init: (await import('./init.ts')).initHelp,
    lint: (await import('./lint.ts')).lintHelp,
    run: (await import('./run.ts')).runHelp,
    sign: (await import('./sign.ts')).signHelp,
    spec: (await import('./spec.ts')).specHelp,
  };
  return { ...commandHelp, ...own, completion: completionHelp };
}

/** The long flags a help text's usage lines and option lines name (`--format`, `--memory-swap`), sorted, once each; not those its prose mentions. */
export function flagsOf(help: string): string[] {
  const lines = help.split('\n').filter((l) => /^(usage:|\s+ctc |\s+-)/.test(l));
  return [...new Set(lines.join('\n').match(/--[a-z][a-z0-9-]*/g) ?? [])].sort();
}

const globals = ['--root', '--log', '--log-format', '--config', '--help', '--version'];

function bash(commands: Record<string, string[]>): string {
  const cases = Object.entries(commands)
    .map(([c, flags]) => `    ${c}) flags="${flags.join(' ')}" ;;`)
    .join('\n');
  return `# ctc's bash completion: source it, or put it in /etc/bash_completion.d/ctc
_ctc() {
  local cur=\${COMP_WORDS[COMP_CWORD]} cmd= i flags=
  for ((i = 1; i < COMP_CWORD; i++)); do
    case \${COMP_WORDS[i]} in
      --root|--log|--log-format|--config) ((i++)) ;;
      -*) ;;
      *) cmd=\${COMP_WORDS[i]}; break ;;
    esac
  done
  if [[ -z $cmd ]]; then
    if [[ $cur == -* ]]; then COMPREPLY=($(compgen -W "${globals.join(' ')}" -- "$cur"))
    else COMPREPLY=($(compgen -W "${Object.keys(commands).join(' ')}" -- "$cur")); fi
    return
  fi
  case $cmd in
${cases}
  esac
  if [[ $cur == -* ]]; then COMPREPLY=($(compgen -W "$flags" -- "$cur")); else COMPREPLY=($(compgen -f -- "$cur")); fi
}
complete -o filenames -F _ctc ctc
`;
}

function zsh(commands: Record<string, string[]>): string {
  return `#compdef ctc
# ctc's zsh completion: put it on $fpath as _ctc
_ctc() {
  local -a commands=(${Object.keys(commands).join(' ')})
  local -A flags=(${Object.entries(commands)
    .map(([c, f]) => `${c} '${f.join(' ')}'`)
    .join(' ')})
  if (( CURRENT == 2 )); then _describe command commands; return; fi
  if [[ $words[CURRENT] == -* ]]; then compadd -- \${=flags[$words[2]]}; else _files; fi
}
compdef _ctc ctc
`;
}

function fish(commands: Record<string, string[]>): string {
  const lines = [`# ctc's fish completion: put it in ~/.config/fish/completions/ctc.fish`, 'complete -c ctc -f'];
  lines.push(`complete -c ctc -n __fish_use_subcommand -a '${Object.keys(commands).join(' ')}'`);
  for (const [c, flags] of Object.entries(commands)) {
    for (const f of flags) lines.push(`complete -c ctc -n '__fish_seen_subcommand_from ${c}' -l ${f.slice(2)}`);
  }
  return lines.join('\n') + '\n';
}

export const completionHelp = `usage: ctc completion bash|zsh|fish

Prints a completion script for the shell: ctc's commands, and each
command's flags as its --help names them.

example: ctc completion bash > /etc/bash_completion.d/ctc`;

export async function completionCommand(args: string[], commandNames: string[]): Promise<number> {
  if (args.includes('--help') || args.includes('-h')) return (void console.log(completionHelp), 0);
  const shells = { bash, zsh, fish };
  const shell = args[0] as keyof typeof shells;
  if (args.length !== 1 || !(shell in shells))
    throw new CtcError('CT_USAGE', `completion takes one shell: bash, zsh or fish`, { hint: 'usage: ctc completion bash|zsh|fish' });
  const help = await helpTexts();
  const commands = Object.fromEntries(commandNames.map((c) => [c, flagsOf(help[c] ?? '')]));
  process.stdout.write(shells[shell](commands));
  return 0;
}
