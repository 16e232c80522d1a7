// Checkpoint and restore through the criu binary (checkpoint/restore in
// userspace), as runc does through criu's RPC: `criu dump` freezes the
// container's process tree and writes it to image files, `criu restore`
// builds it again. What criu cannot find out for itself ctc tells it from
// the plan: the mounts that come from outside the container (host binds,
// the state dir's files, cgroup binds, /dev/null over masked files) as
// external mounts, whose keys restore maps back to host paths; the
// container's cgroup; the init's stdio, which leads outside. ctc's own
// description of the checkpoint (ctc-checkpoint.json) lies next to criu's
// images.
//
// `criu check` runs before anything else: where criu cannot work (an old
// criu on a new kernel), the container keeps running, untouched, and
// nothing is written.

import { spawnSync } from 'node:child_process';
import { readFileSync, readlinkSync, rmSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { CtcError } from '../../common/error.ts';
import { type Plan, type Step, actorOf, list, str, subjectOf } from '../../plan/steps.ts';
import { parsePlan } from '../../plan/text.ts';
import { type CgroupDriver, type CgroupMount, detectCgroups } from '../host/cgroups/index.ts';
import { type Container, type Factory, checkId } from './container.ts';
import { codeOf } from '../../common/errno.ts';
import { Journal } from '../run/journal.ts';
import { createOwnCgroup, createStateDir, setDevices, setLimit, writeStateFile } from '../host/steps.ts';
import { cgroupParent, fillStep } from '../../plan/placeholders.ts';
import { validatePlanSteps } from '../../plan/validate.ts';
import { procStat, waitGone } from './proc.ts';
import { callerDir, writeCallerFile, writePidFile } from './caller-files.ts';
import { type ContainerState, writeState } from './state.ts';
import { undoAll } from '../run/undo.ts';

const CRIU = 'criu';
export const descriptionFile = 'ctc-checkpoint.json';

/** runc's checkpoint and restore flags that ctc passes on to criu. */
export interface CriuOptions {
  /** --image-path: criu's images, and ctc-checkpoint.json */
  imagePath: string;
  /** --work-path: criu's log and work files (default: the image dir) */
  workPath?: string;
  leaveRunning?: boolean;
  tcpEstablished?: boolean;
  extUnixSk?: boolean;
  shellJob?: boolean;
  fileLocks?: boolean;
}

export interface RestoreOptions extends CriuOptions {
  /** the bundle's plan: the host side of the container is made from it */
  plan: Plan;
  planText: string;
  bundle: string;
  pidFile?: string;
}

/**
 * A mount criu must not dump but name, as it comes from outside the
 * container; key is its name in the images: its destination, as runc names
 * them. kind: a mount.bind, a cgroup bound from the host (mount.cgroup with
 * a path), or /dev/null over a masked file.
 */
export interface ExternalMount {
  key: string;
  dst: string;
  /** the host path bound there when it was dumped */
  src: string;
  kind: 'bind' | 'cgroup' | 'mask';
}

/** One of the init's stdio fds as criu names it: pipe:[ino], socket:[ino], file[mnt:ino], tty[rdev:dev]. */
export interface StdioFd {
  fd: number;
  key: string;
  /** a file or terminal outside the container: named with --external at dump */
  external: boolean;
}

/** ctc-checkpoint.json: what restore needs besides criu's images. */
export interface CheckpointDescription {
  format: 1;
  id: string;
  bundle: string;
  plan: string;
  cgroupPath: string;
  created: string;
  mounts: ExternalMount[];
  stdio: StdioFd[];
}

// ---- criu itself: is it usable, and what it said when it failed

/** Throws unless `criu check` says criu can work here ("Looks good."). */
export function criuCheck(): void {
  const r = runCriu(['check']);
  const reasons = checkReasons(r.status, r.output);
  if (!reasons) return;
  const vdso = reasons.some((l) => /vdso/i.test(l));
  throw new CtcError(
    'CT_CRIU_UNSUPPORTED',
    `${criuVersion()} cannot checkpoint or restore on this machine; \`criu check\` says:\n  ${reasons.join('\n  ')}`,
    {
      hint: vdso
        ? 'this criu does not know the vDSO layout of this kernel: newer CRIU releases do (4.1 and later handle the vvar_vclock mapping of recent kernels); install one, ctc runs the criu in PATH'
        : process.geteuid?.() !== 0
          ? 'criu needs root'
          : 'run `criu check` for the details: ctc needs it to say "Looks good."',
    },
  );
}

/** criu's own lines that only report a helper process's exit: the cause is on a line of its own. */
const NOISE = /exited, status=\d+$/;

/**
 * Why criu cannot work, from `criu check`'s output; undefined when it says
 * it can. The exit status alone is not trusted: success is "Looks good."
 */
function checkReasons(status: number | null, output: string): string[] | undefined {
  if (status === 0 && /^Looks good/m.test(output)) return undefined;
  const errors = [
    ...new Set(
      output
        .split('\n')
        .map((l) => l.trim())
        .filter((l) => l.startsWith('Error') && !NOISE.test(l)),
    ),
  ];
  if (errors.length > 5) return [...errors.slice(0, 4), errors[errors.length - 1]];
  if (errors.length) return errors;
  const tail = output.trim().split('\n').slice(-3).filter(Boolean);
  return tail.length ? tail : [`criu check exited with status ${status}`];
}

function criuVersion(): string {
  const v = /Version:\s*(\S+)/.exec(runCriu(['--version']).output)?.[1];
  return v ? `criu ${v}` : 'criu';
}

function runCriu(args: string[]): { status: number | null; output: string } {
  const r = spawnSync(CRIU, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 16 << 20 });
  if (r.error) throw notRun(CRIU, r.error);
  return { status: r.status, output: `${r.stdout}${r.stderr}` };
}

