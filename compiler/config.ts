// The project's ctc config (module name `ctc`), found by ctc itself from a
// directory up to its project root (compiler/confine.ts: the nearest folder
// with .git or package.json, else the directory itself), never above:
// ctc.config.{json,yaml,yml}, .ctcrc[.json,.yaml,.yml], .config/ctcrc*, or a
// `ctc` key in package.json. A config is data: one in a script form (.js,
// .cjs, .mjs, .ts) is refused, never run, and so is one that another user
// owns or that group or others can write (as git's safe.directory and ssh's
// StrictModes): CT_CONFIG_UNSAFE. cosmiconfig's JSON and YAML loaders parse;
// its search is not used (9.0.0's searchStrategy 'project' climbs past
// package.json to /, and it loads script configs).
// Each top-level key has one reader (configKeys); an unknown key, or a value
// of the wrong type, is refused when the config is loaded, so a typo does not
// silently do nothing. `lint` is checked by its reader (lint/config.ts),
// which knows the rules and their options.

import { type Stats, lstatSync, readFileSync } from 'node:fs';
import { basename, dirname, isAbsolute, join, relative, resolve } from 'node:path';
import { findNodeAtLocation, parseTree } from 'jsonc-parser';
import { projectRoot, readConfined, realDir } from './confine.ts';
import { CtcError } from '../common/error.ts';
import configPlaces from './config-places.json' with { type: 'json' };

/** The top-level keys of a ctc config, and who reads them. */
export const configKeys: Readonly<Record<string, string>> = {
  $schema: 'an editor hint, ignored',
  root: 'the state root (the default of --root), relative to the config',
  log: 'the log file (the default of --log), relative to the config',
  logFormat: 'text or json (the default of --log-format)',
  planDir: 'where ctc build writes plans (and check, run, lint look for them), relative to the config',
  rootfs: 'the rootfs ctc init writes into a new source: "host" or { "dir": PATH, "readonly": BOOL }',
  presets: 'the presets ctc init writes into a new source: { mounts, maskedPaths, readonlyPaths, capabilities, seccomp }',
  lint: 'ctc lint: rules and plugins',
  allowedSigners: 'an OpenSSH allowed-signers file: ctc run runs only plans a key in it signed (PLAN.sig), relative to the config',
};

/**
 * The choices of each `presets` key, the first being the stdlib default a
 * source gets when it leaves the field out. ctc init writes the choice into
 * the new source (compiler/scaffold.ts); the compiler never reads presets
 * from the config, so a plan is a function of its source alone.
 */
export const presetChoices = {
  mounts: ['default', 'none'],
  maskedPaths: ['default', 'none'],
  readonlyPaths: ['default', 'none'],
  capabilities: ['default', 'none'],
  seccomp: ['default', 'unconfined'],
} as const;
export type PresetName = keyof typeof presetChoices;
export type Presets = { [K in PresetName]: (typeof presetChoices)[K][number] };

/** The `rootfs` key: the host's programs, or a prepared directory (absolute once read). */
export type RootfsSetting = 'host' | { dir: string; readonly: boolean };

export interface ProjectConfig {
  /** absolute path of the file */
  file: string;
  values: Record<string, unknown>;
}

/**
 * The config for `dir`: the first place found from `dir` up to its project
 * root, or the file named (a --config: anywhere, under the same rules);
 * undefined if there is none.
 */
export async function findConfig(dir: string, file?: string): Promise<ProjectConfig | undefined> {
  const found = file === undefined ? searchConfig(dir) : { file: resolve(file), root: undefined };
  if (!found) return undefined;
  const values = await loadConfig(found.file, found.root);
  if (values === undefined) return undefined;
  const config = { file: found.file, values: values as Record<string, unknown> };
  if (config.values === null || typeof config.values !== 'object' || Array.isArray(config.values)) {
    throw configError(config, [], 'the ctc config must be an object');
  }
  for (const key of Object.keys(config.values)) {
    if (!Object.hasOwn(configKeys, key)) {
      throw configError(
        config,
        [key],
        `unknown key '${key}'`,
        `the ctc config has the keys ${Object.keys(configKeys)
          .filter((k) => k !== '$schema')
          .join(', ')}`,
      );
    }
  }
  checkProjectKeys(config);
  return config;
}

