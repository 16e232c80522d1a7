// Evaluates a .ct syntax tree against the ContainerDef's shape (schema.ts,
// generated from stdlib/types.ts) into the same plain object a .ct.ts module
// evaluates to, with the position of every part. Keys, names and values are
// checked here, each mistake collected with its position, so one run reports
// all of them; def.ts then reads the object exactly as it reads a .ct.ts one.
//
// Meaning by shape (the rules docs/ct-language.md gives):
//   object / record   `key { … }` and `key k2 v` merge into what the key holds
//   list              `key a b c` or `key { … }` (items; `use` splices, `drop` removes)
//   scalar            `key value`; a boolean key alone means true

import { CtcError, type ErrorCode } from '../../../common/error.ts';
import type { Origins } from '../../spec.ts';
import { closest, didYouMean, namesOf } from './names.ts';
import type { Pos, Stmt, Value } from './parser.ts';
import type { Shape } from './shape.ts';
import { sizeUnitForms } from '../../../stdlib/units.ts';

export type Node =
  | { k: 'scalar'; value: string | number | boolean; at: string }
  | { k: 'list'; items: Node[]; at: string }
  /** failed: keys whose value was wrong ('*': a `use` failed), not to be called missing as well */
  | { k: 'map'; props: Map<string, { node: Node; keyAt: string }>; at: string; failed?: Set<string> };

type ObjShape = Extract<Shape, { t: 'object' } | { t: 'record' }>;
type Block = Value & { k: 'block' };

const members = (s: Shape): Shape[] => (s.t === 'union' ? s.of : [s]);
const objectOf = (s: Shape) => members(s).find((m): m is ObjShape => m.t === 'object' || m.t === 'record');
const listOf = (s: Shape) => members(s).find((m): m is Extract<Shape, { t: 'list' }> => m.t === 'list');
const scalarOrder = ['number', 'boolean', 'enum', 'names', 'string'];
const scalarsOf = (s: Shape) =>
  members(s)
    .filter((m) => scalarOrder.includes(m.t))
    .sort((a, b) => scalarOrder.indexOf(a.t) - scalarOrder.indexOf(b.t));
const join = (path: string, key: string) => (path ? `${path}.${key}` : key);

/** What a shape takes, for messages. */
export function describe(s: Shape): string {
  switch (s.t) {
    case 'string':
      return 'a string';
    case 'number':
      return 'a whole number';
    case 'boolean':
      return 'true or false';
    case 'enum': {
      // template literal types, as the forms they allow: `${number}Mi` → NMi
      const forms = s.patterns.map((p) =>
        p
          .slice(1, -1)
          .replaceAll('-?[0-9]+(?:\\.[0-9]+)?', 'N')
          .replaceAll('-?[0-9]+', 'N')
          .replaceAll('[\\s\\S]*', '…')
          .replace(/\\(.)/g, '$1'),
      );
      if (!s.values.length && forms.includes('NMi') && forms.every((f) => /^N[A-Za-z]+$/.test(f)))
        return `a size with a unit: ${sizeUnitForms}`;
      const all = [...s.values, ...forms];
      return all.length <= 10
        ? `one of ${all.join(', ')}`
        : `a name${commonPrefix(s.values).length >= 3 ? ` ${commonPrefix(s.values)}…` : ''}`;
    }
    case 'names':
      return `a ${s.of === 'ErrnoName' ? 'errno' : s.of === 'RlimitType' ? 'rlimit' : s.of.toLowerCase()} name`;
    case 'object':
    case 'record':
      return 'a block { … }';
    case 'list':
      return 'a list';
    case 'union':
      return s.of.map(describe).join(' or ');
  }
}

/** The property an object list item may be labelled with, and dropped by: its first that takes a name or string. */
export function labelKey(s: ObjShape): string | undefined {
  if (s.t !== 'object') return undefined;
  return Object.entries(s.props).find(([, p]) => ['string', 'enum', 'names'].includes(p.shape.t))?.[0];
}

const NUMBER = /^(-?)(0x[0-9a-fA-F]+|0o[0-7]+|0b[01]+|[0-9]+)$/;
function parseNumber(text: string): number | undefined {
  const m = NUMBER.exec(text);
  if (!m) return undefined;
  const n = Number(m[2]) * (m[1] ? -1 : 1);
  return Number.isSafeInteger(n) ? n : undefined;
}

