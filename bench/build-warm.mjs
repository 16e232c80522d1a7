// Warm `ctc build`: the same build repeated in one process that has already
// built once (compiler and TypeScript loaded, JIT warm), which is what a
// watch mode or a build server would see. Cold builds (a fresh process each)
// are timed by hyperfine in run.sh.
//
// Usage: node build-warm.mjs OUT.json PLANDIR EXAMPLE.ct.ts...
// Writes OUT.json in hyperfine's export shape ({results: [{command, times, ...}]}).

import { readFileSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { performance } from 'node:perf_hooks';

const [out, planDir, ...examples] = process.argv.slice(2);
const runs = Number(process.env.BENCH_BUILD_WARM || 30);
const dist = join(dirname(fileURLToPath(import.meta.url)), '..', 'dist');

// Use exactly the compiler `ctc build` runs: the chunk of dist/ that exports
// compiler/build.ts, found by following the CLI's dynamic imports.
async function findCompiler() {
  const seen = new Set();
  const queue = ['ctc.mjs'];
  while (queue.length) {
    const file = queue.shift();
    const text = readFileSync(join(dist, file), 'utf8');
    for (const [, rel] of text.matchAll(/import\("\.\/(?:chunks\/)?([\w-]+\.mjs)"\)/g)) {
      const chunk = `chunks/${rel}`;
      if (seen.has(chunk)) continue;
      seen.add(chunk);
      const m = await import(pathToFileURL(join(dist, chunk)).href);
      if (typeof m.build === 'function' && typeof m.defaultPlanPath === 'function') return m.build;
      queue.push(chunk);
    }
  }
  throw new Error('bench: cannot find the compiler chunk in dist/ (did the bundle layout change?)');
}
const build = await findCompiler();

const planOf = (src) => join(planDir, `${basename(src, '.ct.ts')}.warm.plan`);
const once = async (src) => writeFileSync(planOf(src), (await build(src)).text);
// The first build of each example in this process is the cold one: not counted.
for (const src of examples) await once(src);

const results = [];
for (const src of examples) {
  const name = basename(src, '.ct.ts');
  const times = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    await once(src);
    times.push((performance.now() - t0) / 1000);
  }
  const sorted = [...times].sort((a, b) => a - b);
  const mean = times.reduce((a, b) => a + b, 0) / times.length;
  const median = (sorted[(sorted.length - 1) >> 1] + sorted[sorted.length >> 1]) / 2;
  const stddev = Math.sqrt(times.reduce((a, t) => a + (t - mean) ** 2, 0) / Math.max(1, times.length - 1));
  results.push({ command: name, mean, stddev, median, min: sorted[0], max: sorted.at(-1), times });
}
writeFileSync(out, JSON.stringify({ results }, null, 2));
