// The TypeScript frontend: app.ct.ts → Spec. The module is type-checked
// against the stdlib's types with the TypeScript compiler API, checked for
// imports and clock/randomness use, then evaluated hermetically (sandbox.ts).

import { createHash } from 'node:crypto';
import { dirname, join, relative, resolve } from 'node:path';
import ts from 'typescript';
import { CtcError, throwAll } from '../../common/error.ts';
import type { SourceReader } from '../confine.ts';
import { packageRoot } from '../../common/package.ts';
import type { Origins } from '../spec.ts';
import { specFromDef } from './def.ts';
import { readSource, readUserFile } from './ts-reads.ts';
import { originsTransformer } from './origins.ts';
import { evaluateInSandbox, refusal, throwSite, type SandboxModule } from './sandbox.ts';
import type { FrontendResult } from './result.ts';
import { capabilityNumbers } from '../../stdlib/capabilities.ts';
import { closest } from './dsl/names.ts';

const STDLIB_SPECIFIER = 'ctc';

const stdlibDir = () => join(packageRoot(), 'stdlib');

const compilerOptions = (): ts.CompilerOptions => ({
  strict: true,
  noEmit: true,
  target: ts.ScriptTarget.ES2022,
  module: ts.ModuleKind.ESNext,
  moduleResolution: ts.ModuleResolutionKind.Bundler,
  allowImportingTsExtensions: true,
  // No @types: `process`, `require` and node modules are not even names.
  types: [],
  lib: ['lib.es2022.d.ts'],
  paths: { [STDLIB_SPECIFIER]: [join(stdlibDir(), 'index.ts')] },
  skipLibCheck: true,
});

export function compileTs(entryPath: string): FrontendResult {
  return evaluateTs(checkTs(entryPath));
}

interface Checked {
  entry: string;
  name: (file: string) => string;
  userFiles: ts.SourceFile[];
  modules: CompiledModule[];
}

/** Type-checks and transpiles, without evaluating: also what the build snapshot does at install time. */
export function checkTs(entryPath: string): Checked {
  const entry = resolve(entryPath);
  const base = dirname(entry);
  const name = (file: string) => relative(base, file) || file;
  const reader = readSource(entry);

  const options = compilerOptions();
  const program = ts.createProgram({ rootNames: [entry], options, host: cachingHost(options, reader) });
  const userFiles = program.getSourceFiles().filter((sf) => !program.isSourceFileDefaultLibrary(sf) && !isStdlib(sf.fileName));

  // Refused imports first: their "cannot find module" type errors would only repeat them.
  throwAll(userFiles.flatMap((sf) => staticRefusals(sf, name)));
  throwAll(preEmitDiagnostics(program, userFiles).map((d) => diagnosticError(d, name)));

  const modules = [...userFiles.map((sf) => userModule(sf, name)), ...stdlibModules(program)];
  return { entry, name, userFiles, modules };
}

function evaluateTs({ entry, name, userFiles, modules }: Checked): FrontendResult {
  const answer = evaluateInSandbox(
    modules.map((m) => m.module),
    name(entry),
  );
  if ('error' in answer) throw evaluationError(answer.error, name(entry), modules);
  const origins: Origins = new Map(answer.origins.filter(([path, pos]) => typeof path === 'string' && typeof pos === 'string'));
  return {
    spec: specFromDef(answer.def, origins),
    origins,
    // the entry first, then what it imports, by name
    sources: userFiles
      .map((sf) => ({ path: name(sf.fileName), sha256: sha256(sf.text) }))
      .sort((a, b) => Number(b.path === name(entry)) - Number(a.path === name(entry)) || (a.path < b.path ? -1 : 1)),
  };
}

// Parsed (and, once checked, bound) SourceFiles of the default library and the
// stdlib, kept for the next program in this process: the lib .d.ts files are
// most of what a build parses. `ctc build` runs from a V8 startup snapshot
// (cli/build-snapshot.ts) that holds them already. A file is reused only if its
// text on disk is still the text it was parsed from.
const sharedFiles = new Map<string, ts.SourceFile>();