/** A plain value (a preset) as a node, every part at `at`. */
export function fromPlain(v: unknown, at: string): Node | undefined {
  if (Array.isArray(v)) return { k: 'list', items: v.map((x) => fromPlain(x, at)).filter((x): x is Node => x !== undefined), at };
  if (v !== null && typeof v === 'object') {
    const props = new Map<string, { node: Node; keyAt: string }>();
    for (const [k, x] of Object.entries(v)) {
      const node = fromPlain(x, at);
      if (node) props.set(k, { node, keyAt: at });
    }
    return { k: 'map', props, at };
  }
  if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') return { k: 'scalar', value: v, at };
  return undefined;
}

export function clone(n: Node): Node {
  if (n.k === 'list') return { ...n, items: n.items.map(clone) };
  if (n.k === 'map') return { ...n, props: new Map([...n.props].map(([k, e]) => [k, { ...e, node: clone(e.node) }])) };
  return { ...n };
}

/** The plain value, and where each part of it was written. */
export function toPlain(n: Node, path: string, origins: Origins): unknown {
  if (!origins.has(path)) origins.set(path, n.at);
  if (n.k === 'scalar') return n.value;
  if (n.k === 'list') return n.items.map((x, i) => toPlain(x, `${path}[${i}]`, origins));
  const out: Record<string, unknown> = {};
  for (const [k, { node, keyAt }] of n.props) {
    origins.set(join(path, k), keyAt);
    // A key is data: assigned, `sysctl { __proto__ 1 }` would set the object's prototype, and vanish.
    Object.defineProperty(out, k, { value: toPlain(node, join(path, k), origins), enumerable: true, writable: true, configurable: true });
  }
  return out;
}

/** What `use NAME.path` can reach: `preset` (the stdlib's values) and the file's imports. */
export interface Scope {
  presets: Record<string, unknown>;
  imports: Map<string, Node | undefined>;
}

export class Evaluator {
  constructor(
    readonly file: string,
    readonly scope: Scope,
    readonly errors: CtcError[],
    /** lines with a syntax error: their statements are left out, not misread */
    readonly badLines: Set<number>,
  ) {}

  src = (p: Pos) => `${this.file}:${p.line}:${p.col}`;

  error(code: ErrorCode, message: string, at: Pos, hint?: string): undefined {
    this.errors.push(new CtcError(code, message, { source: this.src(at), ...(hint ? { hint } : {}) }));
    return undefined;
  }

  /** `use preset.maskedPaths.default`, `use base.process.env`. */
  resolve(ref: string, at: Pos, quiet = false): Node | undefined {
    const [head, ...rest] = ref.split('.');
    const fail = (message: string, hint?: string) => (quiet ? undefined : this.error('CT_UNKNOWN_NAME', message, at, hint));
    if (head === 'preset') {
      let v: unknown = this.scope.presets;
      const seen: string[] = [];
      for (const k of rest) {
        const here = v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
        // its own names: `in` would find 'preset.__proto__' (Object.prototype, an empty block) and 'preset.constructor'
        if (!Object.hasOwn(here, k)) {
          const known = Object.keys(here).map((x) => [...seen, x].join('.'));
          return fail(`unknown preset 'preset.${[...seen, k].join('.')}'`, hintFor([...seen, k].join('.'), known, 'preset.'));
        }
        v = here[k];
        seen.push(k);
      }
      const node = rest.length ? fromPlain(v, this.src(at)) : undefined;
      return node ?? fail(`'${ref}' is not a value`, 'name a preset: use preset.defaultMounts');
    }
    if (!this.scope.imports.has(head)) {
      return fail(
        `unknown name '${head}'`,
        hintFor(head, ['preset', ...this.scope.imports.keys()], '') ??
          'presets are \'preset.NAME\'; an import is named by `import "./base.ct" as NAME`',
      );
    }
    let node = this.scope.imports.get(head);
    if (!node) return undefined; // the import failed, and said so
    for (const k of rest) {
      const next: Node | undefined =
        node.k === 'map' ? node.props.get(k)?.node : node.k === 'list' && /^\d+$/.test(k) ? node.items[Number(k)] : undefined;
      if (!next) return fail(`'${head}' has no '${k}'`, node.k === 'map' ? hintFor(k, node.props.keys(), '') : undefined);
      node = next;
    }
    return clone(node);
  }

