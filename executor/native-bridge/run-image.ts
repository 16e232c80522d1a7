// The run image: what the native launcher (native/launcher/) needs to run a
// plan again without Node. Written here, after a container has started, so
// only plans this host has really run get one; its format and key are
// defined in native/launcher/image.h. Host steps are resolved for this host
// through the same drivers that just ran them (limit keys to cgroup files,
// device rules to files or a v2 filter); the container id and state dir
// stay markers. A cache: any failure to write one is ignored; it is kept
// within its bound (run-image-cache.ts).

import { createHash } from 'node:crypto';
import { linkSync, mkdirSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { packageRoot } from '../../common/package.ts';
import { type Plan, type Step, actorOf, int, list, str } from '../../plan/steps.ts';
import type { CgroupDriver } from '../host/cgroups/index.ts';
import { isLimitKey } from '../host/cgroups/index.ts';
import { readValue } from '../host/cgroups/files.ts';
import { helperPath } from './helper.ts';
import { cacheDir, pruneAfterWrite } from './run-image-cache.ts';
import { cgroupParent, fillStep } from '../../plan/placeholders.ts';
import { type Arg, type WireOp, encodeStep, nsFlags, record, strArg as S, u64Arg as U } from './wire.ts';

/** What the plan came from, as the launcher reads it again to find the image. */
export type ImageSource = { kind: 'plan'; bytes: Buffer } | { kind: 'bundle'; dir: string; config: Buffer };

export const MAGIC = 0x49435443;
export const VERSION = 2;
export const Rec = {
  META: 200,
  STATE: 201,
  CG_CREATE: 202,
  CG_WRITE: 203,
  CG_BPF: 204,
  CLONE: 205,
  CG_JOIN: 206,
  OOM: 207,
  INIT: 208,
  NOP: 209,
} as const;
const ID = '\x01i';
const STATE = '\x01s';

const identity = (name: string, file: string) => {
  const st = statSync(file, { bigint: true });
  return `${name} ${st.ino} ${st.mtimeNs}\n`;
};

/** native/launcher/image.h: the SHA-256 naming an image. */
export function imageKey(source: ImageSource): string {
  const h = createHash('sha256');
  h.update('ctc-image 1\n');
  h.update(identity('helper', helperPath()));
  h.update(identity('cli', join(packageRoot(), 'dist', 'ctc.mjs')));
  h.update(`cgroup-parent ${cgroupParent()}\n`);
  h.update(source.kind === 'plan' ? 'plan\n' : `bundle ${source.dir}\n`);
  h.update(source.kind === 'plan' ? source.bytes : source.config);
  return h.digest('hex');
}

export interface ImageRun {
  plan: Plan;
  planText: string;
  source: ImageSource;
  /** the id and state dir this run really has, to read what the drivers need */
  id: string;
  stateDir: string;
  bundle?: string;
  driver: CgroupDriver;
}

/** Writes the image for this run, unless it cannot be made (then the launcher hands such runs to Node). */
export function writeImage(run: ImageRun): void {
  try {
    const image = encodeImage(run);
    if (!image) return;
    const dir = cacheDir();
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const file = join(dir, `${imageKey(run.source)}.img`);
    writeFileSync(`${file}.${process.pid}`, image);
    renameSync(`${file}.${process.pid}`, file);
    // `exec` finds it by the plan in the state dir: a bundle's image is also named by its plan.
    if (run.source.kind === 'bundle') {
      const alias = join(dir, `${imageKey({ kind: 'plan', bytes: Buffer.from(run.planText) })}.img`);
      linkSync(file, `${alias}.${process.pid}`);
      renameSync(`${alias}.${process.pid}`, alias);
    }
    pruneAfterWrite(dir);
  } catch {
    // a cache: the next run goes through Node again
  }
}

const rec = (op: number, step: number, ...args: Arg[]) => record({ op, args }, step);

export function encodeImage(run: ImageRun): Buffer | undefined {
  // Markers must be the only \x01 in the image.
  if (/\x01|\\u0001/i.test(run.planText)) return undefined;
  // {root} is only in plans with image.unpack, which get no run image (hostRecords)
  const fill = (id: string, state: string) =>
    run.plan.steps.map((s) => fillStep(s, { id, state, root: dirname(run.stateDir), cgroupParent: cgroupParent() }));
  const marked = fill(ID, STATE);
  const plain = fill('x', '/x'); // arguments that differ from the marked ones hold markers
  const real = (file: string) => file.replaceAll(STATE, run.stateDir).replaceAll(ID, run.id);
  const cgroupMounts = run.driver.mounts();
  const records: Buffer[] = [meta(run, marked)];
  for (const [k, s] of marked.entries()) {
    if (actorOf(s.kind) === 'init') {
      const other = encodeStep(plain[k], cgroupMounts);
      encodeStep(s, cgroupMounts).forEach((o, j) => records.push(rec(Rec.INIT, s.n, U(markerMask(o, other[j])), record(o, s.n))));
      continue;
    }
    const host = hostRecords(s, run.driver, (f) => readValue(real(f)));
    if (!host) return undefined;
    records.push(...(host.length ? host : [rec(Rec.NOP, s.n)]));
  }
  const body = Buffer.concat(records);
  const head = Buffer.alloc(16);
  [MAGIC, VERSION, records.length, body.length].forEach((v, i) => head.writeUInt32LE(v, 4 * i));
  return Buffer.concat([head, body]);
}

function meta(run: ImageRun, marked: Step[]): Buffer {
  const rootfs = marked.find((s) => s.kind === 'rootfs.bind' || s.kind === 'rootfs.tmpfs');
  const cgroup = marked.find((s) => s.kind === 'cgroup.create');
  const namespaces = marked.filter((s) => s.kind === 'ns.clone' || s.kind === 'ns.unshare').flatMap((s) => list(s, 'ns'));
  const clone = marked.find((s) => s.kind === 'ns.clone');
  return rec(
    Rec.META,
    0,
    S(rootfs ? str(rootfs, 'dir') : ''),
    S(cgroup ? str(cgroup, 'path') : ''),
    Buffer.from(namespaces.map((n) => `${n}\0`).join('')),
    Buffer.from(run.planText),
    S(run.bundle ?? ''),
    U(clone ? nsFlags(list(clone, 'ns')) : 0),
  );
}

/** Bit k set when argument k differs between the two encodings: it holds a marker. */
function markerMask(a: WireOp, b: WireOp | undefined): bigint {
  return a.args.reduce((m, arg, k) => (b && arg.equals(b.args[k]) ? m : m | (1n << BigInt(k))), 0n);
}

function hostRecords(s: Step, driver: CgroupDriver, read: (file: string) => string | undefined): Buffer[] | undefined {
  switch (s.kind) {
    case 'state.create': {
      // An index-like key ("0", "42") goes first in a JS object (state.json's order), whatever its place: such plans run through Node.
      const annotations = list(s, 'annotations');
      // An annotation without '=' is not the compiler's: no image (the launcher's state writer splits at it).
      if (annotations.some((kv) => !kv.includes('=') || /^(0|[1-9]\d*)$/.test(kv.slice(0, kv.indexOf('='))))) return undefined;
      return [rec(Rec.STATE, s.n, S(str(s, 'dir')), Buffer.from(annotations.map((kv) => `${kv}\0`).join('')))];
    }
    case 'cgroup.create':
      return [rec(Rec.CG_CREATE, s.n, S(str(s, 'path')))];
    case 'cgroup.limit': {
      const key = str(s, 'key');
      if (!isLimitKey(key)) return undefined;
      return driver.limitWrites(str(s, 'path'), key, str(s, 'value'), read).map(([file, v]) => rec(Rec.CG_WRITE, s.n, S(file), S(v)));
    }
    case 'cgroup.devices': {
      const w = driver.deviceWrites(str(s, 'path'), list(s, 'rules'));
      if ('filter' in w) return [rec(Rec.CG_BPF, s.n, S(w.filter.dir), w.filter.program)];
      return w.files.map(([file, v]) => rec(Rec.CG_WRITE, s.n, S(file), S(v)));
    }
    case 'ns.clone':
      return [rec(Rec.CLONE, s.n)];
    case 'cgroup.join':
      return [rec(Rec.CG_JOIN, s.n, S(str(s, 'path')))];
    case 'proc.oom-score':
      return [rec(Rec.OOM, s.n, S(String(int(s, 'value'))))];
  }
  return undefined;
}