// The user's files are read through `reader` alone: TypeScript would read
// whatever a relative import or `/// <reference path>` names, and quote it.
function cachingHost(options: ts.CompilerOptions, reader: SourceReader): ts.CompilerHost {
  const host = ts.createCompilerHost(options);
  const getSourceFile = host.getSourceFile;
  const libDir = host.getDefaultLibLocation!();
  const userFiles: ts.SourceFile[] = [];
  host.getSourceFile = (fileName, languageVersion) => {
    const shared = dirname(fileName) === libDir || isStdlib(fileName);
    if (!shared) {
      const sf = ts.createSourceFile(fileName, readUserFile(reader, fileName, userFiles), languageVersion);
      userFiles.push(sf);
      return sf;
    }
    const cached = sharedFiles.get(fileName);
    if (cached && cached.text === host.readFile(fileName)) return cached;
    const sf = getSourceFile(fileName, languageVersion);
    if (sf) sharedFiles.set(fileName, sf);
    return sf;
  };
  return host;
}

// Stdlib SourceFiles (shared, so of unchanged text) that a program in this
// process has already checked without a diagnostic. Their bodies depend only
// on the default library and each other, never on a user's module, unless a
// user file can add to the global scope: a script (no import or export) or a
// `declare global` / `declare module` augmentation. Then everything is checked.
const cleanStdlib = new WeakSet<ts.SourceFile>();

/** ts.getPreEmitDiagnostics, without checking clean stdlib files again. */
function preEmitDiagnostics(program: ts.Program, userFiles: ts.SourceFile[]): readonly ts.Diagnostic[] {
  const augments = userFiles.some((sf) => !ts.isExternalModule(sf) || sf.statements.some(ts.isModuleDeclaration));
  const semantic = program.getSourceFiles().flatMap((sf) => {
    if (!isStdlib(sf.fileName)) return program.getSemanticDiagnostics(sf);
    if (cleanStdlib.has(sf) && !augments) return [];
    const found = program.getSemanticDiagnostics(sf);
    if (found.length === 0 && !augments) cleanStdlib.add(sf);
    return found;
  });
  return ts.sortAndDeduplicateDiagnostics([
    ...program.getConfigFileParsingDiagnostics(),
    ...program.getOptionsDiagnostics(),
    ...program.getSyntacticDiagnostics(),
    ...program.getGlobalDiagnostics(),
    ...semantic,
  ]);
}

const isStdlib = (file: string) => resolve(file).startsWith(stdlibDir() + '/');
const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

function position(sf: ts.SourceFile, pos: number, name: (f: string) => string): string {
  const { line, character } = sf.getLineAndCharacterOfPosition(pos);
  return `${name(sf.fileName)}:${line + 1}:${character + 1}`;
}

function diagnosticError(d: ts.Diagnostic, name: (f: string) => string): CtcError {
  const message = ts.flattenDiagnosticMessageText(d.messageText, '\n  ');
  const source = d.file && d.start !== undefined ? position(d.file, d.start, name) : undefined;
  const capability = notACapability(message);
  if (capability)
    return new CtcError('CT_TYPE', `TS${d.code} '${capability}' is not a capability`, { source, hint: capabilityHint(capability) });
  return new CtcError('CT_TYPE', `TS${d.code} ${message}`, { source });
}

/**
 * TypeScript cuts a long union short ("... 30 more ..."), so its message
 * for a misspelled capability lists a third of them: say what it is, name
 * the nearest one and where the list is.
 */
function notACapability(message: string): string | undefined {
  return /^Type '"([^"]*)"' is not assignable to type '"CAP_[A-Z_]+" \| [^\n]*'\.$/.exec(message)?.[1];
}

function capabilityHint(name: string): string {
  const near = closest(name, Object.keys(capabilityNumbers));
  return `${near ? `did you mean '${near}'? ` : ''}the capabilities are capabilities(7)'s names, listed in stdlib/capabilities.ts`;
}

/** Imports outside the stdlib and relative .ct.ts files; clock and randomness. */
function staticRefusals(sf: ts.SourceFile, name: (f: string) => string): CtcError[] {
  const errors: CtcError[] = [];
  const at = (node: ts.Node) => position(sf, node.getStart(sf), name);
  const visit = (node: ts.Node, parent?: ts.Node): void => {
    const spec = moduleSpecifier(node);
    if (spec && !allowedImport(spec.text)) {
      errors.push(
        new CtcError('CT_IMPORT', `cannot import '${spec.text}' in a container source`, {
          source: at(spec),
          hint: `import the stdlib as '${STDLIB_SPECIFIER}' and your own modules as relative './name.ct.ts' paths`,
        }),
      );
    }
    const banned = nondeterministic(node, parent);
    if (banned) {
      errors.push(
        new CtcError('CT_NONDETERMINISTIC', `${banned} is not available in container sources`, {
          source: at(node),
          hint: 'a source must give the same plan every time it is built; write the value down instead',
        }),
      );
    }
    ts.forEachChild(node, (child) => visit(child, node));
  };
  visit(sf);
  return errors;
}