  /** A block (or `use`) for an object or a record, merged into `base`. */
  mapBlock(shape: ObjShape, b: Block, base: Node | undefined, what: string): Node {
    const map: Node & { k: 'map' } =
      base?.k === 'map' ? (clone(base) as Node & { k: 'map' }) : { k: 'map', props: new Map(), at: this.src(b.at) };
    for (const st of b.stmts) {
      if (this.badLines.has(st.at.line)) continue;
      if (st.k === 'use') {
        const node = this.resolve(st.ref, st.refAt);
        if (node?.k !== 'map') (map.failed ??= new Set()).add('*');
        if (!node) continue;
        if (node.k !== 'map') {
          this.error(
            'CT_SHAPE',
            `${what || 'container'}: '${st.ref}' is ${node.k === 'list' ? 'a list' : 'a single value'}, not ${describe(shape)}`,
            st.refAt,
          );
          continue;
        }
        for (const [k, e] of node.props) map.props.set(k, e);
      } else if (st.k === 'drop') {
        for (const v of st.values) {
          if (v.k === 'block' || !map.props.delete(v.text)) {
            this.error(
              'CT_UNKNOWN_KEY',
              `${what || 'container'}: nothing to drop: '${v.k === 'block' ? '{ … }' : v.text}' is not set here`,
              v.at,
              v.k === 'block' ? undefined : hintFor(v.text, map.props.keys(), ''),
            );
          }
        }
      } else {
        this.statement(shape, map, st.values, what);
      }
    }
    return map;
  }

  /** `key value…` in an object or record. */
  statement(shape: ObjShape, map: Node & { k: 'map' }, values: Value[], what: string): void {
    const [first, ...rest] = values;
    if (first.k === 'block') return void this.error('CT_SHAPE', `${what || 'container'}: expected a key, found a block`, first.at);
    let key = first.text;
    if (shape.t === 'object') {
      // `memory.limit 64Mi` is `memory limit 64Mi`
      const dot = key.indexOf('.');
      if (first.k === 'word' && dot > 0 && !(key in shape.props)) {
        rest.unshift({ k: 'word', text: key.slice(dot + 1), at: { line: first.at.line, col: first.at.col + dot + 1 } });
        key = key.slice(0, dot);
      }
      const prop = Object.hasOwn(shape.props, key) ? shape.props[key] : undefined;
      if (!prop) {
        const keys = Object.keys(shape.props);
        // `procss { … }` is one mistake: 'process' is not missing as well
        const meant = closest(key, keys);
        if (meant) (map.failed ??= new Set()).add(meant);
        return void this.error(
          'CT_UNKNOWN_KEY',
          `${what || 'container'}: unknown key '${key}'`,
          first.at,
          hintFor(key, keys, '') ?? `the keys here: ${keys.join(', ')}`,
        );
      }
      const node = this.valueOf(prop.shape, rest, map.props.get(key)?.node, first.at, join(what, key));
      if (node) map.props.set(key, { node, keyAt: this.src(first.at) });
      else (map.failed ??= new Set()).add(key);
      return;
    }
    const node = this.valueOf(shape.of, rest, map.props.get(key)?.node, first.at, join(what, key));
    if (node) map.props.set(key, { node, keyAt: this.src(first.at) });
  }

