// The project's settings for one command: the ctc config (compiler/config.ts)
// named by --config, else found from a folder up to its project root — the
// source's for build, check, diff, lint, explain, config and init. The
// container commands (run, create, delete, … what orchestrators call from
// wherever they are) read no project config unless --config names one: a
// config found in some folder is not what an orchestrator meant. Under the
// command line: a flag, then the config, then ctc's default. Each value keeps
// where it came from, for `ctc config`.

import { dirname, join, relative, resolve } from 'node:path';
import {
  type PresetName,
  type Presets,
  type ProjectConfig,
  type RootfsSetting,
  configPath,
  display,
  findConfig,
  locate,
  presetChoices,
} from '../compiler/config.ts';
import { defaultStateRoot } from '../executor/container/state.ts';
import type { GlobalKey, Globals } from './args.ts';

export type From =
  | { kind: 'default' }
  | { kind: 'flag'; flag: string }
  /** source: file:line:col of the key where the file is JSON, else the file */
  | { kind: 'config'; file: string; key: string; source: string };

export interface Sourced<T> {
  value: T;
  from: From;
}

export interface Project {
  config?: ProjectConfig;
  root: Sourced<string>;
  log: Sourced<string | undefined>;
  logFormat: Sourced<'text' | 'json'>;
  /** absolute; undefined: each plan next to its source */
  planDir: Sourced<string | undefined>;
  /** absolute; undefined: ctc run runs unsigned plans */
  allowedSigners: Sourced<string | undefined>;
  rootfs: Sourced<RootfsSetting>;
  presets: { [K in PresetName]: Sourced<Presets[K]> };
}

const globalFlags: Record<GlobalKey, string> = { root: '--root', log: '--log', logFormat: '--log-format' };

/** The settings from the config --config names in `g`, else the one found for `dir` (`null`: none), under the flags in `g`. */
export async function loadProject(dir: string | null, g?: Globals): Promise<Project> {
  const config = g?.config !== undefined ? await findConfig(process.cwd(), g.config) : dir === null ? undefined : await findConfig(dir);
  const v = config?.values ?? {};
  const fromConfig = (key: string): From => ({
    kind: 'config',
    file: display(config!.file),
    key,
    source: locate(config!.file, key.split('.')),
  });
  const pick = <T>(key: string, fallback: T, read: (raw: never) => T = (x) => x): Sourced<T> => {
    const raw = key.split('.').reduce<unknown>((o, k) => (o as Record<string, unknown> | undefined)?.[k], v);
    return raw === undefined ? { value: fallback, from: { kind: 'default' } } : { value: read(raw as never), from: fromConfig(key) };
  };
  const path = (p: string) => configPath(config!, p);
  const flag = <K extends GlobalKey>(key: K, sourced: Sourced<Globals[K]>): Sourced<Globals[K]> =>
    g?.given?.[key] ? { value: g[key], from: { kind: 'flag', flag: globalFlags[key] } } : sourced;
  const rootfs = (r: RootfsSetting): RootfsSetting => (r === 'host' ? r : { dir: path(r.dir), readonly: r.readonly ?? false });
  const presets = Object.fromEntries(
    (Object.keys(presetChoices) as PresetName[]).map((name) => [name, pick(`presets.${name}`, presetChoices[name][0])]),
  ) as Project['presets'];
  return {
    config,
    root: flag('root', pick('root', defaultStateRoot, path)) as Sourced<string>,
    log: flag('log', pick<string | undefined>('log', undefined, path)),
    logFormat: flag('logFormat', pick<'text' | 'json'>('logFormat', 'text')),
    planDir: pick<string | undefined>('planDir', undefined, path),
    allowedSigners: pick<string | undefined>('allowedSigners', undefined, path),
    rootfs: pick<RootfsSetting>('rootfs', 'host', rootfs),
    presets,
  };
}

/**
 * Loads the project for `dir` (see loadProject) and fills the global options the command
 * line did not give (the state root, the log) from it, in place: errors
 * reported after this go to the configured log.
 */
export async function configure(g: Globals, dir: string | null): Promise<Project> {
  const project = await loadProject(dir, g);
  g.root = project.root.value;
  g.log = project.log.value;
  g.logFormat = project.logFormat.value;
  return project;
}

/** The folder of the first argument that names a file or folder (a source, a plan), else the current one. */
export async function argumentDir(args: string[]): Promise<string> {
  const { existsSync, statSync } = await import('node:fs');
  for (const a of args) {
    if (a.startsWith('-') || !existsSync(a)) continue;
    return statSync(a).isDirectory() ? resolve(a) : dirname(resolve(a));
  }
  return process.cwd();
}

/**
 * Where the plans of the sources in `dir` go: `dir` itself, or with a
 * `planDir` the same relative folder under it (planDir/services/web/ for
 * services/web/app.ct.ts next to the config), so plans of sources in
 * different folders never collide, and a plan's sources can be found again.
 */
export function planDirFor(dir: string, project: Project): string {
  const planDir = project.planDir.value;
  if (planDir === undefined || !project.config) return dir;
  const rel = relative(dirname(project.config.file), resolve(dir));
  return rel.startsWith('..') ? dir : join(planDir, rel);
}

/** The plan of `src`: app.ct.ts → app.plan, next to it or under planDir. */
export function planPathFor(src: string, project: Project): string {
  const name =
    src
      .replace(/(\.ct\.ts|\.ct|\.json)$/, '')
      .split('/')
      .pop() + '.plan';
  const dir = planDirFor(dirname(resolve(src)), project);
  return dir === dirname(resolve(src)) ? src.replace(/(\.ct\.ts|\.ct|\.json)$/, '') + '.plan' : display(join(dir, name));
}

/** The folder a plan's source positions are relative to: the plan's own, or for a plan under planDir, its source folder. */
export function sourceDirOfPlan(plan: string, project: Project): string {
  const dir = dirname(resolve(plan));
  const planDir = project.planDir.value;
  if (planDir === undefined || !project.config) return dir;
  const rel = relative(planDir, dir);
  return rel.startsWith('..') ? dir : join(dirname(project.config.file), rel);
}

/** `ctc config`'s way of saying where a value came from. */
export function describeFrom(from: From): string {
  if (from.kind === 'default') return 'default';
  if (from.kind === 'flag') return `flag ${from.flag}`;
  return `${from.source} (${from.key})`;
}
