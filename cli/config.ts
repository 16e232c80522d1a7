// `ctc config [DIR|SRC]`: the project's effective settings, as the commands
// will use them there, and where each came from: a flag, the config file and
// key, or ctc's default.

import { existsSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { CtcError } from '../common/error.ts';
import { display, locate } from '../compiler/config.ts';
import { lintSetup } from '../compiler/lint/config.ts';
import { type Globals, parseCommand } from './args.ts';
import { type From, describeFrom, loadProject } from './project.ts';

export const configHelp = `usage: ctc config [DIR|SRC] [--format text|json]

Prints the effective project settings for DIR (or SRC's folder; default:
here) — the ctc config found from there up to the project root (the
nearest folder with .git or package.json), or the one --config names,
under the global options given — and where each value comes from: "flag",
the config file and key (file:line:col in JSON files), or "default".
Build, check, diff, lint and explain look from their source's folder; run,
create and the other container commands read no config unless --config
names one.

  --format text|json   a table (default) or one JSON document`;

interface Row {
  key: string;
  value: unknown;
  from: From;
}

export async function configCommand(args: string[], g: Globals): Promise<number> {
  const { values, positionals } = parseCommand('config', args, {
    format: { type: 'string', default: 'text' },
    help: { type: 'boolean', short: 'h' },
  });
  if (values.help) return (void console.log(configHelp), 0);
  if (values.format !== 'text' && values.format !== 'json')
    throw new CtcError('CT_USAGE', `--format is text or json, not ${values.format}`);
  if (positionals.length > 1) throw new CtcError('CT_USAGE', 'config takes one folder or source');
  const [at = '.'] = positionals;
  if (!existsSync(at)) throw new CtcError('CT_USAGE', `no such folder or file: ${at}`);
  const dir = statSync(at).isDirectory() ? resolve(at) : dirname(resolve(at));
  const project = await loadProject(dir, g);
  const rows: Row[] = [
    { key: 'root', ...project.root },
    { key: 'log', ...project.log },
    { key: 'logFormat', ...project.logFormat },
    { key: 'planDir', ...project.planDir },
    { key: 'allowedSigners', ...project.allowedSigners },
    { key: 'rootfs', ...project.rootfs },
    ...Object.entries(project.presets).map(([name, s]) => ({ key: `presets.${name}`, ...s })),
    ...(await lintRows(project.config)),
  ];
  const file = project.config ? display(project.config.file) : null;
  if (values.format === 'json') {
    console.log(
      JSON.stringify(
        { version: 1, config: file, settings: rows.map((r) => ({ key: r.key, value: r.value ?? null, from: r.from })) },
        null,
        2,
      ),
    );
    return 0;
  }
  console.log(`config: ${file ?? '(none: every value is a flag or the default)'}`);
  // key, where from, value: the value last, as lint options can be long
  const shown = rows.map((r) => [r.key, describeFrom(r.from), show(r)]);
  const width = (i: number) => Math.max(...shown.map((r) => r[i].length));
  for (const r of shown) console.log(`${r[0].padEnd(width(0))}  ${r[1].padEnd(width(1))}  ${r[2]}`);
  return 0;
}

function show({ key, value }: Row): string {
  if (value === undefined)
    return key === 'planDir' ? '(next to each source)' : key === 'allowedSigners' ? '(none: ctc run runs unsigned plans)' : '(none)';
  if (key === 'rootfs' && typeof value === 'object') {
    const r = value as { dir: string; readonly: boolean };
    return `dir ${display(r.dir)}${r.readonly ? ' (read-only)' : ''}`;
  }
  if (key.startsWith('lint.rules.') && typeof value === 'object') {
    const { severity, options } = value as { severity: string; options: Record<string, unknown> };
    return Object.keys(options).length ? `${severity} ${JSON.stringify(options)}` : severity;
  }
  if (typeof value === 'string') return ['root', 'log', 'planDir', 'allowedSigners'].includes(key) ? display(value) : value;
  return JSON.stringify(value);
}

/** One row per rule that runs: its level and options, from the config's rules, or the default set. */
async function lintRows(config: Parameters<typeof lintSetup>[0]): Promise<Row[]> {
  const setup = await lintSetup(config);
  const rules = (config?.values.lint as { rules?: Record<string, unknown> } | undefined)?.rules ?? {};
  const rows = setup.rules.map(({ rule, severity, options }) => {
    const key = `lint.rules.${rule.id}`;
    const from: From = Object.hasOwn(rules, rule.id)
      ? { kind: 'config', file: display(config!.file), key, source: locate(config!.file, ['lint', 'rules', rule.id]) }
      : { kind: 'default' };
    return { key, value: { severity, options }, from };
  });
  return rows.length
    ? rows
    : [{ key: 'lint.rules', value: '(none)', from: config?.values.lint ? configFrom(config, 'lint') : { kind: 'default' } }];
}

function configFrom(config: NonNullable<Parameters<typeof lintSetup>[0]>, key: string): From {
  return { kind: 'config', file: display(config.file), key, source: locate(config.file, [key]) };
}