  /** The value of a key (or a list item) from what follows it. */
  valueOf(shape: Shape, values: Value[], existing: Node | undefined, at: Pos, what: string): Node | undefined {
    const obj = objectOf(shape);
    const list = listOf(shape);
    const scalars = scalarsOf(shape);
    const [first] = values;
    if (values.length === 1 && first.k === 'block') {
      if (list && (!obj || this.looksLikeList(first, obj))) return this.listBlock(list.of, first, what);
      if (obj) return this.mapBlock(obj, first, existing, what);
      return this.error('CT_SHAPE', `${what}: expected ${describe(shape)}, found a block`, first.at);
    }
    if (!first) {
      if (scalars.some((s) => s.t === 'boolean')) return { k: 'scalar', value: true, at: this.src(at) };
      return this.error('CT_SHAPE', `${what}: expected ${describe(shape)} after the key`, at);
    }
    // `memory limit 64Mi`: the rest is a statement of the object the key holds
    if (
      obj &&
      first.k === 'word' &&
      (obj.t === 'record' ? values.length >= 2 && !list && !scalars.length : Object.hasOwn(obj.props, first.text.split('.')[0]))
    ) {
      const map: Node & { k: 'map' } =
        existing?.k === 'map' ? (clone(existing) as Node & { k: 'map' }) : { k: 'map', props: new Map(), at: this.src(first.at) };
      this.statement(obj, map, values, what);
      return map;
    }
    if (list && (values.length > 1 || !scalars.length))
      return { k: 'list', items: this.items(list.of, values, what, 0), at: this.src(first.at) };
    if (values.length > 1) return this.error('CT_SHAPE', `${what}: expected one value, found ${values.length}`, values[1].at);
    if (first.k === 'block') return undefined;
    if (!scalars.length) return this.error('CT_SHAPE', `${what}: expected ${describe(shape)}, found '${first.text}'`, first.at);
    return this.scalar(shape, first, what);
  }

  /** A block for a key that takes a list or an object (capabilities): an object if it starts with one of the object's keys. */
  looksLikeList(b: Block, obj: ObjShape): boolean {
    const [st] = b.stmts;
    if (!st) return true;
    if (st.k === 'use') return this.resolve(st.ref, st.refAt, true)?.k !== 'map';
    if (st.k === 'drop') return true;
    const v = st.values[0];
    return !(v.k === 'word' && obj.t === 'object' && Object.hasOwn(obj.props, v.text.split('.')[0]));
  }

  listBlock(item: Shape, b: Block, what: string): Node {
    const items: Node[] = [];
    for (const st of b.stmts) {
      if (this.badLines.has(st.at.line)) continue;
      if (st.k === 'use') {
        const node = this.resolve(st.ref, st.refAt);
        if (!node) continue;
        if (node.k !== 'list') {
          this.error('CT_SHAPE', `${what}: '${st.ref}' is not a list`, st.refAt);
          continue;
        }
        items.push(...node.items);
      } else if (st.k === 'drop') {
        for (const v of st.values) this.drop(item, items, v, what);
      } else {
        items.push(...this.items(item, st.values, what, items.length));
      }
    }
    return { k: 'list', items, at: this.src(b.at) };
  }

  /** Removes the items equal to `v` (object items: whose label is `v`). */
  drop(item: Shape, items: Node[], v: Value, what: string): void {
    if (v.k === 'block') return void this.error('CT_SHAPE', `${what}: drop takes names or strings, not a block`, v.at);
    const obj = objectOf(item);
    const label = obj && labelKey(obj);
    const text = (n: Node) => {
      const s = label && n.k === 'map' ? n.props.get(label)?.node : n;
      return s?.k === 'scalar' ? String(s.value) : undefined;
    };
    const before = items.length;
    const kept = items.filter((n) => text(n) !== v.text);
    if (kept.length === before) {
      const present = items.map(text).filter((x): x is string => x !== undefined);
      return void this.error(
        'CT_UNKNOWN_NAME',
        `${what}: nothing to drop: '${v.text}' is not in the list`,
        v.at,
        hintFor(v.text, present, ''),
      );
    }
    items.splice(0, items.length, ...kept);
  }

