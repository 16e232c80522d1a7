// `npm run soak [N]`: N sequential `ctc run`s (default 1000) of a small
// container through the launcher, sampling what would show a leak: the
// launcher's and its monitor's RSS and open fds mid-run (from /proc), and
// after each run this process's fds, the cgroups under any ctc parent, and
// the state root's entries. Each series' slope (least squares, per run) must
// be flat: over all the runs it may add at most the allowance below. Prints
// one line per series and exits 1 if any grew. Not part of `npm test`.

import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const runs = Number(process.argv[2] ?? 1000);
const work = mkdtempSync(join(tmpdir(), 'ctc-soak-'));
const state = join(work, 'state');
const launcher = join(root, 'dist', 'ctc');

const count = (dir) => {
  try {
    return readdirSync(dir).length;
  } catch {
    return 0;
  }
};
const rssKb = (pid) => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? NaN);
const childrenOf = (pid) => {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
};
const dirs = (dir) => {
  try {
    return readdirSync(dir, { withFileTypes: true }).filter((e) => e.isDirectory()).length;
  } catch {
    return 0;
  }
};
/** cgroups under ctc's parent: /sys/fs/cgroup/ctc (v2) and /sys/fs/cgroup/<hierarchy>/ctc (v1) */
const cgroups = () =>
  readdirSync('/sys/fs/cgroup').reduce((n, h) => n + dirs(join('/sys/fs/cgroup', h, 'ctc')), dirs('/sys/fs/cgroup/ctc'));

/** Sampled in the middle of a run: the launcher and its child (ctc-init, the monitor). */
function runOnce(plan) {
  return new Promise((resolve, reject) => {
    const child = spawn(launcher, ['--root', state, 'run', '--id', 'soak', plan], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    let sample;
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => {
      try {
        const monitor = childrenOf(child.pid)[0];
        sample = {
          rss: rssKb(child.pid),
          fds: count(`/proc/${child.pid}/fd`),
          monitorRss: monitor ? rssKb(monitor) : NaN,
          monitorFds: monitor ? count(`/proc/${monitor}/fd`) : NaN,
        };
      } catch {
        // the run ended first: no sample this time
      }
    }, 40);
    child.on('close', (code) => {
      clearTimeout(timer);
      if (code !== 0) reject(new Error(`run failed (${code}): ${stderr}`));
      else resolve(sample);
    });
  });
}

/** Least-squares slope of ys over their index. */
function slope(ys) {
  const pts = ys.map((y, x) => [x, y]).filter(([, y]) => Number.isFinite(y));
  const n = pts.length;
  const mx = pts.reduce((s, [x]) => s + x, 0) / n;
  const my = pts.reduce((s, [, y]) => s + y, 0) / n;
  const num = pts.reduce((s, [x, y]) => s + (x - mx) * (y - my), 0);
  const den = pts.reduce((s, [x]) => s + (x - mx) ** 2, 0);
  return den ? num / den : 0;
}

const src = join(work, 'soak.ct.ts');
writeFileSync(
  src,
  "import { container, hostRootfs } from 'ctc';\nexport default container({ rootfs: hostRootfs(), process: { args: ['/bin/sleep', '0.1'] } });\n",
);
const plan = join(work, 'soak.plan');
execFileSync(launcher, ['build', src, '-o', plan], { stdio: 'ignore' });

// what one series may grow by over all the runs
const allowance = { rss: 512, fds: 0, monitorRss: 256, monitorFds: 0, selfFds: 0, cgroups: 0, stateEntries: 0 };
const series = Object.fromEntries(Object.keys(allowance).map((k) => [k, []]));
const started = Date.now();
try {
  for (let i = 0; i < runs; i++) {
    const s = await runOnce(plan);
    for (const k of ['rss', 'fds', 'monitorRss', 'monitorFds']) series[k].push(s?.[k] ?? NaN);
    series.selfFds.push(count('/proc/self/fd'));
    series.cgroups.push(cgroups());
    series.stateEntries.push(count(state));
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}
let grew = false;
console.log(`soak: ${runs} runs in ${((Date.now() - started) / 1000).toFixed(0)} s`);
for (const [k, ys] of Object.entries(series)) {
  const total = slope(ys) * runs;
  const ok = total <= allowance[k] + 0.5;
  grew ||= !ok;
  const first = ys.find(Number.isFinite);
  const last = ys.findLast(Number.isFinite);
  console.log(
    `  ${ok ? 'flat' : 'GREW'}  ${k.padEnd(13)} first ${first} last ${last}, trend over the runs ${total >= 0 ? '+' : ''}${total.toFixed(1)} (allowed ${allowance[k]})${k.toLowerCase().includes('rss') ? ' kB' : ''}`,
  );
}
process.exit(grew ? 1 : 0);
