// The .ct frontend: app.ct → the same ContainerDef-shaped object a .ct.ts
// module evaluates to, with its own positions, read into a Spec by the same
// def.ts. Loads chevrotain and the stdlib's values, never TypeScript.

import { createHash } from 'node:crypto';
import { basename, dirname, relative, resolve } from 'node:path';
import { SourceReader } from '../../confine.ts';
import { CtcError, throwAll } from '../../../common/error.ts';
import type { Origins } from '../../spec.ts';
import { specFromDef } from '../def.ts';
import type { FrontendResult } from '../result.ts';
import * as stdlib from '../../../stdlib/index.ts';
import { Evaluator, toPlain, type Node } from './eval.ts';
import { didYouMean } from './names.ts';
import { keywords, parseCt, type Pos } from './parser.ts';
import { containerShape } from './schema.ts';

/**
 * What `use preset.NAME` reaches: every value the stdlib exports (what a
 * .ct.ts imports from 'ctc'), and what its functions without required
 * arguments return (`preset.hostRootfs`). Read from the stdlib itself, so
 * the two languages have the same presets.
 */
let presetTable: Record<string, unknown> | undefined;
export function presets(): Record<string, unknown> {
  if (presetTable) return presetTable;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(stdlib)) {
    if (typeof v !== 'function') out[k] = v;
    else if (v.length === 0) out[k] = (v as () => unknown)();
  }
  return (presetTable = out);
}

interface Loaded {
  root?: Node;
  at: Pos;
  syntaxErrors: number;
}

export function compileCt(entryPath: string): FrontendResult {
  const entry = resolve(entryPath);
  const name = (file: string) => relative(dirname(entry), file) || file;
  const errors: CtcError[] = [];
  const sources: { path: string; sha256: string }[] = [];
  const loading: string[] = [];
  const loaded = new Map<string, Loaded | undefined>();
  const reader = new SourceReader(entry);

  const load = (file: string, from?: { file: string; at: Pos }): Loaded | undefined => {
    if (loaded.has(file)) return loaded.get(file);
    const where = from && `${name(from.file)}:${from.at.line}:${from.at.col}`;
    let text: string;
    try {
      // confined to the entry's project, as text: a symlink to a host file is refused unread (compiler/confine.ts)
      text = reader.read(file, { name: from ? name(file) : entryPath, site: where });
    } catch (e) {
      if (!from || !(e instanceof CtcError)) throw e;
      errors.push(e);
      return undefined;
    }
    sources.push({ path: name(file), sha256: createHash('sha256').update(text).digest('hex') });
    loading.push(file);
    const src = (p: Pos) => `${name(file)}:${p.line}:${p.col}`;
    const parsed = parseCt(text);
    for (const e of parsed.errors) {
      const hint = e.found && didYouMean(e.found, keywords);
      errors.push(new CtcError('CT_SYNTAX', e.message, { source: src(e.at), ...(hint ? { hint } : {}) }));
    }
    for (const s of parsed.ast.strays) {
      const hint = didYouMean(s.text, ['container', 'import']);
      errors.push(
        new CtcError('CT_SYNTAX', `unexpected '${s.text}' outside the container { … } block`, {
          source: src(s.at),
          hint: hint ?? 'a file holds imports, then one container { … }; is a brace missing or one too many?',
        }),
      );
    }
    const imports = new Map<string, Node | undefined>();
    for (const imp of parsed.ast.imports) {
      const target = resolve(dirname(file), imp.path);
      const alias = imp.alias ?? basename(target).replace(/\.ct$/, '');
      if (!imp.path.endsWith('.ct') || !/^\.\.?\//.test(imp.path)) {
        errors.push(
          new CtcError('CT_IMPORT', `cannot import '${imp.path}' in a .ct file`, {
            source: src(imp.at),
            hint: 'import another .ct file by a relative path: import "./base.ct" as base',
          }),
        );
      } else if (loading.includes(target)) {
        errors.push(
          new CtcError(
            'CT_IMPORT',
            `'${imp.path}' imports this file again (${[...loading.slice(loading.indexOf(target)), target].map(name).join(' → ')})`,
            { source: src(imp.at) },
          ),
        );
      } else if (imports.has(alias)) {
        errors.push(
          new CtcError('CT_IMPORT', `a second import named '${alias}'`, {
            source: src(imp.aliasAt ?? imp.at),
            hint: 'name it: import "./x.ct" as other',
          }),
        );
      } else {
        imports.set(alias, load(target, { file, at: imp.at })?.root);
      }
    }
    const [container, ...more] = parsed.ast.containers;
    for (const c of more) errors.push(new CtcError('CT_SYNTAX', 'a second container: a file holds one', { source: src(c.at) }));
    let result: Loaded | undefined;
    if (!container) {
      if (!parsed.errors.length)
        errors.push(new CtcError('CT_EXPORT', `${name(file)} holds no container { … }`, { source: src({ line: 1, col: 1 }) }));
    } else {
      const badLines = new Set(parsed.errors.map((e) => e.at.line));
      const ev = new Evaluator(name(file), { presets: presets(), imports }, errors, badLines);
      const root = ev.mapBlock(containerShape as never, container.block, undefined, '');
      root.at = src(container.at);
      result = { root, at: container.at, syntaxErrors: parsed.errors.length + parsed.ast.strays.length };
    }
    loading.pop();
    loaded.set(file, result);
    return result;
  };

  const main = load(entry);
  // After a syntax error, a missing key is more likely the parser's loss than the author's.
  if (main?.root && !main.syntaxErrors)
    new Evaluator(name(entry), { presets: {}, imports: new Map() }, errors, new Set()).required(containerShape, main.root, '');
  throwAll(
    sortErrors(
      errors,
      sources.map((s) => s.path),
    ),
  );
  const origins: Origins = new Map();
  const def = toPlain(main!.root!, '', origins);
  return {
    spec: specFromDef(def, origins),
    origins,
    sources: [sources[0], ...sources.slice(1).sort((a, b) => (a.path < b.path ? -1 : 1))],
  };
}

/** By file (the entry, then imports as they were read), then line and column. */
function sortErrors(errors: CtcError[], files: string[]): CtcError[] {
  const key = (e: CtcError) => {
    const m = /^(.*):(\d+):(\d+)$/.exec(e.source ?? '');
    return m ? [files.indexOf(m[1]), Number(m[2]), Number(m[3])] : [-1, 0, 0];
  };
  return errors
    .map((e, i) => ({ e, i, k: key(e) }))
    .sort((a, b) => a.k[0] - b.k[0] || a.k[1] - b.k[1] || a.k[2] - b.k[2] || a.i - b.i)
    .map((x) => x.e);
}
