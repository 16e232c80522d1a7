// Turns the value a container module evaluated to (a stdlib ContainerDef,
// unchecked: `as any` gets past the type checker) into a Spec. Shapes are
// checked here, with the source position of the offending part; meaning
// (paths, ranges, users) is checked later by compiler/check.

import { CtcError } from '../error.ts';
import { type Origins, type Spec, type SpecMount, type SpecRootfs, type SpecUser, defaultEnv, originOf } from '../spec.ts';
import type { Namespace } from '../../stdlib/types.ts';
import { defaultNamespaces } from '../../stdlib/namespaces.ts';
import { bytes } from '../../stdlib/units.ts';

type Obj = Record<string, unknown>;

class Reader {
  constructor(private readonly origins: Origins) {}

  fail(path: string, what: string): never {
    throw new CtcError('CT_SHAPE', `${path || 'the container'}: expected ${what}`, { source: originOf(this.origins, path) });
  }
  obj(v: unknown, path: string): Obj {
    return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Obj) : this.fail(path, 'an object');
  }
  str(v: unknown, path: string): string {
    return typeof v === 'string' ? v : this.fail(path, 'a string');
  }
  int(v: unknown, path: string): number {
    return Number.isSafeInteger(v) ? (v as number) : this.fail(path, 'a whole number');
  }
  bool(v: unknown, path: string): boolean {
    return typeof v === 'boolean' ? v : this.fail(path, 'true or false');
  }
  /** A list copied into this realm: the sandbox's arrays must not leak into the spec. */
  arr(v: unknown, path: string): unknown[] {
    return Array.isArray(v) ? Array.from(v as unknown[]) : this.fail(path, 'a list');
  }
  strs(v: unknown, path: string): string[] {
    return this.arr(v, path).map((x, i) => this.str(x, `${path}[${i}]`));
  }
  ints(v: unknown, path: string): number[] {
    return this.arr(v, path).map((x, i) => this.int(x, `${path}[${i}]`));
  }
  bytes(v: unknown, path: string): number {
    const n = typeof v === 'number' || typeof v === 'string' ? bytes(v as never) : NaN;
    return Number.isSafeInteger(n) ? n : this.fail(path, "a size in bytes (a whole number, or like '64Mi')");
  }
  opt<T>(o: Obj, key: string, path: string, read: (v: unknown, p: string) => T): T | undefined {
    return o[key] === undefined ? undefined : read(o[key], join(path, key));
  }
}

const join = (path: string, key: string) => (path ? `${path}.${key}` : key);

export function specFromDef(def: unknown, origins: Origins): Spec {
  const r = new Reader(origins);
  const d = r.obj(def, '');
  const rootfs = readRootfs(r, d.rootfs);
  const hostname = r.opt(d, 'hostname', '', r.str.bind(r));
  return {
    rootfs,
    process: readProcess(r, d.process),
    ...(hostname === undefined ? {} : { hostname }),
    namespaces: (r.opt(d, 'namespaces', '', r.strs.bind(r)) ?? [...defaultNamespaces]) as Namespace[],
    mounts: r.arr(d.mounts ?? [], 'mounts').map((m, i) => readMount(r, m, `mounts[${i}]`)),
    resources: readResources(r, d.resources ?? {}),
    cgroupsPath: r.opt(d, 'cgroupsPath', '', r.str.bind(r)) ?? '/ctc/{id}',
  };
}

function readRootfs(r: Reader, v: unknown): SpecRootfs {
  const o = r.obj(v, 'rootfs');
  if (o.kind === 'dir') return { kind: 'dir', path: r.str(o.path, 'rootfs.path'), readonly: r.opt(o, 'readonly', 'rootfs', r.bool.bind(r)) ?? false };
  if (o.kind === 'host') {
    const dirs = r.obj(o.dirs ?? {}, 'rootfs.dirs');
    const files = r.obj(o.files ?? {}, 'rootfs.files');
    return {
      kind: 'host',
      mirror: r.strs(o.mirror, 'rootfs.mirror'),
      dirs: Object.fromEntries(Object.entries(dirs).map(([k, m]) => [k, r.int(m, `rootfs.dirs.${k}`)])),
      files: Object.fromEntries(Object.entries(files).map(([k, c]) => [k, r.str(c, `rootfs.files.${k}`)])),
    };
  }
  return r.fail('rootfs', "a rootfs from dirRootfs() or hostRootfs()");
}

function readProcess(r: Reader, v: unknown): Spec['process'] {
  const p = r.obj(v, 'process');
  return {
    args: r.strs(p.args, 'process.args'),
    env: r.opt(p, 'env', 'process', r.strs.bind(r)) ?? [...defaultEnv],
    cwd: r.opt(p, 'cwd', 'process', r.str.bind(r)) ?? '/',
    user: readUser(r, p.user),
  };
}

function readUser(r: Reader, v: unknown): SpecUser {
  if (v === undefined) return { uid: 0, gid: 0, additionalGids: [] };
  if (typeof v === 'string') return { uid: -1, gid: -1, additionalGids: [], name: v };
  const u = r.obj(v, 'process.user');
  return {
    uid: r.int(u.uid, 'process.user.uid'),
    gid: r.int(u.gid, 'process.user.gid'),
    additionalGids: r.opt(u, 'additionalGids', 'process.user', r.ints.bind(r)) ?? [],
  };
}

function readMount(r: Reader, v: unknown, path: string): SpecMount {
  const m = r.obj(v, path);
  const type = r.str(m.type, `${path}.type`) as SpecMount['type'];
  return {
    destination: r.str(m.destination, `${path}.destination`),
    type,
    source: r.opt(m, 'source', path, r.str.bind(r)) ?? type,
    options: r.opt(m, 'options', path, r.strs.bind(r)) ?? [],
  };
}

function readResources(r: Reader, v: unknown): Spec['resources'] {
  const o = r.obj(v, 'resources');
  const out: Spec['resources'] = {};
  if (o.memory !== undefined) {
    const m = r.obj(o.memory, 'resources.memory');
    out.memory = {
      ...(m.limit === undefined ? {} : { limit: r.bytes(m.limit, 'resources.memory.limit') }),
      ...(m.swap === undefined ? {} : { swap: r.bytes(m.swap, 'resources.memory.swap') }),
    };
  }
  if (o.pids !== undefined) out.pids = { limit: r.int(r.obj(o.pids, 'resources.pids').limit, 'resources.pids.limit') };
  if (o.cpu !== undefined) {
    const c = r.obj(o.cpu, 'resources.cpu');
    out.cpu = {};
    for (const key of ['shares', 'quota', 'period'] as const) {
      const n = r.opt(c, key, 'resources.cpu', r.int.bind(r));
      if (n !== undefined) out.cpu[key] = n;
    }
  }
  return out;
}
