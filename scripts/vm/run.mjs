// `npm run test:vm -- FILTER...`: runs `node test/run.mjs FILTER` for each
// filter in turn (each with its own time and result, every test on a line of
// its own: test-names.mjs) inside a QEMU guest (TCG, one vCPU) booted on
// Debian's 6.1 kernel with pure cgroup v2 (cgroup_no_v1=all) and a working
// criu: the kernels users run, which this host is not. No network device. The guest's root is the host's / (read-only,
// virtio-9p) under a tmpfs overlay; the project goes in as one tar (9p is slow
// for many small files). Streams the guest's console, exits with the test
// runner's status, removes its run dir. Installs nothing: .ci/run installs
// qemu-system-x86 and busybox-static and runs scripts/vm/fetch-kernel.sh.
//   --timeout=SECONDS (default 2700, or CTC_VM_TIMEOUT): the guest is killed after it.

import { execFileSync, spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const here = dirname(fileURLToPath(import.meta.url));
const cache = process.env.CTC_VM_CACHE || '/var/cache/ctc-vm';
// What the initramfs needs to mount the 9p root and the overlay over it; their dependencies come from modules.dep.
const BOOT_MODULES = ['virtio_pci', '9pnet_virtio', '9p', 'overlay'];

const args = process.argv.slice(2);
const timeoutArg = args.find((a) => a.startsWith('--timeout='));
const filters = args.filter((a) => a !== timeoutArg);
const timeout = Number(timeoutArg?.slice(10) ?? process.env.CTC_VM_TIMEOUT ?? 2700);

function fail(message) {
  console.error(`test:vm: ${message}`);
  process.exit(2);
}

/** The unpacked kernel: CTC_VM_KERNEL, or the newest one fetch-kernel.sh left in the cache. */
function findKernel() {
  const dir =
    process.env.CTC_VM_KERNEL ||
    (existsSync(cache)
      ? readdirSync(cache)
          .sort()
          .map((d) => join(cache, d))
          .pop()
      : undefined);
  const version = dir && basename(dir);
  const kernel = { version, vmlinuz: `${dir}/boot/vmlinuz-${version}`, modules: `${dir}/lib/modules/${version}` };
  if (!dir || !existsSync(kernel.vmlinuz) || !existsSync(`${kernel.modules}/modules.dep`))
    fail(`no kernel in ${process.env.CTC_VM_KERNEL || cache}: run scripts/vm/fetch-kernel.sh (as .ci/run does)`);
  return kernel;
}

function needTools() {
  for (const [tool, pkg] of [
    ['qemu-system-x86_64', 'qemu-system-x86'],
    ['busybox', 'busybox-static'],
    ['cc', 'gcc'],
  ])
    if (!process.env.PATH.split(':').some((p) => existsSync(join(p, tool))))
      fail(`${tool} not found: apt-get install --no-install-recommends ${pkg}`);
}

/** The module files to load, dependencies first, by modules.dep (paths relative to the modules dir). */
function loadOrder(modulesDep, wanted) {
  const deps = new Map();
  for (const line of modulesDep.split('\n')) {
    const [mod, rest] = line.split(':');
    if (rest !== undefined) deps.set(mod, rest.trim().split(/\s+/).filter(Boolean));
  }
  const byName = new Map(
    [...deps.keys()].map((m) => [
      basename(m)
        .replace(/\.ko(\.\w+)?$/, '')
        .replace(/-/g, '_'),
      m,
    ]),
  );
  const order = [];
  const visit = (mod) => {
    if (order.includes(mod)) return;
    for (const d of deps.get(mod) ?? []) visit(d);
    order.push(mod);
  };
  for (const name of wanted) {
    const mod = byName.get(name.replace(/-/g, '_'));
    if (!mod) fail(`module ${name} is not in this kernel's modules.dep (built in? then drop it from BOOT_MODULES)`);
    visit(mod);
  }
  return order;
}

function buildInitramfs(kernel, run) {
  const stage = join(run, 'initramfs');
  mkdirSync(join(stage, 'modules'), { recursive: true });
  execFileSync(process.env.CC || 'cc', ['-O2', '-Wall', '-Wextra', '-Werror', '-static', '-o', join(stage, 'init'), join(here, 'init.c')], {
    stdio: 'inherit',
  });
  const order = loadOrder(readFileSync(`${kernel.modules}/modules.dep`, 'utf8'), BOOT_MODULES);
  for (const m of order) copyFileSync(join(kernel.modules, m), join(stage, 'modules', basename(m)));
  writeFileSync(join(stage, 'modules.list'), order.map((m) => `/modules/${basename(m)}\n`).join(''));
  const files = execFileSync('find', ['.', '-mindepth', '1'], { cwd: stage, encoding: 'utf8' });
  const cpio = execFileSync('busybox', ['cpio', '-o', '-H', 'newc'], {
    cwd: stage,
    input: files,
    maxBuffer: 1 << 30,
    stdio: ['pipe', 'pipe', 'ignore'],
  });
  writeFileSync(join(run, 'initramfs.cpio'), cpio);
  rmSync(stage, { recursive: true, force: true });
}

const sh = (s) => `'${s.replace(/'/g, `'\\''`)}'`;

/** What the guest's PID 1 runs: the checks the VM exists for, then the project's own test runner on a copy. */
function writeJob(run) {
  // posix (pax): mtimes to the nanosecond, or dist/build.blob.json's stamps would not match and every ctc build would load TypeScript afresh
  execFileSync('tar', ['-C', root, '--format=posix', '--exclude=./.git', '--exclude=./.build', '-cf', join(run, 'project.tar'), '.']);
  writeFileSync(
    join(run, 'job.sh'),
    `set -u
echo "vm: kernel $(uname -r), $(nproc) cpus"
# No udev: modules behind device nodes load only when asked (criu check opens /dev/net/tun).
modprobe -a tun loop
controllers=$(cat /sys/fs/cgroup/cgroup.controllers)
echo "vm: /sys/fs/cgroup/cgroup.controllers: $controllers"
criu=$(criu check 2>&1)
echo "vm: criu $(criu --version | sed -n 's/^Version: //p'), criu check: $criu"
[ -n "$controllers" ] || { echo "vm: FAIL: no cgroup v2 controllers"; exit 1; }
case "$criu" in *"Looks good."*) ;; *) echo "vm: FAIL: criu check is not good"; exit 1 ;; esac
# the guest's /tmp is a tmpfs of its own: a project under /tmp has no directory there yet
mkdir -p ${sh(root)} && mount -t tmpfs -o mode=0755 ctc-project ${sh(root)} && tar -xf /mnt/vm-io/project.tar -C ${sh(root)} || exit 1
cd ${sh(root)} || exit 1
# One run per filter: its own time and result; every test prints its own line (test-names.mjs).
export NODE_OPTIONS=--import=${sh(join(root, 'scripts/vm/test-names.mjs'))}
status=0 summary=
for filter in ${filters.map(sh).join(' ')}; do
  start=$(date +%s)
  { node test/run.mjs "$filter"; echo $? > /tmp/ctc-vm-code; } | tee /tmp/ctc-vm-run.log
  [ "$(cat /tmp/ctc-vm-code)" = 0 ] || status=1
  summary="$summary
