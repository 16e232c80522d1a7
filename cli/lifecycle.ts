// The runc-compatible lifecycle commands: create, start, state, kill,
// delete, list, ps, pause, resume. Each parses its arguments and calls the
// executor's API.

import { readFileSync, statSync } from 'node:fs';
import { CtcError } from '../common/error.ts';
import { type Container, Factory, type OciState } from '../executor/container/container.ts';
import { parseSignal } from '../executor/run/signals.ts';
import { defaultStateRoot } from '../executor/container/state.ts';
import { type Globals, parseCommand } from './args.ts';
import { bundlePlan } from './bundle.ts';

export const factory = (g: Globals) => new Factory(g.root ?? defaultStateRoot);

function oneId(command: string, positionals: string[]): string {
  if (positionals.length !== 1) throw new CtcError('CT_USAGE', `${command} takes one container id`, { hint: `usage: ctc ${command} ID` });
  return positionals[0];
}

export async function createCommand(args: string[], g: Globals): Promise<number> {
  const { values, positionals } = parseCommand('create', args, {
    bundle: { type: 'string', short: 'b' },
    'pid-file': { type: 'string' },
    'console-socket': { type: 'string' },
    'no-pivot': { type: 'boolean' },
    'no-new-keyring': { type: 'boolean' },
    'preserve-fds': { type: 'string' },
  });
  const id = oneId('create', positionals);
  refuseUnsupported(values);
  const { plan, text, bundle, source } = await bundlePlan(values.bundle, g);
  return factory(g).create(id, plan, {
    mode: 'create',
    planText: text,
    bundle,
    pidFile: values['pid-file'],
    consoleSocket: values['console-socket'],
    noPivot: values['no-pivot'],
    failStep: failStep(),
    source,
  });
}

/** Options ctc accepts from runc's set but cannot honour yet: refused, never ignored. */
export function refuseUnsupported(values: { 'preserve-fds'?: string }): void {
  if (values['preserve-fds'] && values['preserve-fds'] !== '0') throw new CtcError('CT_NOT_YET', '--preserve-fds is not supported yet');
}

export function startCommand(args: string[], g: Globals): number {
  const { positionals } = parseCommand('start', args, {});
  factory(g).load(oneId('start', positionals)).start();
  return 0;
}

export function stateCommand(args: string[], g: Globals): number {
  const { positionals } = parseCommand('state', args, {});
  console.log(JSON.stringify(factory(g).load(oneId('state', positionals)).ociState(), null, 2));
  return 0;
}

export function killCommand(args: string[], g: Globals): number {
  const { values, positionals } = parseCommand('kill', args, { all: { type: 'boolean', short: 'a' } });
  if (positionals.length < 1 || positionals.length > 2) throw new CtcError('CT_USAGE', 'usage: ctc kill [--all] ID [SIGNAL]');
  const [id, signal = 'SIGTERM'] = positionals;
  const sig = parseSignal(signal);
  factory(g).load(id).signal(sig, values.all);
  return 0;
}

export async function stopCommand(args: string[], g: Globals): Promise<number> {
  const { values, positionals } = parseCommand('stop', args, {
    time: { type: 'string', short: 't', default: '10' },
    signal: { type: 'string', short: 's', default: 'SIGTERM' },
  });
  const id = oneId('stop', positionals);
  if (!/^\d+(\.\d+)?$/.test(values.time!))
    throw new CtcError('CT_USAGE', `stop: --time takes seconds (like 10 or 0.5), not '${values.time}'`);
  await factory(g)
    .load(id)
    .stop(parseSignal(values.signal!), Number(values.time) * 1000);
  return 0;
}

export async function deleteCommand(args: string[], g: Globals): Promise<number> {
  const { values, positionals } = parseCommand('delete', args, { force: { type: 'boolean', short: 'f' } });
  if (positionals.length === 0) throw new CtcError('CT_USAGE', 'usage: ctc delete [--force] ID...');
  for (const id of positionals) {
    try {
      await factory(g).load(id).destroy(values.force);
    } catch (e) {
      // runc: deleting what is already gone with --force is success
      if (!(values.force && e instanceof CtcError && e.code === 'CT_NOT_FOUND')) throw e;
    }
  }
  return 0;
}

/**
 * ctc gc: removes, from their journals, the containers nothing will finish
 * (Container.abandoned); with --images, then the cached images no container
 * uses (printed as @images/<hex>).
 */
