// Joins the rounds of one interleaved benchmark (bench/run.sh's
// `interleaved`: every round is one hyperfine invocation that ran each
// command once) into one export in hyperfine's shape, which report.mjs
// reads as it reads any hyperfine export. Prints each command's median
// (min–max) to stderr, as hyperfine would have.
//
// Usage: node merge-rounds.mjs OUT.json NAME,NAME,... ROUND.json...
// Plain Node, no dependencies.

import { readFileSync, writeFileSync } from 'node:fs';

const [out, order, ...rounds] = process.argv.slice(2);
const names = order.split(',');

const sum = (xs) => xs.reduce((a, b) => a + b, 0);
const mean = (xs) => sum(xs) / xs.length;
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return (s[(s.length - 1) >> 1] + s[s.length >> 1]) / 2;
};
/** the sample standard deviation, as hyperfine reports it (null for one run) */
const stddev = (xs) => (xs.length > 1 ? Math.sqrt(sum(xs.map((x) => (x - mean(xs)) ** 2)) / (xs.length - 1)) : null);

const runs = Object.fromEntries(names.map((n) => [n, { times: [], user: [], system: [], exit_codes: [] }]));
for (const file of rounds) {
  for (const r of JSON.parse(readFileSync(file, 'utf8')).results) {
    const acc = runs[r.command];
    if (!acc) throw new Error(`${file}: a command named ${r.command}, not one of ${order}`);
    acc.times.push(...r.times);
    acc.exit_codes.push(...(r.exit_codes ?? []));
    // hyperfine exports user and system time as means over its runs
    acc.user.push(r.user);
    acc.system.push(r.system);
  }
}

const results = names.map((command) => {
  const { times, user, system, exit_codes } = runs[command];
  if (!times.length) throw new Error(`no run of ${command} in ${rounds.length} rounds`);
  return {
    command,
    mean: mean(times),
    stddev: stddev(times),
    median: median(times),
    user: mean(user),
    system: mean(system),
    min: Math.min(...times),
    max: Math.max(...times),
    times,
    exit_codes,
  };
});
writeFileSync(out, `${JSON.stringify({ results, interleaved: { rounds: rounds.length } }, null, 2)}\n`);

const ms = (s) => `${(s * 1000).toFixed(2)} ms`;
for (const r of results) {
  process.stderr.write(`  ${r.command.padEnd(6)} median ${ms(r.median)} (${ms(r.min)}–${ms(r.max)}), ${r.times.length} runs\n`);
}