function notRun(program: string, e: Error): CtcError {
  if (program === CRIU && codeOf(e) === 'ENOENT') {
    return new CtcError('CT_CRIU_MISSING', 'checkpoint and restore need criu, which is not installed (no criu in PATH)', {
      hint: 'apt-get install criu',
    });
  }
  return new CtcError(program === CRIU ? 'CT_CRIU_UNSUPPORTED' : 'CT_CRIU_FAILED', `${program} cannot be run: ${e.message}`, {
    errno: codeOf(e),
  });
}

/** criu's log lines worth quoting: the last errors (criu writes one per layer it unwinds). */
export function lastErrors(log: string, n = 5): string[] {
  const lines = log
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);
  const errors = lines.filter((l) => /\bError\b/.test(l));
  return (errors.length ? errors : lines).slice(errors.length ? -n : -3);
}

function criuFailed(what: 'dump' | 'restore', log: string, status: number | null, output = ''): CtcError {
  let text = output;
  try {
    text = readFileSync(log, 'utf8');
  } catch {
    // no log: criu stopped before it opened one; its own output is all there is
  }
  const quoted = lastErrors(text);
  return new CtcError(
    'CT_CRIU_FAILED',
    `criu ${what} failed (exit status ${status})${quoted.length ? `; ${log} ends with:\n  ${quoted.join('\n  ')}` : ''}`,
    {
      hint: `criu's whole log is ${log}`,
    },
  );
}

// ---- what criu is told: pure functions of the plan and facts read from /proc

/** What dump needs besides the plan: facts about the running container. */
export interface DumpFacts {
  pid: number;
  cgroupPath: string;
  /** what the cgroup driver shows the container at a mount.cgroup (cgroups/driver.ts) */
  cgroups: CgroupMount[];
  /** masked paths that are files: /dev/null is bound over them (directories get a tmpfs, which criu dumps) */
  maskedFiles: string[];
  stdio: StdioFd[];
}

/** The mounts of a plan that come from outside the container. */
export function externalMounts(steps: Step[], cgroups: CgroupMount[], maskedFiles: string[]): ExternalMount[] {
  return steps.flatMap((s): ExternalMount[] => {
    switch (s.kind) {
      case 'mount.bind':
        return [external('bind', str(s, 'dst'), str(s, 'src'))];
      case 'mount.cgroup':
        return s.args.path === undefined ? [] : cgroupBinds(str(s, 'dst'), str(s, 'path'), cgroups);
      case 'fs.mask':
        return maskedFiles.includes(str(s, 'path')) ? [external('mask', str(s, 'path'), '/dev/null')] : [];
      default:
        return [];
    }
  });
}

const external = (kind: ExternalMount['kind'], dst: string, src: string): ExternalMount => ({ key: dst, dst, src, kind });

/** mount.cgroup with a path binds the container's own cgroup from each host hierarchy (wire.ts cgroupMounts). */
const cgroupBinds = (dst: string, path: string, cgroups: CgroupMount[]) =>
  cgroups
    .filter((m) => m.kind === 'cgroup' || m.kind === 'cgroup2')
    .map((m) => external('cgroup', m.sub ? `${dst}/${m.sub}` : dst, `${m.host}${path}`));

