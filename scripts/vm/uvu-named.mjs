// uvu with a line per test (see test-names.mjs): the same suites, each
// test's handler wrapped to print its name, its result and its time.

import * as uvu from 'uvu';

const named = (name, handler) => async (state) => {
  const started = Date.now();
  const took = () => `(${((Date.now() - started) / 1000).toFixed(1)} s)`;
  try {
    await handler(state);
    process.stdout.write(`\n  ok ${name} ${took()}\n`);
  } catch (err) {
    process.stdout.write(`\n  FAIL ${name} ${took()}\n`);
    throw err;
  }
};

/** A suite whose tests (and .only tests) print their lines; everything else is uvu's. */
const withNames = (suite) => {
  const wrapped = (name, handler) => suite(name, named(name, handler));
  wrapped.only = (name, handler) => suite.only(name, named(name, handler));
  for (const key of ['before', 'after', 'skip', 'run']) wrapped[key] = suite[key];
  return wrapped;
};

export const test = withNames(uvu.test);
export const suite = (...args) => withNames(uvu.suite(...args));
export const exec = uvu.exec;
