// Turns what bench/run.sh collected (hyperfine JSON exports and a few TSV
// files) into tables: printed to stdout and written to RESULTS.md.
//
// Usage: node report.mjs OUTDIR RESULTS.md
// Plain Node, no dependencies, so any user of the bench can run it.

import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const [dir, resultsPath] = process.argv.slice(2);
const RUNTIMES = ['ctc', 'runc', 'crun'];
const env = process.env;

// --- reading -------------------------------------------------------------------

/** hyperfine's export: {results: [{command (our -n name), median, min, max, mean, stddev, times}]} */
function hyperfine(file) {
  const path = join(dir, file);
  if (!existsSync(path)) return {};
  const byName = {};
  for (const r of JSON.parse(readFileSync(path, 'utf8')).results) byName[r.command] = r;
  return byName;
}

const tsv = (file) =>
  existsSync(join(dir, file))
    ? readFileSync(join(dir, file), 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((l) => l.split('\t'))
    : [];

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? (s[(s.length - 1) >> 1] + s[s.length >> 1]) / 2 : NaN;
};

// --- formatting ----------------------------------------------------------------

/** seconds → "12.3 ms" / "1.23 s", three significant digits */
function time(s) {
  if (!Number.isFinite(s)) return '—';
  if (s >= 1) return `${s.toFixed(s >= 10 ? 1 : 2)} s`;
  const ms = s * 1000;
  return `${ms.toFixed(ms >= 100 ? 0 : ms >= 10 ? 1 : 2)} ms`;
}
const mb = (kb) => (Number.isFinite(kb) ? `${(kb / 1024).toFixed(1)} MB` : '—');
const ratio = (a, b) => (Number.isFinite(a) && Number.isFinite(b) && b > 0 ? `${(a / b).toFixed(2)}×` : '—');
const spread = (r, scale = 1) => (r ? `${time(r.median * scale)} (${time(r.min * scale)}–${time(r.max * scale)})` : '—');

/** A markdown table whose columns are padded, so it also reads well in a terminal. */
function table(header, rows) {
  const all = [header, ...rows];
  const widths = header.map((_, i) => Math.max(...all.map((r) => String(r[i]).length)));
  const line = (r) => `| ${r.map((c, i) => String(c).padEnd(widths[i])).join(' | ')} |`;
  return [line(header), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...rows.map(line)].join('\n');
}

// --- the tables --------------------------------------------------------------------

/** One row comparing the runtimes' medians (with min–max), and ctc's ratios to each. */
function timeRow(label, results, scale = 1) {
  const m = (r) => results[r]?.median * scale;
  return [label, ...RUNTIMES.map((r) => spread(results[r], scale)), ratio(m('ctc'), m('runc')), ratio(m('ctc'), m('crun'))];
}