/** The places from `dir` up to its project root (the launcher's native/launcher/config.c walks the same). */
function searchConfig(dir: string): { file: string; root: string } | undefined {
  const root = projectRoot(dir);
  for (let d = realDir(dir); ; d = dirname(d)) {
    const script = configPlaces.scripts.find((p) => present(join(d, p)));
    if (script) throw scriptConfig(join(d, script));
    const place = configPlaces.read.find((p) => present(join(d, p)) && (p !== 'package.json' || hasCtcKey(join(d, p), root)));
    if (place) return { file: join(d, place), root };
    if (d === root || dirname(d) === d) return undefined;
  }
}

/** There is an entry of that name: a dangling symlink is a config that cannot be read, not a missing one. */
function present(path: string): boolean {
  try {
    return Boolean(lstatSync(path));
  } catch {
    return false;
  }
}

/** package.json counts only with a top-level "ctc" key; one that does not parse is the loader's to report. */
function hasCtcKey(file: string, root: string): boolean {
  const text = readConfined(file, { name: display(file) }, { root });
  try {
    return Object.hasOwn(JSON.parse(text) ?? {}, 'ctc');
  } catch {
    return true;
  }
}

/** The config's values (package.json: its `ctc` key), read as data from a file the user or root owns and only they can write. */
async function loadConfig(file: string, root: string | undefined): Promise<unknown> {
  if (/\.[cm]?[jt]s$/.test(file)) throw scriptConfig(file); // a --config FILE too
  const text = readConfined(file, { name: display(file) }, { root, check: (st) => checkOwner(file, st) });
  if (text.trim() === '') return undefined;
  const { defaultLoaders } = await import('cosmiconfig');
  // .ctcrc without an ending is YAML (a superset of JSON), as cosmiconfig reads it
  const load = file.endsWith('.json') ? defaultLoaders['.json'] : defaultLoaders['.yaml'];
  let value: unknown;
  try {
    value = await load(file, text);
  } catch (e) {
    throw unreadable(e, file);
  }
  return basename(file) === 'package.json' ? (value as Record<string, unknown> | null)?.ctc : value;
}

/** As git's safe.directory and ssh's StrictModes: whoever can write the config chooses where ctc writes. */
function checkOwner(file: string, st: Stats): void {
  const uid = process.geteuid!();
  if (st.uid !== uid && st.uid !== 0) {
    throw new CtcError('CT_CONFIG_UNSAFE', `the ctc config is owned by uid ${st.uid}, neither you (uid ${uid}) nor root: not read`, {
      source: display(file),
      hint: "another user's config would choose the state root and logs of your commands; chown it, or remove it",
    });
  }
  if (st.mode & 0o022) {
    const who = [st.mode & 0o020 ? 'group' : '', st.mode & 0o002 ? 'others' : ''].filter(Boolean).join(' and ');
    throw new CtcError(
      'CT_CONFIG_UNSAFE',
      `the ctc config is writable by ${who} (mode ${(st.mode & 0o7777).toString(8).padStart(4, '0')}): not read`,
      {
        source: display(file),
        hint: `chmod go-w ${display(file)}`,
      },
    );
  }
}

function scriptConfig(file: string): CtcError {
  return new CtcError('CT_CONFIG_UNSAFE', 'the ctc config is a script, and ctc never runs one: not read', {
    source: display(file),
    hint: "write it as JSON or YAML (ctc.config.json, .ctcrc.yaml): a config is data, as a pull request's must be",
  });
}

