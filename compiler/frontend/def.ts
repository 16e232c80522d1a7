// Turns the value a container module evaluated to (a stdlib ContainerDef,
// unchecked: `as any` gets past the type checker) into a Spec. Shapes are
// checked here, with the source position of the offending part; meaning
// (paths, ranges, users) is checked later by compiler/check.

import { CtcError } from '../../common/error.ts';
import {
  type Origins,
  type Spec,
  type SpecCapabilities,
  type SpecDevice,
  type SpecHook,
  type SpecIdMapping,
  type SpecMount,
  type SpecRlimit,
  type SpecRootfs,
  type SpecUser,
  defaultEnv,
  hookKinds,
  originOf,
} from '../spec.ts';
import type { SpecDeviceRule } from '../../plan/limits.ts';
import { joinableNamespaces } from '../../plan/namespaces.ts';
import type { Namespace } from '../../stdlib/types.ts';
import { defaultCapabilities } from '../../stdlib/capabilities.ts';
import { isRootUser } from '../../plan/after-exec.ts';
import { defaultDeviceRules } from '../../stdlib/devices.ts';
import { defaultNamespaces } from '../../stdlib/namespaces.ts';
import { maskedPaths, readonlyPaths } from '../../stdlib/paths.ts';
import { bytes, sizeForms } from '../../stdlib/units.ts';
import { defaultSeccomp, type Seccomp } from '../../stdlib/seccomp.ts';
import { seccompSpecOf } from '../seccomp/policy.ts';
import { readResourceLimits } from '../resources.ts';
import { noNetwork, readNetwork } from './network.ts';

type Obj = Record<string, unknown>;

export class Reader {
  constructor(readonly origins: Origins) {}

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
    return Number.isSafeInteger(n) ? n : this.fail(path, sizeForms);
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
  const domainname = r.opt(d, 'domainname', '', r.str.bind(r));
  const mountLabel = r.opt(d, 'mountLabel', '', r.str.bind(r));
  const rootfsPropagation = r.opt(d, 'rootfsPropagation', '', r.str.bind(r));
  const network = readNetwork(r, d.network);
  const namespaces = network === 'host' ? defaultNamespaces.filter((n) => n !== 'network') : defaultNamespaces;
  if (network === 'host' && Array.isArray(d.namespaces) && d.namespaces.includes('network')) {
    throw new CtcError('CT_NET_CONFLICT', "network: 'host' shares the host's network, but namespaces lists 'network'", {
      source: originOf(origins, 'network'),
      hint: "leave 'network' out of namespaces, or use network: 'none'",
    });
  }
  return {
    rootfs,
    process: readProcess(r, d.process),
    ...(hostname === undefined ? {} : { hostname }),
    ...(domainname === undefined ? {} : { domainname }),
    ...(mountLabel === undefined ? {} : { mountLabel }),
    ...(rootfsPropagation === undefined ? {} : { rootfsPropagation }),
    namespaces: (r.opt(d, 'namespaces', '', r.strs.bind(r)) ?? [...namespaces]) as Namespace[],
    ...readJoins(r, d.joins),
    network: network === 'host' ? noNetwork() : network,
    uidMappings: readIdMappings(r, d.uidMappings, 'uidMappings'),
    gidMappings: readIdMappings(r, d.gidMappings, 'gidMappings'),
    mounts: r.arr(d.mounts ?? [], 'mounts').map((m, i) => readMount(r, m, `mounts[${i}]`)),
    devices: r.arr(d.devices ?? [], 'devices').map((x, i) => readDevice(r, x, `devices[${i}]`)),
    maskedPaths: r.opt(d, 'maskedPaths', '', r.strs.bind(r)) ?? [...maskedPaths.default],
    readonlyPaths: r.opt(d, 'readonlyPaths', '', r.strs.bind(r)) ?? [...readonlyPaths.default],
    resources: readResources(r, d.resources ?? {}),
    cgroupsPath: r.opt(d, 'cgroupsPath', '', r.str.bind(r)) ?? '/ctc/{id}',
    annotations: Object.fromEntries(
      Object.entries(r.obj(d.annotations ?? {}, 'annotations')).map(([k, v]) => [k, r.str(v, `annotations.${k}`)]),
    ),
    sysctl: Object.fromEntries(Object.entries(r.obj(d.sysctl ?? {}, 'sysctl')).map(([k, v]) => [k, r.str(v, `sysctl.${k}`)])),
    hooks: readHooks(r, d.hooks),
  };
}