function moduleSpecifier(node: ts.Node): ts.StringLiteral | undefined {
  if ((ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) && node.moduleSpecifier && ts.isStringLiteral(node.moduleSpecifier)) {
    return node.moduleSpecifier;
  }
  if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword) {
    const [arg] = node.arguments;
    return arg && ts.isStringLiteral(arg) ? arg : ts.factory.createStringLiteral('<computed>');
  }
  if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument) && ts.isStringLiteral(node.argument.literal)) {
    return node.argument.literal;
  }
  return undefined;
}

const allowedImport = (spec: string) => spec === STDLIB_SPECIFIER || (/^\.\.?\//.test(spec) && spec.endsWith('.ct.ts'));

function nondeterministic(node: ts.Node, p: ts.Node | undefined): string | undefined {
  const usedAsValue = p && (ts.isNewExpression(p) || ts.isCallExpression(p) || ts.isPropertyAccessExpression(p)) && p.expression === node;
  if (ts.isIdentifier(node) && node.text === 'Date' && usedAsValue) return 'Date';
  const isMathRandom =
    ts.isPropertyAccessExpression(node) &&
    ts.isIdentifier(node.expression) &&
    node.expression.text === 'Math' &&
    node.name.text === 'random';
  return isMathRandom ? 'Math.random' : undefined;
}

interface CompiledModule {
  module: SandboxModule;
  sourceMap?: string;
}

function transpile(sf: ts.SourceFile, transformers?: ts.CustomTransformers) {
  return ts.transpileModule(sf.text, {
    fileName: sf.fileName,
    compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, sourceMap: true, inlineSourceMap: false },
    transformers,
  });
}

function depsOf(sf: ts.SourceFile, idOf: (file: string) => string): Record<string, string> {
  const deps: Record<string, string> = {};
  for (const { fileName: spec } of ts.preProcessFile(sf.text, true, true).importedFiles) {
    deps[spec] = spec === STDLIB_SPECIFIER ? stdlibId(join(stdlibDir(), 'index.ts')) : idOf(resolve(dirname(sf.fileName), spec));
  }
  return deps;
}

const stdlibId = (file: string) => `ctc:${relative(stdlibDir(), file)}`;

function userModule(sf: ts.SourceFile, name: (f: string) => string): CompiledModule {
  const out = transpile(sf, { before: [originsTransformer(name(sf.fileName))] });
  const id = name(sf.fileName);
  return { module: { id, filename: id, code: out.outputText, deps: depsOf(sf, name) }, sourceMap: out.sourceMapText };
}

// Keyed by the shared SourceFile, so an edited stdlib file is transpiled again.
const stdlibCompiled = new WeakMap<ts.SourceFile, CompiledModule>();

function stdlibModules(program: ts.Program): CompiledModule[] {
  return program
    .getSourceFiles()
    .filter((sf) => isStdlib(sf.fileName))
    .map((sf) => {
      let compiled = stdlibCompiled.get(sf);
      if (!compiled) {
        const id = stdlibId(sf.fileName);
        compiled = { module: { id, filename: id, code: transpile(sf).outputText, deps: depsOf(sf, stdlibId) } };
        stdlibCompiled.set(sf, compiled);
      }
      return compiled;
    });
}

/** What the sandbox said went wrong, as a CtcError at the throw's source line where it has one. */
function evaluationError(
  error: { code?: unknown; message?: unknown; stack?: unknown },
  entry: string,
  modules: CompiledModule[],
): CtcError {
  if (error.code === 'CT_EXPORT')
    return new CtcError('CT_EXPORT', 'the module must `export default container({...})`', { source: `${entry}:1:1` });
  const raw = String(error.message ?? 'the module threw');
  const message = raw.replace(/^CT_\w+ /, '');
  const maps = new Map(modules.flatMap((m) => (m.sourceMap ? [[m.module.filename, m.sourceMap] as const] : [])));
  return new CtcError(refusal(raw) ?? 'CT_EVAL', message, { source: throwSite(String(error.stack ?? ''), maps, (file) => file) });
}