/** The keys of the project itself (all but lint), checked where they are read in, whatever the command. */
function checkProjectKeys(config: ProjectConfig): void {
  const v = config.values;
  const fail = (path: (string | number)[], message: string, hint?: string): never => {
    throw configError(config, path, message, hint);
  };
  for (const key of ['root', 'log', 'planDir', 'allowedSigners'] as const) {
    if (v[key] !== undefined && (typeof v[key] !== 'string' || v[key] === ''))
      fail([key], 'expected a path (relative to the config file, or absolute)');
  }
  if (v.logFormat !== undefined && v.logFormat !== 'text' && v.logFormat !== 'json') fail(['logFormat'], 'expected "text" or "json"');
  if (v.rootfs !== undefined && v.rootfs !== 'host') {
    const r = v.rootfs as Record<string, unknown>;
    const shape = 'expected "host" or { "dir": PATH, "readonly": true|false }';
    if (r === null || typeof r !== 'object' || Array.isArray(r)) fail(['rootfs'], shape);
    for (const k of Object.keys(r)) if (k !== 'dir' && k !== 'readonly') fail(['rootfs', k], `unknown key '${k}'`, shape);
    if (typeof r.dir !== 'string' || r.dir === '') fail(['rootfs', ...(r.dir === undefined ? [] : ['dir'])], shape);
    if (r.readonly !== undefined && typeof r.readonly !== 'boolean') fail(['rootfs', 'readonly'], 'expected true or false');
  }
  if (v.presets !== undefined) {
    const p = v.presets as Record<string, unknown>;
    const names = Object.keys(presetChoices) as PresetName[];
    if (p === null || typeof p !== 'object' || Array.isArray(p)) fail(['presets'], `expected an object with ${names.join(', ')}`);
    for (const [k, choice] of Object.entries(p)) {
      const choices: readonly string[] | undefined = presetChoices[k as PresetName];
      if (!choices) fail(['presets', k], `unknown preset '${k}'`, `the presets are ${names.join(', ')}`);
      if (!choices!.includes(choice as string)) fail(['presets', k], `expected ${choices!.map((c) => `"${c}"`).join(' or ')}`);
    }
  }
}

/** A path key of the config (root, log, planDir, rootfs.dir) as an absolute path: relative to the config's folder. */
export function configPath(config: ProjectConfig, value: string): string {
  return isAbsolute(value) ? value : resolve(dirname(config.file), value);
}

/** A config that does not parse or load: the loader's first line, at its line and column when it gives them. */
function unreadable(e: unknown, fallback: string): CtcError {
  const where = display((e as { filepath?: string }).filepath ?? fallback);
  // cosmiconfig's loaders say "YAML Error in FILE:" and add code frames (`> 2 | ...`): neither says more than the file and position.
  const text = String((e as Error)?.message ?? e).replace(/^(YAML|JSON|TypeScript) Error in .*?:(\s|$)/, '');
  const first =
    text
      .split('\n')
      .map((l) => l.trim())
      .find((l) => l && !/^>?\s*\d*\s*\|/.test(l)) ?? 'it does not parse';
  const at = /\((\d+):(\d+)\)$/.exec(first);
  return new CtcError('CT_CONFIG', `cannot read the ctc config: ${first}`, { source: at ? `${where}:${at[1]}:${at[2]}` : where });
}

/** A CT_CONFIG error naming the file (and, in JSON files, the key's line and column) and the key path. */
export function configError(config: ProjectConfig, path: (string | number)[], message: string, hint?: string): CtcError {
  const key = path.length ? `${formatKey(path)}: ` : '';
  return new CtcError('CT_CONFIG', `${key}${message}`, { source: locate(config.file, path), ...(hint ? { hint } : {}) });
}

/** `lint.rules.seccomp-required[1].pids` */
export function formatKey(path: (string | number)[]): string {
  return path.map((p, i) => (typeof p === 'number' ? `[${p}]` : i ? `.${p}` : p)).join('');
}

/** file:line:col of a key in a JSON config (package.json: under `ctc`); just the file for YAML and scripts. */
export function locate(file: string, path: (string | number)[]): string {
  if (!file.endsWith('.json') && !/\.ctcrc$|ctcrc$/.test(file)) return display(file);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return display(file);
  }
  const tree = parseTree(text);
  const inFile = basename(file) === 'package.json' ? ['ctc', ...path] : path;
  const node = tree && findNodeAtLocation(tree, inFile);
  // The key itself, when it names a property: that is what to fix.
  const at = node?.parent?.type === 'property' ? node.parent.offset : node?.offset;
  if (at === undefined) return display(file);
  const before = text.slice(0, at).split('\n');
  return `${display(file)}:${before.length}:${before[before.length - 1].length + 1}`;
}

/** A path relative to the current directory when it is under it. */
export function display(file: string): string {
  const rel = relative(process.cwd(), file);
  return rel && !rel.startsWith('..') ? rel : file;
}
