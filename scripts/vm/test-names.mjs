// Loaded with `node --import` in the guest (scripts/vm/run.mjs): every uvu test
// prints its own line, `  ok NAME (N s)` or `  FAIL NAME (N s)`, as it ends.
// uvu's own reporter prints one dot per test, and a TCG guest's log must show
// which test passed, which failed and what each one cost.

import { register } from 'node:module';

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
