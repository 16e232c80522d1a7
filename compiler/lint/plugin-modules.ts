// A lint plugin's modules as the sandbox runs them (frontend/sandbox.ts):
// the plugin file and the relative files it imports, read confined to the
// project (compiler/confine.ts) and transpiled to CommonJS with the
// TypeScript compiler ctc ships (nothing of them runs here; types are the
// author's editor's business), and the rule API it imports as 'ctc/lint' or
// 'ctc': stdlib/lint.ts and what it imports, transpiled from ctc's own
// sources. A .js or .mjs plugin is transpiled the same way (ESM to
// CommonJS). Any other import that is left after transpiling (a type-only
// one is not) is refused at its line: a plugin has no Node modules.

import { readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import type ts from 'typescript';
import type { SourceReader } from '../confine.ts';
import { CtcError } from '../../common/error.ts';
import { packageRoot } from '../../common/package.ts';
import type { SandboxModule } from '../frontend/sandbox.ts';

export interface PluginModules {
  /** the id of the plugin file's module */
  entry: string;
  modules: SandboxModule[];
  /** module filename → its source map, for the lines of errors */
  maps: Map<string, string>;
  /** module filename → the file's path */
  paths: Map<string, string>;
}

/** What a plugin and the files it imports are: TypeScript or JavaScript, ESM or CommonJS. */
export const PLUGIN_FILE = /\.[cm]?[jt]s$/;
const API_SPECIFIERS = ['ctc/lint', 'ctc'];
const API_FILE = 'stdlib/lint.ts';

let typescript: typeof ts | undefined;
let apiModules: SandboxModule[] | undefined;

/** The plugin `file` (real, checked by the caller) and what it imports, read through `reader`. */
export async function pluginModules(file: string, reader: SourceReader, site: string | undefined): Promise<PluginModules> {
  const compiler = (typescript ??= (await import('typescript')).default);
  const api = (apiModules ??= ctcModules(compiler, API_FILE));
  const modules: SandboxModule[] = [];
  const maps = new Map<string, string>();
  const paths = new Map<string, string>();
  const add = (path: string, at: string | undefined): string => {
    const id = reader.name(path);
    if (maps.has(id)) return id;
    const text = reader.read(path, { name: id, site: at });
    const out = transpile(compiler, text, path, true);
    maps.set(id, out.sourceMapText ?? '{"mappings":""}');
    paths.set(id, resolve(path));
    const deps: Record<string, string> = {};
    for (const spec of requiresOf(compiler, out.outputText)) {
      if (API_SPECIFIERS.includes(spec)) deps[spec] = api[0].id;
      else if (/^\.\.?\//.test(spec) && PLUGIN_FILE.test(spec))
        deps[spec] = add(resolve(dirname(path), spec), importSite(compiler, text, spec, id));
      else throw refusedImport(spec, importSite(compiler, text, spec, id) ?? id);
    }
    modules.push({ id, filename: id, code: out.outputText, deps });
    return id;
  };
  const entry = add(file, site);
  return { entry, modules: [...modules, ...api], maps, paths };
}

function transpile(compiler: typeof ts, text: string, fileName: string, sourceMap: boolean): ts.TranspileOutput {
  return compiler.transpileModule(text, {
    // as .ts or .js: TypeScript keeps a .mjs or .mts an ES module whatever `module` says
    fileName: fileName.replace(/\.[cm]([jt]s)$/, '.$1'),
    compilerOptions: {
      module: compiler.ModuleKind.CommonJS,
      target: compiler.ScriptTarget.ES2022,
      esModuleInterop: true,
      sourceMap,
      inlineSourceMap: false,
    },
  });
}

/** The modules a transpiled module requires (its import() too): what it will ask for at run time. */
const requiresOf = (compiler: typeof ts, js: string) => [
  ...new Set(compiler.preProcessFile(js, true, true).importedFiles.map((f) => f.fileName)),
];

/** file:line:col of the import of `spec` in the source text. */
function importSite(compiler: typeof ts, text: string, spec: string, name: string): string | undefined {
  const ref = compiler.preProcessFile(text, true, true).importedFiles.find((f) => f.fileName === spec);
  if (!ref) return undefined;
  const lines = text.slice(0, ref.pos).split('\n');
  return `${name}:${lines.length}:${lines[lines.length - 1].length + 1}`;
}

function refusedImport(spec: string, site: string): CtcError {
  return new CtcError('CT_LINT_PLUGIN', `cannot import '${spec}' in a lint plugin`, {
    source: site,
    hint: "a plugin runs sandboxed, without Node's modules: it imports 'ctc/lint', and its own files by relative path with their extension ('./names.ts')",
  });
}

/** One of ctc's own files (relative to the package) and the relative files it imports, transpiled; the file first. */
function ctcModules(compiler: typeof ts, file: string, done = new Map<string, SandboxModule>()): SandboxModule[] {
  const id = `ctc:${file}`;
  if (done.has(id)) return [...done.values()];
  const path = join(packageRoot(), file);
  const js = transpile(compiler, readFileSync(path, 'utf8'), path, false).outputText;
  const module: SandboxModule = { id, filename: id, code: js, deps: {} };
  done.set(id, module);
  for (const spec of requiresOf(compiler, js)) {
    const dep = relative(packageRoot(), resolve(dirname(path), spec));
    module.deps[spec] = `ctc:${dep}`;
    ctcModules(compiler, dep, done);
  }
  return [...done.values()];
}