function runtimeTable() {
  const loop = hyperfine('loop.json');
  const n = env.BENCH_LOOP,
    p = env.BENCH_PARALLEL;
  const rows = [
    timeRow(`run /bin/true, warm: the same bundle (${env.BENCH_RUNS} runs)`, hyperfine('run.json')),
    timeRow(`run /bin/true, first run of a new config (${env.BENCH_RUNS} runs)`, hyperfine('run-new.json')),
    timeRow(`  the same, ctc with ctc compile-server running`, hyperfine('run-new-server.json')),
    timeRow(`create + start + delete (${env.BENCH_RUNS} runs)`, hyperfine('lifecycle.json')),
    timeRow(`exec /bin/true (${env.BENCH_RUNS} runs)`, hyperfine('exec.json')),
    timeRow(`network: veth on a bridge, each its own way (${env.BENCH_RUNS} runs)`, hyperfine('net.json')),
    timeRow(`  the same, all three joining a netns ip made`, hyperfine('net-join.json')),
    timeRow(`${n} sequential runs (${env.BENCH_LOOP_RUNS} loops)`, loop),
    timeRow(`  the same, per container`, loop, 1 / Number(n)),
    timeRow(`${p} parallel runs (${env.BENCH_PARALLEL_RUNS} batches)`, hyperfine('parallel.json')),
  ];
  // peak RSS: median (max) of the samples, per runtime
  const rss = Object.fromEntries(
    RUNTIMES.map((r) => [
      r,
      tsv('rss.tsv')
        .filter(([x]) => x === r)
        .map(([, kb]) => Number(kb)),
    ]),
  );
  const rssMed = (r) => median(rss[r]);
  rows.push([
    `peak RSS, run /bin/true (${env.BENCH_RSS_RUNS} samples)`,
    ...RUNTIMES.map((r) => (rss[r].length ? `${mb(rssMed(r))} (max ${mb(Math.max(...rss[r]))})` : '—')),
    ratio(rssMed('ctc'), rssMed('runc')),
    ratio(rssMed('ctc'), rssMed('crun')),
  ]);
  // what stays on the host per detached container, outside the container
  const left = Object.fromEntries(RUNTIMES.map((r) => [r, tsv('resident.tsv').filter(([x]) => x === r)]));
  const leftKb = (r) => left[r].reduce((a, [, , , kb]) => a + Number(kb), 0);
  const leftCell = (r) =>
    left[r].length ? (leftKb(r) ? `${mb(leftKb(r))} (${left[r].map(([, , c]) => c).join(', ')})` : '0 (nothing)') : '—';
  rows.push([
    'left on the host per detached container (VmRSS)',
    ...RUNTIMES.map(leftCell),
    ratio(leftKb('ctc'), leftKb('runc')),
    ratio(leftKb('ctc'), leftKb('crun')),
  ]);
  return table(['benchmark', 'ctc', 'runc', 'crun', 'ctc/runc', 'ctc/crun'], rows);
}

function buildTable() {
  const cold = hyperfine('build-cold.json'),
    warm = hyperfine('build-warm.json');
  const rows = Object.keys(cold).map((ex) => [
    `examples/${ex}.ct.ts`,
    spread(cold[ex]),
    spread(warm[ex]),
    ratio(cold[ex]?.median, warm[ex]?.median),
  ]);
  return table(
    [
      'ctc build',
      `cold: a fresh process (${env.BENCH_BUILD_RUNS} runs)`,
      `warm: in one process (${env.BENCH_BUILD_WARM} builds)`,
      'cold/warm',
    ],
    rows,
  );
}

/** mean ± σ and the run count of every timed command, for whoever wants more than medians */
function detailTable() {
  const rows = [];
  for (const [file, what] of [
    ['run.json', 'run /bin/true, warm'],
    ['run-new.json', 'run /bin/true, new config'],
    ['run-new-server.json', 'run /bin/true, new config, compile server'],
    ['lifecycle.json', 'create + start + delete'],
    ['exec.json', 'exec /bin/true'],
    ['net.json', 'network, each its own way'],
    ['net-join.json', 'network, all joining'],
    ['loop.json', `${env.BENCH_LOOP} sequential runs`],
    ['parallel.json', `${env.BENCH_PARALLEL} parallel runs`],
    ['build-cold.json', 'ctc build, cold'],
    ['build-warm.json', 'ctc build, warm'],
  ]) {
    for (const [name, r] of Object.entries(hyperfine(file))) {
      rows.push([what, name, `${time(r.mean)} ± ${time(r.stddev ?? NaN)}`, time(r.median), time(r.min), time(r.max), r.times.length]);
    }
  }
  return table(['benchmark', 'command', 'mean ± σ', 'median', 'min', 'max', 'runs'], rows);
}

const machine = tsv('machine.tsv');
const machineTable = table(
  ['', ''],
  machine.map(([k, v]) => [k, v.replaceAll('|', '\\|')]),
);
const residents = tsv('resident.tsv').map(
  ([r, pid, comm, kb]) => `${r}: ${pid === '-' ? 'nothing' : `pid ${pid} ${comm}, VmRSS ${kb} kB`}`,
);