  /** Items written in a row: values, blocks, and labelled blocks (`/data { type bind }`). */
  items(item: Shape, values: Value[], what: string, start: number): Node[] {
    const out: Node[] = [];
    const obj = objectOf(item);
    for (let i = 0; i < values.length; i++) {
      const v = values[i];
      const path = `${what}[${start + out.length}]`;
      const next = values[i + 1];
      if (v.k === 'block') {
        const node = this.valueOf(item, [v], undefined, v.at, path);
        if (node) out.push(node);
      } else if (next?.k === 'block' && obj) {
        i++;
        const label = labelKey(obj);
        if (!label || obj.t !== 'object') {
          this.error('CT_SHAPE', `${path}: these items take no label: write the block alone`, v.at);
          continue;
        }
        const labelled = this.scalar(obj.props[label].shape, v, join(path, label));
        const base: Node = {
          k: 'map',
          props: new Map(labelled ? [[label, { node: labelled, keyAt: this.src(v.at) }]] : []),
          at: this.src(v.at),
          ...(labelled ? {} : { failed: new Set([label]) }),
        };
        out.push(this.mapBlock(obj, next, base, path));
      } else if (!scalarsOf(item).length) {
        this.error(
          'CT_SHAPE',
          `${path}: expected ${describe(item)}, found '${v.text}'`,
          v.at,
          obj && labelKey(obj) ? `an item is a block, or a label and a block: '${v.text}' { … } sets ${labelKey(obj)}` : undefined,
        );
      } else {
        const node = this.scalar(item, v, path);
        if (node) out.push(node);
      }
    }
    return out;
  }

  scalar(shape: Shape, v: Value & { k: 'word' | 'string' }, what: string): Node | undefined {
    const at = this.src(v.at);
    const scalars = scalarsOf(shape);
    for (const s of scalars) {
      if (s.t === 'number' && v.k === 'word') {
        const n = parseNumber(v.text);
        if (n !== undefined) return { k: 'scalar', value: n, at };
      }
      if (s.t === 'boolean' && v.k === 'word' && (v.text === 'true' || v.text === 'false'))
        return { k: 'scalar', value: v.text === 'true', at };
      if (s.t === 'enum' && (s.values.includes(v.text) || s.patterns.some((p) => new RegExp(p).test(v.text))))
        return { k: 'scalar', value: v.text, at };
      if (s.t === 'names' && namesOf(s.of).has(v.text)) return { k: 'scalar', value: v.text, at };
      if (s.t === 'string') return { k: 'scalar', value: v.text, at };
    }
    const names = scalars.flatMap((s) => (s.t === 'enum' ? s.values : s.t === 'names' ? [...namesOf(s.of)] : []));
    if (names.length) {
      const known = scalars.filter((s) => s.t === 'enum' || s.t === 'names');
      const hint =
        hintFor(v.text, names, '') ??
        (names.length <= 12 && known.every((s) => s.t === 'enum' && !s.patterns.length) ? `one of: ${names.join(', ')}` : undefined);
      return this.error('CT_UNKNOWN_NAME', `${what}: unknown name '${v.text}' (expected ${describe(shape)})`, v.at, hint);
    }
    return this.error(
      'CT_SHAPE',
      `${what}: expected ${describe(shape)}, found ${v.k === 'string' ? JSON.stringify(v.text) : `'${v.text}'`}`,
      v.at,
    );
  }

  /** Keys a complete container must have, everywhere in it. */
  required(shape: Shape, node: Node, what: string): void {
    const obj = objectOf(shape);
    if (node.k === 'list') {
      const list = listOf(shape);
      if (list) node.items.forEach((x, i) => this.required(list.of, x, `${what}[${i}]`));
      return;
    }
    if (node.k !== 'map' || !obj || node.failed?.has('*')) return;
    if (obj.t === 'record') {
      for (const [k, e] of node.props) this.required(obj.of, e.node, join(what, k));
      return;
    }
    for (const [k, p] of Object.entries(obj.props)) {
      const e = node.props.get(k);
      if (e) this.required(p.shape, e.node, join(what, k));
      else if (!p.optional && !node.failed?.has(k))
        this.errors.push(new CtcError('CT_SHAPE', `${what || 'container'}: '${k}' is missing`, { source: node.at, hint: p.doc }));
    }
  }
}

/** The start every one of the names shares ('CAP_' for capabilities), or ''. */
function commonPrefix(names: readonly string[]): string {
  let p = names[0] ?? '';
  for (const n of names) while (!n.startsWith(p)) p = p.slice(0, -1);
  return p;
}

function hintFor(word: string, known: Iterable<string>, prefix: string): string | undefined {
  const h = didYouMean(word, known);
  return h && prefix ? h.replace("'", `'${prefix}`) : h;
}

export type { Stmt };