/** joins: namespace kind → path; the network namespace's is network: { join }. */
function readJoins(r: Reader, v: unknown): Pick<Spec, 'joins'> {
  if (v === undefined) return {};
  const kinds = joinableNamespaces.filter((ns) => ns !== 'network');
  const joins = Object.fromEntries(
    Object.entries(r.obj(v, 'joins')).map(([ns, path]) => {
      if (!(kinds as readonly string[]).includes(ns)) {
        const hint =
          ns === 'network'
            ? 'join a network namespace with network: { join }'
            : `ctc joins ${kinds.join(', ')} namespaces (and network, with network: { join })`;
        throw new CtcError('CT_NS_UNSUPPORTED', `joins.${ns}: a ${ns} namespace cannot be joined here`, {
          source: originOf(r.origins, `joins.${ns}`),
          hint,
        });
      }
      return [ns, r.str(path, `joins.${ns}`)];
    }),
  );
  return Object.keys(joins).length ? { joins } : {};
}

/** hooks: the same shape in an OCI config and a ContainerDef. Unknown moments are left to the field table (OCI) or the type checker. */
export function readHooks(r: Reader, v: unknown): Spec['hooks'] {
  const o = r.obj(v ?? {}, 'hooks');
  const hooks: Spec['hooks'] = {};
  for (const kind of hookKinds) {
    const list = r.opt(o, kind, 'hooks', (x, path) => r.arr(x, path).map((h, i) => readHook(r, h, `${path}[${i}]`)));
    if (list?.length) hooks[kind] = list;
  }
  return hooks;
}

function readHook(r: Reader, v: unknown, path: string): SpecHook {
  const o = r.obj(v, path);
  const hookPath = r.str(o.path, `${path}.path`);
  const timeout = r.opt(o, 'timeout', path, r.int.bind(r));
  const args = r.opt(o, 'args', path, r.strs.bind(r));
  return {
    path: hookPath,
    // no argv (or an empty one) runs the program under its path, as runc does
    args: args?.length ? args : [hookPath],
    env: r.opt(o, 'env', path, r.strs.bind(r)) ?? [],
    ...(timeout === undefined ? {} : { timeout }),
  };
}

export function readIdMappings(r: Reader, v: unknown, path: string): SpecIdMapping[] {
  return r.arr(v ?? [], path).map((x, i) => {
    const at = `${path}[${i}]`;
    const o = r.obj(x, at);
    const hostID = o.hostID === 'self' || o.hostID === 'subordinate' ? o.hostID : r.int(o.hostID, `${at}.hostID`);
    return { containerID: r.int(o.containerID, `${at}.containerID`), hostID, size: r.int(o.size, `${at}.size`) };
  });
}

function readRootfs(r: Reader, v: unknown): SpecRootfs {
  const o = r.obj(v, 'rootfs');
  if (o.kind === 'dir')
    return { kind: 'dir', path: r.str(o.path, 'rootfs.path'), readonly: r.opt(o, 'readonly', 'rootfs', r.bool.bind(r)) ?? false };
  if (o.kind === 'host') {
    const dirs = r.obj(o.dirs ?? {}, 'rootfs.dirs');
    const files = r.obj(o.files ?? {}, 'rootfs.files');
    return {
      kind: 'host',
      mirror: r.strs(o.mirror, 'rootfs.mirror'),
      dirs: Object.fromEntries(Object.entries(dirs).map(([k, m]) => [k, r.int(m, `rootfs.dirs.${k}`)])),
      files: Object.fromEntries(Object.entries(files).map(([k, c]) => [k, r.str(c, `rootfs.files.${k}`)])),
      readonly: r.opt(o, 'readonly', 'rootfs', r.bool.bind(r)) ?? false,
    };
  }
  if (o.kind === 'image') {
    return {
      kind: 'image',
      archive: r.str(o.archive, 'rootfs.archive'),
      readonly: r.opt(o, 'readonly', 'rootfs', r.bool.bind(r)) ?? false,
      digest: '',
    };
  }
  return r.fail('rootfs', 'a rootfs from dirRootfs(), hostRootfs() or imageRootfs()');
}

