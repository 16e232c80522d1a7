// Loaded with `node --import` in the guest (NODE_OPTIONS, scripts/vm/run.mjs):
// every uvu test prints its own line, `  ok NAME (N s)` or `  FAIL NAME (N s)`,
// as it ends. uvu's own reporter prints one dot per test, and a TCG guest's
// log must show which test passed, which failed and what each one cost.
//
// Only uvu's process takes the hook (test/run.mjs passes NODE_OPTIONS on to
// it), and it keeps NODE_OPTIONS from the processes the tests start: a ctc
// with a loader thread is slower, and its build would not run from its snapshot.

import { register } from 'node:module';

if (/uvu[\\/]bin\.js$/.test(process.argv[1] ?? '')) {
  process.env.NODE_OPTIONS = (process.env.NODE_OPTIONS ?? '').replace(/--import[= ]\S*test-names\.mjs/, '').trim();
  register(
    'data:text/javascript,' +
      encodeURIComponent(`
const wrapper = ${JSON.stringify(new URL('./uvu-named.mjs', import.meta.url).href)};
export async function resolve(specifier, context, next) {
  // the tests' import of uvu, not the wrapper's own
  if (specifier === 'uvu' && context.parentURL !== wrapper) return { url: wrapper, shortCircuit: true };
  return next(specifier, context);
}`),
  );
}