/**
 * The cgroup whose freezer criu may stop the tree with, so that nothing
 * forks while it collects the tasks (without it criu stops each task with
 * ptrace): v1's freezer hierarchy, or the v2 tree.
 */
function freezerDir(cgroups: CgroupMount[], path: string): string | undefined {
  const v1 = cgroups.find((m) => m.kind === 'cgroup' && m.data?.split(',').includes('freezer'));
  const m = v1 ?? cgroups.find((c) => c.kind === 'cgroup2' && c.sub === '');
  return m ? `${m.host}${path}` : undefined;
}

/** The options dump and restore share. */
function common(o: CriuOptions, log: string): string[] {
  const flag = (on: boolean | undefined, name: string) => (on ? [name] : []);
  return [
    '--images-dir',
    o.imagePath,
    ...(o.workPath ? ['--work-dir', o.workPath] : []),
    '--log-file',
    log,
    '-v4',
    ...flag(o.tcpEstablished, '--tcp-established'),
    ...flag(o.extUnixSk, '--ext-unix-sk'),
    ...flag(o.shellJob, '--shell-job'),
    ...flag(o.fileLocks, '--file-locks'),
  ];
}

/** criu's argv for the dump of a container whose (filled) plan steps these are. */
export function dumpArgs(steps: Step[], f: DumpFacts, o: CriuOptions): string[] {
  const freezer = freezerDir(f.cgroups, f.cgroupPath);
  return [
    'dump',
    '--tree',
    String(f.pid),
    ...common(o, 'dump.log'),
    '--root',
    `/proc/${f.pid}/root`,
    '--manage-cgroups',
    '--cgroup-root',
    f.cgroupPath,
    ...(freezer ? ['--freeze-cgroup', freezer] : []),
    ...(o.leaveRunning ? ['--leave-running'] : []),
    ...externalMounts(steps, f.cgroups, f.maskedFiles).flatMap((m) => ['--external', `mnt[${m.dst}]:${m.key}`]),
    ...f.stdio.filter((s) => s.external).flatMap((s) => ['--external', s.key]),
  ];
}

/** What restore needs besides the plan. */
export interface RestoreFacts {
  /** the root criu restores into: it must be a mount point */
  root: string;
  pidFile: string;
  cgroupPath: string;
  cgroups: CgroupMount[];
  saved: Pick<CheckpointDescription, 'mounts' | 'stdio'>;
}

/** criu's argv for restoring a checkpoint into the container these (filled) plan steps describe. */
export function restoreArgs(steps: Step[], f: RestoreFacts, o: CriuOptions): string[] {
  return [
    'restore',
    '--restore-detached',
    ...common(o, 'restore.log'),
    '--root',
    f.root,
    '--pidfile',
    f.pidFile,
    '--manage-cgroups',
    '--cgroup-root',
    f.cgroupPath,
    // a device node may sit at another path now: criu may take any path to the same device (runc does the same)
    '--evasive-devices',
    ...sourcesNow(steps, f).flatMap(([key, src]) => ['--external', `mnt[${key}]:${src}`]),
    // the restored init's stdio: criu's own, which are ctc's caller's (runc hands on its stdio the same way)
    ...f.saved.stdio.flatMap((s) => ['--inherit-fd', `fd[${s.fd}]:${s.key}`]),
  ];
}

/**
 * Each saved external mount's host path now: the restoring plan's source
 * for that destination (the state dir's files move with the id).
 */
function sourcesNow(steps: Step[], f: RestoreFacts): [string, string][] {
  const now = new Map(externalMounts(steps, f.cgroups, []).map((m) => [m.dst, m.src]));
  return f.saved.mounts.map((m) => {
    const src = m.kind === 'mask' ? '/dev/null' : now.get(m.dst);
    if (src === undefined) {
      throw new CtcError('CT_CHECKPOINT', `the checkpoint has ${m.dst} bound from ${m.src}, which the bundle's plan does not mount`, {
        hint: 'restore with the bundle the container was checkpointed from',
      });
    }
    return [m.key, src];
  });
}

// ---- what ctc cannot checkpoint yet

const NETWORK = 'it has a network ctc made (bridge, veth, addresses, ports): criu would need the veth and the addresses handed back';