const ctcCommand = machine.find(([k]) => k === 'ctc')?.[1] ?? '';
const launcher = /dist\/ctc( |$)/.test(ctcCommand);
const warning = machine.find(([k]) => k === 'WARNING')?.[1];
const summary = `${runtimeTable()}\n\n${buildTable()}\n`;
process.stdout.write(`\n${summary}\n${warning ? `WARNING: ${warning}\n` : ''}`);

writeFileSync(
  resultsPath,
  `# ctc benchmark results

Made by \`npm run bench\` (bench/run.sh; see bench/README.md for what each line
measures). Times are hyperfine medians with (min–max); ratios are ctc's median
over the other runtime's: above 1× ctc is slower or bigger.
${warning ? `\n**WARNING: ${warning}.**\n` : ''}
All three runtimes run the same bundle (a static busybox rootfs and a
config.json from \`runc spec\`, process \`/bin/true\`, no terminal), each with
its own \`--root\` in a temp dir, in one private mount namespace. The runs are
interleaved: each round runs every runtime once (one hyperfine invocation,
the order rotating from round to round), so machine noise falls on all three
alike. crun on this host:
${machine.find(([k]) => k === 'crun on this host')?.[1] ?? '?'}.
The config is \`runc spec\`'s with only the process, the terminal and the
root path changed (and, where a row says so, one environment variable or the
network namespace's path; see bench/README.md).

${
  launcher
    ? `ctc ran as its native launcher (\`dist/ctc\`), which hands a bundle it has
not run before to the TypeScript CLI (Node); that leaves a cached "run image"
which later \`run\`s and \`create\`s of the same bundle apply without Node.
The bench's first run of the bundle (a check that every runtime runs it)
leaves that image, so the ctc rows are with it, except "first run of a new
config", where every run is of a bundle dir and config.json none of the
runtimes has seen (what containerd and CRI hand a runtime for each
container), and "network ... each its own way", whose veth steps the run
image does not cover (ctc applies that plan from Node); \`exec\` finds the
image by the plan in the state dir.`
    : `ctc ran on Node (\`${ctcCommand}\`), for every command.`
}

The network rows: a container with its own network namespace and a veth pair,
eth0 inside (address, default route) and the host end on a bridge, all in
network namespaces the bench made. "Each its own way": ctc runs a plan that
says all of it; runc and crun join a netns that ip(8) made (and undoes)
around each run, as CNI would. "All joining": ctc runs that way too.
See bench/README.md.

## Runtimes

${runtimeTable()}

The last row: processes left outside the container by \`run -d\` of a
\`sleep 1000\` container, i.e. the ancestors of its init up to pid 1
(${residents.join('; ')}).

## Compiler

${buildTable()}

## Details

${detailTable()}

## What was tried for speed

${readFileSync(new URL('tried.md', import.meta.url), 'utf8').trim()}

## Machine

${machineTable}
`,
);
process.stderr.write(`bench: wrote ${resultsPath}\n`);

// The README shows the latest ratios, between its bench markers.
const readme = new URL('../README.md', import.meta.url);
const text = readFileSync(readme, 'utf8');
const start = '<!-- bench:start -->',
  end = '<!-- bench:end -->';
// Only a run that wrote the real RESULTS.md (not a trial's BENCH_RESULTS elsewhere).
const real = resolve(resultsPath) === fileURLToPath(new URL('RESULTS.md', import.meta.url));
if (real && text.includes(start) && text.includes(end) && launcher && !warning) {
  const date = machine.find(([k]) => k === 'date')?.[1] ?? '';
  const block = `${start}\n${summary}\n(\`npm run bench\`, ${date}; details in bench/RESULTS.md)\n${end}`;
  writeFileSync(readme, text.slice(0, text.indexOf(start)) + block + text.slice(text.indexOf(end) + end.length));
  process.stderr.write('bench: updated the ratios in README.md\n');
}
