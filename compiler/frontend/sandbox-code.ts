// The two programs that run inside the sandbox (sandbox.ts starts them),
// kept as JavaScript source on purpose: they are compiled there, never in
// the build's own process.
//
// - the evaluator: Node's side, in the confined process. It reads the
//   modules and one task on stdin, runs them in a fresh V8 context and
//   writes one JSON answer on stdout.
// - the prelude: the first code of that context. It takes away the clock and
//   randomness, locks the stack-trace hook (a user-set Error.prepareStackTrace
//   is handed V8's call sites, whose constructors reach the outer realm's
//   Function), keeps the module loader and the origin tags out of user
//   code's reach, does the task, and turns its result into a JSON string
//   inside the context, so no object of user code ever meets the outer realm.
//
// The tasks (SandboxTask in sandbox.ts; the caller checks every answer):
// - container: a .ct.ts module's default export, as {def, origins}.
// - lint-describe: a lint plugin's rules as data, {rules: [{id, description,
//   options, check}]} (check: whether it is a function), or {rules: null}
//   when the plugin exports no list.
// - lint-check: the plugin's rules over plans, {reports: [check][rule][report]}
//   with each report {message, step} (a string, or null when the rule gave
//   something else; the step's number); a rule that throws ends the run as
//   {error: {code: 'CT_LINT_RULE', check, rule, message, stack}}.

export const NONDETERMINISTIC = 'CT_NONDETERMINISTIC';

export const prelude = `'use strict';
(() => {
  const g = globalThis;
  const fixed = (o, k, value) => Object.defineProperty(o, k, { value, writable: false, configurable: false, enumerable: false });
  fixed(Error, 'prepareStackTrace', undefined);
  for (const name of ['Error', 'RangeError', 'TypeError', 'SyntaxError', 'ReferenceError', 'EvalError', 'URIError', 'AggregateError']) fixed(g, name, g[name]);

  const refuse = (what) => () => {
    throw new Error('${NONDETERMINISTIC} ' + what + ' is not available in container sources: the same source must always give the same plan');
  };
  const NoDate = function Date() { refuse('Date')(); };
  NoDate.now = refuse('Date.now');
  NoDate.parse = refuse('Date.parse');
  NoDate.UTC = refuse('Date.UTC');
  fixed(g, 'Date', Object.freeze(NoDate));
  fixed(Math, 'random', refuse('Math.random'));
  for (const name of ['Intl', 'WeakRef', 'FinalizationRegistry', 'SharedArrayBuffer', 'Atomics', 'WebAssembly']) delete g[name];

  // Taken now: user code may replace the globals later, not these.
  const { stringify } = JSON;
  const { isArray } = Array;
  const { assign, entries, fromEntries, freeze } = Object;
  const { apply } = Reflect;
  const WeakMapOf = WeakMap, MapOf = Map, finite = Number.isFinite, parseJson = JSON.parse;
  const tagGet = WeakMap.prototype.get, tagHas = WeakMap.prototype.has, tagSet = WeakMap.prototype.set;

  const tags = new WeakMapOf();
  const isObj = (v) => v !== null && typeof v === 'object';
  const copy = (v) => (isArray(v) ? v.slice() : assign({}, v));
  const o = (obj, self, props) => { apply(tagSet, tags, [obj, { self, props: fromEntries(props) }]); return obj; };
  const e = (v, self) => (isObj(v) && !apply(tagHas, tags, [v]) ? o(copy(v), self, []) : v);
  const s = (v, self) => (isArray(v) ? v.map((x) => e(x, self)) : v);

  const factories = new MapOf(), deps = new MapOf(), cache = new MapOf();
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
  const define = (id, factory, depsJson) => { factories.set(id, factory); deps.set(id, parseJson(depsJson)); };

  // The origin tags of the value, by path, as the compiler's Origins (first wins).
  const MAX_DEPTH = 64;
  const originsOf = (value) => {
    const found = new MapOf();
    const walk = (v, path, stack) => {
      if (!isObj(v)) return;
      if (stack.includes(v)) throw new TypeError('CT_SHAPE ' + (path || 'the container') + ' contains itself');
      if (stack.length > MAX_DEPTH) throw new TypeError('CT_SHAPE ' + path + ' is nested more than ' + MAX_DEPTH + ' levels deep');
      const tag = apply(tagGet, tags, [v]);
      const key = (k) => (isArray(v) ? path + '[' + k + ']' : path ? path + '.' + k : k);
      if (tag && !found.has(path)) found.set(path, String(tag.self));
      if (tag) for (const [k, pos] of entries(tag.props)) if (!found.has(key(k))) found.set(key(k), String(pos));
      for (const [k, x] of entries(v)) walk(x, key(k), [...stack, v]);
    };
    walk(value, '', []);
    return [...found];
  };
  // Numbers JSON cannot hold, bigints and symbols come out as what they are
  // not (an object where the compiler expects a number says "expected …").
  const plain = (k, v) =>
    typeof v === 'bigint' || typeof v === 'symbol' ? { unsupported: typeof v }
    : typeof v === 'number' && !finite(v) ? { unsupported: String(v) }
    : v;
  const describe = (err) => {
    let message = 'a value that cannot be shown was thrown', stack = '';
    try { message = String(isObj(err) && 'message' in err ? err.message : err); } catch {}
    try { stack = isObj(err) ? String(err.stack) : ''; } catch {}
    return { message, stack };
  };
  const failed = (code, err, more) => stringify(assign({ code }, more, describe(err)));

  const container = ({ entry }) => {
    const exported = load(entry).default;
    if (!isObj(exported) || exported.kind !== 'ctc.container') return stringify({ error: { code: 'CT_EXPORT' } });
    const def = exported.def;
    const origins = stringify(originsOf(def));
    return '{"def":' + (stringify(def, plain) ?? 'null') + ',"origins":' + origins + '}';
  };

  // A plugin exports its rules as \`export const rules = [...]\` or \`export default [...]\`.
  const rulesOf = (entry) => {
    const exported = load(entry);
    const rules = isObj(exported) ? exported.rules ?? exported.default : undefined;
    return isArray(rules) ? rules : undefined;
  };
  const loaded = (entry, then) => {
    let rules;
    try { rules = rulesOf(entry); } catch (err) { return '{"error":' + failed('CT_LINT_PLUGIN', err) + '}'; }
    return then(rules);
  };

  const lintDescribe = ({ entry }) => loaded(entry, (rules) => {
    if (!rules) return '{"rules":null}';
    const data = [];
    for (const r of rules) {
      data.push(isObj(r) ? { id: r.id, description: r.description, options: r.options, check: typeof r.check === 'function' } : null);
    }
    return stringify({ rules: data }, plain);
  });

  // Each rule reads a plan of its own, parsed here: what one rule changes, the next does not see.
  const lintCheck = ({ entry, checks }) => loaded(entry, (rules) => {
    const byId = new MapOf();
    for (const r of rules ?? []) if (isObj(r) && !byId.has(r.id)) byId.set(r.id, r);
    const out = [];
    for (let c = 0; c < checks.length; c++) {
      const perRule = [];
      for (const { id, options } of checks[c].rules) {
        try {
          const reports = [];
          for (const r of byId.get(id).check(parseJson(checks[c].plan), options)) {
            const message = isObj(r) ? r.message : undefined, step = isObj(r) && isObj(r.step) ? r.step.n : undefined;
            reports.push({ message: typeof message === 'string' ? message : null, step: typeof step === 'number' ? step : null });
          }
          perRule.push(reports);
        } catch (err) {
          return '{"error":' + failed('CT_LINT_RULE', err, { check: c, rule: String(id) }) + '}';
        }
      }
      out.push(perRule);
    }
    return stringify({ reports: out });
  });

  const tasks = new MapOf([['container', container], ['lint-describe', lintDescribe], ['lint-check', lintCheck]]);
  const run = (taskJson) => {
    try {
      const task = parseJson(taskJson);
      const does = tasks.get(task.task);
      return does ? does(task) : stringify({ error: { code: 'CT_SANDBOX', message: 'no such task: ' + task.task } });
    } catch (err) {
      try { return stringify({ error: describe(err) }); } catch { return '{"error":{"message":"a value that cannot be shown was thrown"}}'; }
    }
  };
  fixed(g, '__ctc', freeze({ o: freeze(o), e: freeze(e), s: freeze(s), define: freeze(define), run: freeze(run) }));
})();`;