vm: $filter: $(tail -n 1 /tmp/ctc-vm-run.log) in $(( $(date +%s) - start )) s"
done
echo "$summary"
exit $status
`,
  );
}

function boot(kernel, run) {
  const cmdline = ['console=ttyS0', 'quiet', 'panic=-1', 'cgroup_no_v1=all', `ctc_vm_modules=${kernel.modules}`].join(' ');
  const share = (path, tag, ro) => [
    '-virtfs',
    `local,path=${path},mount_tag=${tag},security_model=passthrough,multidevs=remap${ro ? ',readonly=on' : ''}`,
  ];
  // One vCPU: others share this machine. Not niced: the guest's clock runs on while QEMU waits for the host's CPU, and a starved guest times out.
  return spawn(
    'qemu-system-x86_64',
    [
      '-accel',
      'tcg',
      '-cpu',
      'max',
      '-smp',
      '1',
      '-m',
      '2G',
      '-nographic',
      '-no-reboot',
      '-nic',
      'none',
      '-kernel',
      kernel.vmlinuz,
      '-initrd',
      join(run, 'initramfs.cpio'),
      '-append',
      cmdline,
      ...share('/', 'hostroot', true),
      ...share(run, 'ctcvm', false),
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
}

/**
 * The console's text without \r (the serial line ends lines with \r\n) and
 * the screen clearing of SeaBIOS and QEMU. Chunks can be single bytes: an
 * escape sequence cut at a chunk's end waits for the next.
 */
function plainText() {
  let pending = '';
  return (chunk) => {
    const text = pending + chunk;
    const cut = /\x1b(\[[0-9;?]*)?$/.exec(text);
    pending = cut ? cut[0] : '';
    return (cut ? text.slice(0, cut.index) : text).replace(/\r|\x1bc|\x1b\[[0-9;?]*[A-Za-z]/g, '');
  };
}

needTools();
const kernel = findKernel();
const started = Date.now();
const run = mkdtempSync(join(tmpdir(), 'ctc-vm-'));
let qemu;
const cleanup = () => {
  if (qemu && qemu.exitCode === null) qemu.kill('SIGKILL');
  rmSync(run, { recursive: true, force: true });
};
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => (cleanup(), process.exit(130)));
try {
  buildInitramfs(kernel, run);
  writeJob(run);
  console.log(
    `test:vm: booting ${kernel.version} (TCG, one vCPU, pure cgroup v2) for: node test/run.mjs, once for each of: ${filters.join(' ')}`,
  );
  qemu = boot(kernel, run);
  qemu.stdout.setEncoding('utf8'); // a character split between chunks stays whole
  qemu.stderr.setEncoding('utf8');
  const [out, err] = [plainText(), plainText()];
  qemu.stdout.on('data', (d) => process.stdout.write(out(d)));
  qemu.stderr.on('data', (d) => process.stderr.write(err(d)));
  let timedOut = false;
  const timer = setTimeout(() => ((timedOut = true), qemu.kill('SIGKILL')), timeout * 1000);
  await new Promise((resolve) => qemu.on('close', resolve));
  clearTimeout(timer);
  const status = existsSync(join(run, 'exit-status')) ? Number(readFileSync(join(run, 'exit-status'), 'utf8')) : undefined;
  const secs = Math.round((Date.now() - started) / 1000);
  if (timedOut) console.log(`test:vm: FAIL: timed out after ${timeout} s`);
  else if (status === undefined) console.log('test:vm: FAIL: the guest stopped without an exit status');
  console.log(`test:vm: guest exit status ${status ?? 'none'} after ${secs} s`);
  process.exitCode = status ?? 1;
} finally {
  cleanup();
}
