// The project's ctc config, found with cosmiconfig (module name `ctc`) from a
// directory upward: ctc.config.{json,yaml,yml,js,mjs,cjs,ts}, .ctcrc[.json,
// .yaml,.yml,.js,.mjs,.cjs,.ts], .config/ctcrc*, or a `ctc` key in
// package.json. Each top-level key belongs to one command (`lint` to ctc
// lint); an unknown key is refused, so a typo does not silently do nothing.

import { readFileSync } from 'node:fs';
import { basename, relative } from 'node:path';
import { cosmiconfig } from 'cosmiconfig';
import { findNodeAtLocation, parseTree } from 'jsonc-parser';
import { CtcError } from './error.ts';
import configPlaces from './config-places.json' with { type: 'json' };

/** The top-level keys of a ctc config, and who reads them. */
export const configKeys: Readonly<Record<string, string>> = {
  $schema: 'an editor hint, ignored',
  lint: 'ctc lint: rules and plugins',
};

export interface ProjectConfig {
  /** absolute path of the file */
  file: string;
  values: Record<string, unknown>;
}

const explorer = () =>
  cosmiconfig('ctc', {
    // cosmiconfig's places, and ctc.config.{json,yaml,yml} besides its script forms.
    // One list, also compiled into the launcher, which hands a command to Node where a config is.
    searchPlaces: configPlaces,
    // Upward to the project root (the nearest package.json), as tools' configs are found.
    searchStrategy: 'project',
  });

/** The nearest config from `dir` upward, or an explicitly named file; undefined if there is none. */
export async function findConfig(dir: string, file?: string): Promise<ProjectConfig | undefined> {
  let found;
  try {
    found = file === undefined ? await explorer().search(dir) : await explorer().load(file);
  } catch (e) {
    throw unreadable(e, file ?? dir);
  }
  if (!found || found.isEmpty) return undefined;
  const config = { file: found.filepath, values: found.config as Record<string, unknown> };
  if (config.values === null || typeof config.values !== 'object' || Array.isArray(config.values)) {
    throw configError(config, [], 'the ctc config must be an object');
  }
  for (const key of Object.keys(config.values)) {
    if (!Object.hasOwn(configKeys, key)) {
      throw configError(config, [key], `unknown key '${key}'`, `the ctc config has the keys ${Object.keys(configKeys).filter((k) => k !== '$schema').join(', ')}`);
    }
  }
  return config;
}

/** A config that does not parse or load: the loader's first line, at its line and column when it gives them. */
function unreadable(e: unknown, fallback: string): CtcError {
  const where = display((e as { filepath?: string }).filepath ?? fallback);
  // cosmiconfig's loaders say "YAML Error in FILE:" and add code frames (`> 2 | ...`): neither says more than the file and position.
  const text = String((e as Error)?.message ?? e).replace(/^(YAML|JSON|TypeScript) Error in .*?:(\s|$)/, '');
  const first = text.split('\n').map((l) => l.trim()).find((l) => l && !/^>?\s*\d*\s*\|/.test(l)) ?? 'it does not parse';
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
function locate(file: string, path: (string | number)[]): string {
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