/** Steps whose containers criu (as ctc drives it) cannot bring back yet, and why. */
const notYet: Record<string, string> = {
  'rootfs.tmpfs': 'its root is a tmpfs ctc fills (hostRootfs()): criu restores into a root directory (--root)',
  'user.map': 'it has a user namespace',
  'mount.idmap': 'it has idmap binds',
  'ns.join': 'it joins a namespace by path (criu would need it as an external namespace)',
  'net.bridge': NETWORK,
  'net.ipam': NETWORK,
  'net.veth': NETWORK,
  'net.publish': NETWORK,
  'proc.tty': 'it has a terminal: criu hands a terminal back only over its RPC',
};

/** Host steps restore redoes itself, and those criu's restore takes care of. */
const REDONE = new Set(['state.create', 'cgroup.create', 'cgroup.limit', 'cgroup.devices', 'state.file']);
/** criu recreates the tree in its namespaces, puts it in the cgroup (--cgroup-root), with its oom score (in its images). */
const CRIU_DOES = new Set(['ns.clone', 'cgroup.join', 'proc.oom-score']);

function refuseUnsupported(steps: Step[], what: string): void {
  const why = new Set<string>();
  for (const s of steps) {
    if (notYet[s.kind]) why.add(notYet[s.kind]);
    else if (actorOf(s.kind) === 'host' && !REDONE.has(s.kind) && !CRIU_DOES.has(s.kind))
      why.add(`restore cannot redo its ${s.kind} steps`);
  }
  if (why.size) throw new CtcError('CT_NOT_YET', `cannot ${what} yet: ${[...why].join('; ')}`);
}

// ---- checkpoint

/**
 * Dumps a running or paused container into o.imagePath. Without
 * leaveRunning, criu kills the tree once it is written, and the container
 * is left stopped, to `ctc delete` (runc removes it at once).
 */
export async function checkpoint(c: Container, o: CriuOptions): Promise<void> {
  const status = c.status();
  if (status !== 'running' && status !== 'paused') {
    throw new CtcError('CT_BAD_STATE', `cannot checkpoint container ${c.id}: it is ${status}`, {
      hint: 'checkpoint needs a container that is running or paused',
    });
  }
  criuCheck();
  const s = c.state!;
  const steps = parsePlan(c.plan()).steps.map((step) =>
    fillStep(step, { id: c.id, state: c.dir, root: dirname(c.dir), cgroupParent: cgroupParent() }),
  );
  refuseUnsupported(steps, `checkpoint container ${c.id}`);
  const facts = dumpFacts(s, steps, detectCgroups());
  makeDirs(o);
  const file = join(o.imagePath, descriptionFile);
  // written first: a dump that kills the container must not end without it
  writeCallerFile(file, JSON.stringify(describe(c, steps, facts), null, 2) + '\n', 0o600); // it holds the plan
  const r = spawnSync(CRIU, dumpArgs(steps, facts, o), { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 16 << 20 });
  if (r.error || r.status !== 0) {
    rmSync(file, { force: true });
    throw r.error
      ? notRun(CRIU, r.error)
      : criuFailed('dump', join(o.workPath ?? o.imagePath, 'dump.log'), r.status, `${r.stdout}${r.stderr}`);
  }
  // criu kills the tree once it is dumped; what would still run is not left half there
  if (!o.leaveRunning && !(await waitGone(s.pid, s.initStartTime)) && c.status() !== 'stopped') c.signal('SIGKILL');
}

function describe(c: Container, steps: Step[], f: DumpFacts): CheckpointDescription {
  const s = c.state!;
  const mounts = externalMounts(steps, f.cgroups, f.maskedFiles);
  return {
    format: 1,
    id: c.id,
    bundle: s.bundle,
    plan: c.plan(),
    cgroupPath: s.cgroupPath,
    created: new Date().toISOString(),
    mounts,
    stdio: f.stdio,
  };
}

function makeDirs(o: CriuOptions): void {
  callerDir(o.imagePath);
  if (o.workPath) callerDir(o.workPath);
}

function dumpFacts(s: ContainerState, steps: Step[], driver: CgroupDriver): DumpFacts {
  const mounts = mountsOf(s.pid);
  const ids = new Set(mounts.map((m) => m.id));
  return {
    pid: s.pid,
    cgroupPath: s.cgroupPath,
    cgroups: driver.mounts(),
    maskedFiles: maskedFiles(steps, mounts),
    stdio: stdioOf(s.pid, ids),
  };
}

interface MountLine {
  id: number;
  root: string;
  mountpoint: string;
}