/** Node's side, run as `node -e evaluator` in the sandbox: {prelude, modules, task, timeoutMs} on stdin. */
export const evaluator = `'use strict';
const vm = require('node:vm');
const fs = require('node:fs');
// stdout is the caller's socketpair, which Node's streams cannot tell from
// the filter's EPERM for getsockname: written with plain write(2) calls.
const answer = (text) => {
  const bytes = Buffer.from(text);
  for (let at = 0; at < bytes.length; ) {
    try {
      at += fs.writeSync(1, bytes, at);
    } catch (err) {
      if (err.code !== 'EAGAIN') throw err;
    }
  }
};
function main() {
  const input = JSON.parse(fs.readFileSync(0, 'utf8'));
  const context = vm.createContext(Object.create(null), {
    name: 'ctc-source',
    codeGeneration: { strings: false, wasm: false },
    // promise jobs run inside each runInContext, under its timeout
    microtaskMode: 'afterEvaluate',
  });
  const inContext = (code, filename, timeout) => new vm.Script(code, { filename }).runInContext(context, { timeout });
  inContext(input.prelude, 'ctc:prelude');
  const define = inContext('__ctc.define', 'ctc:define');
  for (const m of input.modules) {
    define(m.id, inContext('(function (exports, require, module) {' + m.code + '\\n})', m.filename), JSON.stringify(m.deps));
  }
  // the task goes in as a string literal: the prelude parses it inside the context
  const out = inContext('__ctc.run(' + JSON.stringify(JSON.stringify(input.task)) + ')', 'ctc:run', input.timeoutMs);
  answer(typeof out === 'string' ? out : JSON.stringify({ error: { message: 'the evaluation gave no answer' } }));
}
try {
  main();
} catch (err) {
  const limit = err && err.code === 'ERR_SCRIPT_EXECUTION_TIMEOUT';
  answer(JSON.stringify({ error: { code: limit ? 'CT_EVAL_LIMIT' : 'CT_EVAL', message: limit ? 'time' : String(err && err.message) } }));
}
`;