function readProcess(r: Reader, v: unknown): Spec['process'] {
  const p = r.obj(v, 'process');
  const umask = r.opt(p, 'umask', 'process', r.int.bind(r)) ?? 0o022;
  const oomScoreAdj = r.opt(p, 'oomScoreAdj', 'process', r.int.bind(r));
  const parentDeathSignal = r.opt(p, 'parentDeathSignal', 'process', r.str.bind(r));
  const apparmorProfile = r.opt(p, 'apparmorProfile', 'process', r.str.bind(r));
  const selinuxLabel = r.opt(p, 'selinuxLabel', 'process', r.str.bind(r));
  const seccomp =
    p.seccomp === 'unconfined'
      ? undefined
      : seccompSpecOf(
          (p.seccomp === undefined || p.seccomp === 'default' ? defaultSeccomp : p.seccomp) as Seccomp,
          r.origins,
          'process.seccomp',
        );
  const user = readUser(r, p.user);
  return {
    args: r.strs(p.args, 'process.args'),
    env: r.opt(p, 'env', 'process', r.strs.bind(r)) ?? [...defaultEnv],
    cwd: r.opt(p, 'cwd', 'process', r.str.bind(r)) ?? '/',
    user,
    terminal: r.opt(p, 'terminal', 'process', r.bool.bind(r)) ?? false,
    capabilities: readCapabilities(r, p.capabilities ?? defaultCapabilities, p.capabilities !== undefined && !isRootUser(user)),
    rlimits: r.arr(p.rlimits ?? [], 'process.rlimits').map((x, i) => readRlimit(r, x, `process.rlimits[${i}]`)),
    noNewPrivileges: r.opt(p, 'noNewPrivileges', 'process', r.bool.bind(r)) ?? true,
    umask,
    ...(oomScoreAdj === undefined ? {} : { oomScoreAdj }),
    ...(parentDeathSignal === undefined ? {} : { parentDeathSignal }),
    ...(apparmorProfile === undefined ? {} : { apparmorProfile }),
    ...(selinuxLabel === undefined ? {} : { selinuxLabel }),
    ...(seccomp === undefined ? {} : { seccomp }),
  };
}

/**
 * A plain list means "the process can use these": the same set in bounding,
 * effective and permitted, and for a user other than root (uid 0, or the
 * name root) in inheritable and ambient too, as podman does for a non-root
 * user, since only ambient capabilities survive that user's execve
 * (plan/after-exec.ts). The default list (no capabilities given) is not
 * raised: a non-root process holds none of it, as in docker and podman.
 * The five-set object form is taken as written.
 */
function readCapabilities(r: Reader, v: unknown, raise: boolean): SpecCapabilities {
  const path = 'process.capabilities';
  if (Array.isArray(v)) {
    const caps = r.strs(v, path);
    const held = raise ? caps : [];
    return { bounding: caps, effective: [...caps], permitted: [...caps], inheritable: [...held], ambient: [...held] };
  }
  const o = r.obj(v, path);
  const set = (k: string) => r.opt(o, k, path, r.strs.bind(r)) ?? [];
  return {
    bounding: set('bounding'),
    effective: set('effective'),
    permitted: set('permitted'),
    inheritable: set('inheritable'),
    ambient: set('ambient'),
  };
}

function readRlimit(r: Reader, v: unknown, path: string): SpecRlimit {
  const o = r.obj(v, path);
  const limit = (x: unknown, p: string) => (x === 'unlimited' ? -1 : r.int(x, p));
  return { type: r.str(o.type, `${path}.type`), soft: limit(o.soft, `${path}.soft`), hard: limit(o.hard, `${path}.hard`) };
}

function readDevice(r: Reader, v: unknown, path: string): SpecDevice {
  const o = r.obj(v, path);
  return {
    path: r.str(o.path, `${path}.path`),
    type: r.str(o.type, `${path}.type`) as SpecDevice['type'],
    major: r.int(o.major, `${path}.major`),
    minor: r.int(o.minor, `${path}.minor`),
    mode: r.opt(o, 'mode', path, r.int.bind(r)) ?? 0o666,
    uid: r.opt(o, 'uid', path, r.int.bind(r)) ?? 0,
    gid: r.opt(o, 'gid', path, r.int.bind(r)) ?? 0,
  };
}

export function readDeviceRule(r: Reader, v: unknown, path: string): SpecDeviceRule {
  const o = r.obj(v, path);
  return {
    allow: r.bool(o.allow, `${path}.allow`),
    type: (r.opt(o, 'type', path, r.str.bind(r)) ?? 'a') as SpecDeviceRule['type'],
    major: r.opt(o, 'major', path, r.int.bind(r)) ?? -1,
    minor: r.opt(o, 'minor', path, r.int.bind(r)) ?? -1,
    access: r.opt(o, 'access', path, r.str.bind(r)) ?? 'rwm',
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
  const rules = o.devices ?? defaultDeviceRules;
  return {
    ...readResourceLimits(r, o, {
      bytes: (x, p) => (x === undefined ? undefined : r.bytes(x, p)),
      count: (x, p) => (x === undefined ? undefined : r.int(x, p)),
      at: (key) => `resources.${key}`,
    }),
    devices: r.arr(rules, 'resources.devices').map((x, i) => readDeviceRule(r, x, `resources.devices[${i}]`)),
  };
}