export async function gcCommand(args: string[], g: Globals): Promise<number> {
  const { values } = parseCommand('gc', args, {
    'min-age': { type: 'string', default: '60' },
    'dry-run': { type: 'boolean' },
    images: { type: 'boolean' },
  });
  const minAge = Number(values['min-age']);
  if (!Number.isFinite(minAge) || minAge < 0) throw new CtcError('CT_USAGE', `--min-age is a number of seconds, not ${values['min-age']}`);
  const runImages = await import('../executor/native-bridge/run-image-cache.ts');
  const bound = runImages.cacheBound(); // a bad CTC_CACHE_MAX_* fails before anything is removed
  for (const c of factory(g).list()) {
    if (!c.abandoned(minAge * 1000)) continue;
    console.log(c.id);
    if (!values['dry-run']) await c.destroy(true);
  }
  if (values.images) {
    const { pruneImages } = await import('../executor/host/image-gc.ts');
    const f = factory(g);
    // a dry run keeps the abandoned containers, whose plans then still count
    for (const name of pruneImages(f.root, f.list(), values['dry-run'] ?? false)) console.log(`@images/${name}`);
  }
  for (const name of runImages.pruneRunImages(runImages.cacheDir(), bound, values['dry-run'] ?? false)) console.log(`@run-images/${name}`);
  return 0;
}

export function listCommand(args: string[], g: Globals): number {
  const { values } = parseCommand('list', args, {
    format: { type: 'string', short: 'f', default: 'table' },
    quiet: { type: 'boolean', short: 'q' },
  });
  const containers = factory(g).list();
  const states = containers.map((c) => c.ociState());
  if (values.quiet) for (const s of states) console.log(s.id);
  else if (values.format === 'json') console.log(JSON.stringify(states));
  else if (values.format === 'table')
    printTable(
      ['ID', 'PID', 'STATUS', 'BUNDLE', 'CREATED', 'OWNER'],
      containers.map((c, i) => listRow(c, states[i])),
    );
  else throw new CtcError('CT_USAGE', `--format is table or json, not ${values.format}`);
  return 0;
}

/**
 * A list line as docker users read one: a stopped container's exit code
 * (`stopped (137)`), `-` for a plan's (it has no bundle), and as runc's, the
 * owner of its state dir by name.
 */
function listRow(c: Container, s: OciState): string[] {
  const code = s.status === 'stopped' ? c.exitStatus() : undefined;
  return [
    s.id,
    String(s.pid),
    code === undefined ? s.status : `${s.status} (${code})`,
    s.bundle || '-',
    s.created,
    s.owner || ownerOf(c.dir),
  ];
}

/** The state dir's owner by name ('' if a delete removed it meanwhile). */
function ownerOf(dir: string): string {
  const st = statSync(dir, { throwIfNoEntry: false });
  return st ? userName(st.uid) : '';
}

function userName(uid: number): string {
  try {
    const line = readFileSync('/etc/passwd', 'utf8')
      .split('\n')
      .find((l) => l.split(':')[2] === String(uid));
    return line?.split(':')[0] ?? String(uid);
  } catch {
    return String(uid);
  }
}

export function psCommand(args: string[], g: Globals): number {
  const { values, positionals } = parseCommand('ps', args, { format: { type: 'string', short: 'f', default: 'table' } });
  const c = factory(g).load(positionals[0] ?? oneId('ps', positionals));
  const pids = c.processes();
  if (values.format === 'json') console.log(JSON.stringify(pids));
  else
    printTable(
      ['PID', 'CMD'],
      pids.map((p) => [String(p), cmdline(p)]),
    );
  return 0;
}

export async function pauseCommand(args: string[], g: Globals): Promise<number> {
  const { positionals } = parseCommand('pause', args, {});
  await factory(g).load(oneId('pause', positionals)).pause();
  return 0;
}

export async function resumeCommand(args: string[], g: Globals): Promise<number> {
  const { positionals } = parseCommand('resume', args, {});
  await factory(g).load(oneId('resume', positionals)).resume();
  return 0;
}

function cmdline(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ').trim();
  } catch {
    return '';
  }
}

function printTable(head: string[], rows: string[][]): void {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  for (const r of [head, ...rows]) console.log(r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i] + 3))).join(''));
}

export function failStep(): number | undefined {
  const v = process.env.CTC_FAIL_STEP;
  if (v === undefined || v === '') return undefined;
  if (!/^[1-9]\d*$/.test(v)) throw new CtcError('CT_USAGE', `CTC_FAIL_STEP must be a step number, not '${v}'`);
  return Number(v);
}