/** The container's mounts as the kernel shows them to its init: paths as the container sees them. */
function mountsOf(pid: number): MountLine[] {
  const unescape = (p: string) => p.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
  return readFileSync(`/proc/${pid}/mountinfo`, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => l.split(' '))
    .map((f) => ({ id: Number(f[0]), root: unescape(f[3]), mountpoint: unescape(f[4]) }));
}

/**
 * Masked paths that are files: ctc-init bound /dev/null there, so the
 * mount's root is a file (a directory's mask is a fresh tmpfs, root /).
 * Read from the kernel's mount table, not by walking the container's paths.
 */
function maskedFiles(steps: Step[], mounts: MountLine[]): string[] {
  const files = new Set(mounts.filter((m) => m.root !== '/').map((m) => m.mountpoint));
  return steps.filter((s) => s.kind === 'fs.mask' && files.has(str(s, 'path'))).map((s) => str(s, 'path'));
}

function stdioOf(pid: number, mountIds: Set<number>): StdioFd[] {
  return [0, 1, 2].flatMap((fd) => {
    const k = stdioKey(pid, fd, mountIds);
    return k ? [{ fd, ...k }] : [];
  });
}

/**
 * How criu names an fd of the init that leads outside the container:
 * pipes and sockets are inherited from criu's own stdio on restore; a file
 * on a mount the container does not have, or a terminal, is external too.
 */
function stdioKey(pid: number, fd: number, mountIds: Set<number>): Omit<StdioFd, 'fd'> | undefined {
  const link = `/proc/${pid}/fd/${fd}`;
  let target: string;
  try {
    target = readlinkSync(link);
  } catch {
    return undefined; // closed
  }
  if (/^(pipe|socket):\[\d+\]$/.test(target)) return { key: target, external: false };
  if (target.startsWith('anon_inode:')) return undefined; // criu dumps those itself
  const st = statSync(link, { bigint: true });
  if (st.isCharacterDevice() && isTty(st.rdev)) return { key: `tty[${st.rdev.toString(16)}:${st.dev.toString(16)}]`, external: true };
  const mnt = /^mnt_id:\s*(\d+)/m.exec(readFileSync(`/proc/${pid}/fdinfo/${fd}`, 'utf8'))?.[1];
  if (mnt === undefined || mountIds.has(Number(mnt))) return undefined; // the container's own file: criu dumps it by path
  return { key: `file[${Number(mnt).toString(16)}:${st.ino.toString(16)}]`, external: true };
}

/** Terminals by device major (glibc's encoding): virtual consoles and serial lines (4), /dev/tty and /dev/console (5), pty slaves (136-143). */
function isTty(rdev: bigint): boolean {
  const major = Number((rdev >> 8n) & 0xfffn);
  return major === 4 || major === 5 || (major >= 136 && major <= 143);
}

// ---- restore

/**
 * Brings a checkpoint back as container id: the host side (state dir,
 * cgroup and its limits, state files) is made from the bundle's plan and
 * journaled as a run does, then criu restores the tree into it, detached.
 * Any failure undoes what was made. Resolves to the restored init's pid.
 */
export async function restore(factory: Factory, id: string, o: RestoreOptions): Promise<number> {
  checkId(id);
  criuCheck();
  const saved = readDescription(o.imagePath);
  validatePlanSteps(o.plan.steps);
  const dir = join(factory.root, id);
  const steps = o.plan.steps.map((s) => fillStep(s, { id, state: dir, root: factory.root, cgroupParent: cgroupParent() }));
  refuseUnsupported(steps, `restore container ${id}`);
  const driver = detectCgroups();
  const run = restoreRun(steps, dir, saved, driver, o);
  const journal = new Journal();
  try {
    for (const step of steps) if (REDONE.has(step.kind)) redo(step, { id, dir, planText: o.planText }, journal, driver);
    const pid = restoreTree(run, o);
    const initStartTime = procStat(pid)?.startTime ?? 0;
    journal.record({ undo: 'init.kill', step: steps.find((s) => s.kind === 'ns.clone')?.n ?? 0, pid, startTime: initStartTime });
    writeState(dir, restoredState(id, steps, pid, initStartTime, o.bundle));
    if (o.pidFile) writePidFile(o.pidFile, pid);
    return pid;
  } catch (e) {
    await undoAll(journal.entries, () => driver).catch(() => undefined);
    throw e;
  }
}

