// Evaluates container modules hermetically: in a fresh V8 context with only
// the JavaScript built-ins, no clock, no randomness, no host objects. The
// module loader and the origin tags live inside the context, so nothing from
// the host realm (whose Function constructor would reach `process`) is ever
// handed to user code. Only strings cross in, plain data comes out.

import vm from 'node:vm';

export interface SandboxModule {
  id: string;
  /** the name used in stack traces */
  filename: string;
  /** CommonJS code */
  code: string;
  /** import specifier → module id */
  deps: Record<string, string>;
}

export interface OriginTag {
  self: string;
  props: Record<string, string>;
}

export interface Sandbox {
  load(id: string): unknown;
  originTag(value: unknown): OriginTag | undefined;
}

const NONDETERMINISTIC = 'CT_NONDETERMINISTIC';

// Runs first in the context. Kept as plain JavaScript source on purpose: it
// must be compiled in the context's realm, not the host's.
const prelude = `'use strict';
(() => {
  const g = globalThis;
  const refuse = (what) => () => {
    throw new Error('${NONDETERMINISTIC} ' + what + ' is not available in container sources: the same source must always give the same plan');
  };
  const NoDate = function Date() { refuse('Date')(); };
  NoDate.now = refuse('Date.now');
  NoDate.parse = refuse('Date.parse');
  NoDate.UTC = refuse('Date.UTC');
  Object.defineProperty(g, 'Date', { value: NoDate });
  Math.random = refuse('Math.random');
  for (const name of ['Intl', 'WeakRef', 'FinalizationRegistry', 'SharedArrayBuffer', 'Atomics', 'WebAssembly']) delete g[name];

  const tags = new WeakMap();
  const isObj = (v) => v !== null && typeof v === 'object';
  const copy = (v) => (Array.isArray(v) ? v.slice() : Object.assign({}, v));
  const o = (obj, self, props) => { tags.set(obj, { self, props: Object.fromEntries(props) }); return obj; };
  const e = (v, self) => (isObj(v) && !tags.has(v) ? o(copy(v), self, []) : v);
  const s = (v, self) => (Array.isArray(v) ? v.map((x) => e(x, self)) : v);

  const factories = new Map(), deps = new Map(), cache = new Map();
  const load = (id) => {
    if (cache.has(id)) return cache.get(id).exports;
    const module = { exports: {} };
    cache.set(id, module);
    const require = (spec) => {
      const to = deps.get(id)[spec];
      if (typeof to !== 'string') throw new Error('CT_IMPORT ' + spec + ' cannot be imported here');
      return load(to);
    };
    factories.get(id)(module.exports, require, module);
    return module.exports;
  };
  const define = (id, factory, depsJson) => { factories.set(id, factory); deps.set(id, JSON.parse(depsJson)); };
  const origin = (v) => (isObj(v) ? tags.get(v) : undefined);
  Object.defineProperty(g, '__ctc', { value: Object.freeze({ o, e, s, define, load, origin }) });
})();`;

export function createSandbox(modules: SandboxModule[]): Sandbox {
  const context = vm.createContext(Object.create(null), {
    name: 'ctc-source',
    codeGeneration: { strings: false, wasm: false },
  });
  new vm.Script(prelude, { filename: 'ctc:prelude' }).runInContext(context);
  for (const m of modules) {
    const wrapper = `(function (exports, require, module) {${m.code}\n})`;
    const factory = new vm.Script(wrapper, { filename: m.filename }).runInContext(context);
    context.__ctc.define(m.id, factory, JSON.stringify(m.deps));
  }
  return {
    load: (id) => new vm.Script(`__ctc.load(${JSON.stringify(id)})`).runInContext(context, { timeout: 10_000 }),
    originTag: (value) => {
      const tag = context.__ctc.origin(value);
      return tag ? { self: String(tag.self), props: { ...tag.props } } : undefined;
    },
  };
}

/** Whether an error thrown in the sandbox was one of its refusals. */
export function refusal(err: unknown): 'CT_NONDETERMINISTIC' | 'CT_IMPORT' | undefined {
  const message = String((err as { message?: unknown })?.message ?? '');
  if (message.startsWith(NONDETERMINISTIC)) return 'CT_NONDETERMINISTIC';
  if (message.startsWith('CT_IMPORT')) return 'CT_IMPORT';
  return undefined;
}
