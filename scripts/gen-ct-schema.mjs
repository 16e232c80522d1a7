// Writes compiler/frontend/dsl/schema.ts: the shape of a ContainerDef (every
// key, what it takes, whether it may be left out), read from stdlib/types.ts
// with the TypeScript compiler API. The .ct frontend checks keys and values
// against it, so the .ct language knows exactly the options the TypeScript
// frontend's type checker knows, from the same declarations.
//
//   node scripts/gen-ct-schema.mjs            # rewrites the schema
//   node scripts/gen-ct-schema.mjs --check    # fails if it is stale (a unit test runs this)

import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const out = join(root, 'compiler', 'frontend', 'dsl', 'schema.ts');

// Unions too large to copy, named instead: the .ct frontend reads their
// members from the stdlib's own tables (compiler/frontend/dsl/names.ts).
const named = {
  Capability: { t: 'names', of: 'Capability' },
  Syscall: { t: 'names', of: 'Syscall' },
  ErrnoName: { t: 'names', of: 'ErrnoName' },
  RlimitType: { t: 'names', of: 'RlimitType' },
  // number | ErrnoName: TypeScript flattens the union, so the alias is the only trace of it
  Errno: { t: 'union', of: [{ t: 'number' }, { t: 'names', of: 'ErrnoName' }] },
};

/** A template literal type as a regular expression over the whole text. */
function templateRegex(checker, type) {
  const part = (t) => {
    if (t.flags & ts.TypeFlags.Number) return '-?[0-9]+(?:\\.[0-9]+)?';
    if (t.flags & ts.TypeFlags.BigInt) return '-?[0-9]+';
    if (t.flags & ts.TypeFlags.String) return '[\\s\\S]*';
    if (t.isStringLiteral?.()) return escape(t.value);
    throw new Error(`template part ${checker.typeToString(t)}`);
  };
  const escape = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  let re = escape(type.texts[0]);
  type.types.forEach((t, i) => (re += part(t) + escape(type.texts[i + 1])));
  return `^${re}$`;
}

export function generate() {
  const program = ts.createProgram([join(root, 'stdlib', 'types.ts')], {
    strict: true,
    noEmit: true,
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.ESNext,
    moduleResolution: ts.ModuleResolutionKind.Bundler,
    allowImportingTsExtensions: true,
    types: [],
  });
  const checker = program.getTypeChecker();
  const sf = program.getSourceFile(join(root, 'stdlib', 'types.ts'));
  const decl = sf.statements.find((s) => ts.isInterfaceDeclaration(s) && s.name.text === 'ContainerDef');
  const def = checker.getTypeAtLocation(decl);

  const shapeOf = (type) => {
    const alias = type.aliasSymbol?.name;
    if (alias && named[alias]) return named[alias];
    if (type.isUnion()) {
      const members = type.types.filter((t) => !(t.flags & (ts.TypeFlags.Undefined | ts.TypeFlags.Null)));
      if (members.length && members.every((t) => t.flags & ts.TypeFlags.BooleanLiteral)) return { t: 'boolean' };
      return merge(members.map(shapeOf));
    }
    if (type.flags & ts.TypeFlags.String) return { t: 'string' };
    if (type.flags & (ts.TypeFlags.Number | ts.TypeFlags.NumberLiteral | ts.TypeFlags.BigInt)) return { t: 'number' };
    if (type.flags & (ts.TypeFlags.Boolean | ts.TypeFlags.BooleanLiteral)) return { t: 'boolean' };
    if (type.isStringLiteral()) return { t: 'enum', values: [type.value], patterns: [] };
    if (type.flags & ts.TypeFlags.TemplateLiteral) return { t: 'enum', values: [], patterns: [templateRegex(checker, type)] };
    if (checker.isArrayType(type) || checker.isTupleType(type)) {
      const args = checker.getTypeArguments(type);
      return { t: 'list', of: merge(args.map(shapeOf)) };
    }
    if (type.flags & (ts.TypeFlags.Object | ts.TypeFlags.Intersection)) {
      const index = checker.getIndexInfoOfType(type, ts.IndexKind.String);
      if (index) return { t: 'record', of: shapeOf(index.type) };
      const props = {};
      for (const p of checker.getPropertiesOfType(type)) {
        const t = checker.getTypeOfSymbol(p);
        const doc = ts.displayPartsToString(p.getDocumentationComment(checker)).replace(/\s+/g, ' ').trim();
        props[p.name] = { shape: shapeOf(t), optional: (p.flags & ts.SymbolFlags.Optional) !== 0, ...(doc ? { doc } : {}) };
      }
      return { t: 'object', props };
    }
    throw new Error(`no .ct shape for ${checker.typeToString(type)}`);
  };

  /** One shape for a union: enums joined, objects joined (a key of any member is known), the rest kept apart. */
  const merge = (shapes) => {
    const out = [];
    for (const s of shapes) {
      const same = out.find((o) => o.t === s.t && ['enum', 'object', 'list', 'record'].includes(s.t));
      if (same?.t === 'enum') {
        for (const v of s.values) if (!same.values.includes(v)) same.values.push(v);
        for (const p of s.patterns) if (!same.patterns.includes(p)) same.patterns.push(p);
      } else if (same?.t === 'object') {
        const keys = new Set([...Object.keys(same.props), ...Object.keys(s.props)]);
        const props = {};
        for (const k of keys) {
          const [a, b] = [same.props[k], s.props[k]];
          props[k] =
            a && b ? { ...a, shape: merge([a.shape, b.shape]), optional: a.optional || b.optional } : { ...(a ?? b), optional: true };
        }
        same.props = props;
      } else if (same) {
        same.of = merge([same.of, s.of]);
      } else if (!out.some((o) => JSON.stringify(o) === JSON.stringify(s))) {
        out.push(structuredClone(s));
      }
    }
    return out.length === 1 ? out[0] : { t: 'union', of: out };
  };

  const schema = shapeOf(def);
  return `// The shape of a ContainerDef, for the .ct frontend. Generated by
// scripts/gen-ct-schema.mjs from stdlib/types.ts. Do not edit:
//
//   node scripts/gen-ct-schema.mjs

import type { Shape } from './shape.ts';

export const containerShape: Shape = ${JSON.stringify(schema, null, 2)};
`;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const text = generate();
  if (process.argv.includes('--check')) {
    if (readFileSync(out, 'utf8') !== text) {
      console.error('compiler/frontend/dsl/schema.ts is stale: run node scripts/gen-ct-schema.mjs');
      process.exit(1);
    }
  } else {
    writeFileSync(out, text);
  }
}