function readDescription(dir: string): CheckpointDescription {
  const file = join(dir, descriptionFile);
  let d: CheckpointDescription;
  try {
    d = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new CtcError(
      'CT_CHECKPOINT',
      `${dir} holds no checkpoint of ctc's: ${descriptionFile} ${codeOf(e) === 'ENOENT' ? 'is missing' : 'does not read'}`,
      {
        hint: 'give the --image-path `ctc checkpoint` wrote to',
      },
    );
  }
  if (d?.format !== 1 || !Array.isArray(d.mounts) || !Array.isArray(d.stdio))
    throw new CtcError('CT_CHECKPOINT', `${file} is not a ctc checkpoint description of format 1`);
  return d;
}

interface Place {
  id: string;
  dir: string;
  planText: string;
}

/** A host step of the plan, as a run applies it (apply.ts), journaled before it acts. */
function redo(step: Step, p: Place, journal: Journal, driver: CgroupDriver): void {
  try {
    redoAction(step, p, journal, driver);
  } catch (e) {
    if (e instanceof CtcError) throw e;
    throw new CtcError('CT_STEP_FAILED', (e as Error).message, {
      step: { n: step.n, kind: step.kind, subject: subjectOf(step) },
      source: step.source,
      errno: codeOf(e),
    });
  }
}

function redoAction(step: Step, p: Place, journal: Journal, driver: CgroupDriver): void {
  switch (step.kind) {
    case 'state.create':
      return createStateDir(step, p.id, p.planText, journal);
    case 'cgroup.create':
      return createOwnCgroup(step, driver, journal);
    case 'cgroup.limit':
      return setLimit(step, driver);
    case 'cgroup.devices':
      return setDevices(step, driver);
    case 'state.file':
      return writeStateFile(step, p.dir);
  }
}

/** criu restore's command line, and what it runs on. */
interface RestoreRun {
  /** the bundle's root directory */
  root: string;
  /** where it is bound for criu: the state dir's rootfs/ */
  target: string;
  pidFile: string;
  args: string[];
}

/** Everything restore will tell criu, worked out before anything is made. */
function restoreRun(steps: Step[], dir: string, saved: CheckpointDescription, driver: CgroupDriver, o: CriuOptions): RestoreRun {
  const root = steps.find((s) => s.kind === 'rootfs.bind');
  const cgroup = steps.find((s) => s.kind === 'cgroup.create');
  if (!root || !cgroup)
    throw new CtcError('CT_NOT_YET', 'cannot restore a container without a root directory (rootfs.bind) and a cgroup of its own');
  const target = join(dir, 'rootfs');
  const pidFile = join(dir, 'criu.pid');
  const args = restoreArgs(steps, { root: target, pidFile, cgroupPath: str(cgroup, 'path'), cgroups: driver.mounts(), saved }, o);
  return { root: str(root, 'dir'), target, pidFile, args };
}

/**
 * Runs criu restore. criu wants its --root to be a mount point whose parent
 * is not overmounted: the bundle's root is bound onto the state dir's
 * rootfs/ inside a mount namespace of criu's own, so the bind goes away
 * with criu, whatever happens to ctc. Returns the restored init's pid.
 */
function restoreTree(run: RestoreRun, o: CriuOptions): number {
  const script = 'mount --rbind -- "$0" "$1" && shift && exec "$@"';
  const r = spawnSync(
    'unshare',
    ['--mount', '--propagation', 'private', '--', '/bin/sh', '-c', script, run.root, run.target, CRIU, ...run.args],
    { stdio: 'inherit' },
  );
  if (r.error) throw notRun('unshare', r.error);
  if (r.status !== 0) throw criuFailed('restore', join(o.workPath ?? o.imagePath, 'restore.log'), r.status);
  const pid = Number(readFileSync(run.pidFile, 'utf8').trim());
  rmSync(run.pidFile);
  return pid;
}

function restoredState(id: string, steps: Step[], pid: number, initStartTime: number, bundle: string): ContainerState {
  return {
    ociVersion: '1.2.0',
    id,
    phase: 'running',
    pid,
    initStartTime,
    bundle,
    rootfs: str(steps.find((s) => s.kind === 'rootfs.bind')!, 'dir'),
    created: new Date().toISOString(),
    owner: '',
    annotations: {},
    cgroupPath: str(steps.find((s) => s.kind === 'cgroup.create')!, 'path'),
    namespaces: steps.filter((s) => s.kind === 'ns.clone' || s.kind === 'ns.unshare').flatMap((s) => list(s, 'ns')),
  };
}
