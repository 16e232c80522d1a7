// An OCI runtime config (plain values from json.ts) → Spec, with the OCI
// defaults, which are not the TypeScript stdlib's: an OCI config says
// everything it wants, so what it leaves out is not done. Shapes are checked
// here and named by their JSON path; meaning is left to compiler/check.

import { isAbsolute, resolve } from 'node:path';
import { CtcError } from '../../common/error.ts';
import { Reader, readDeviceRule, readHooks, readIdMappings } from '../frontend/def.ts';
import type { Spec, SpecCapabilities, SpecDevice, SpecMount, SpecRlimit } from '../spec.ts';
import type { SpecResources } from '../../plan/limits.ts';
import { joinableNamespaces } from '../../plan/namespaces.ts';
import type { Namespace } from '../../stdlib/types.ts';
import { element, member } from './json.ts';
import { seccompSpecOfOci } from '../seccomp/oci.ts';
import { readResourceLimits } from '../resources.ts';

type Obj = Record<string, unknown>;

/** Semantic versions of the runtime-spec; containerd 1.6 sends "1.0.2-dev". */
const VERSION = /^(\d+)\.(\d+)\.\d+([-+].*)?$/;
/** The newest minor version ctc knows; a later 1.x only adds fields, which ctc then ignores (as runc and crun do). */
const KNOWN_MINOR = 2;

/** Every 1.x is read, as runc and crun read them; a minor newer than ctc knows is a warning, returned. */
export function checkVersion(config: Obj, at: Map<string, string>): CtcError[] {
  const v = config.ociVersion;
  const m = typeof v === 'string' ? VERSION.exec(v) : null;
  const source = at.get(v === undefined ? '' : 'ociVersion');
  if (m?.[1] !== '1') {
    throw new CtcError('CT_OCI_VERSION', v === undefined ? 'ociVersion is missing' : `ociVersion ${JSON.stringify(v)} is not supported`, {
      source,
      hint: 'ctc reads OCI runtime configs of versions 1.x',
    });
  }
  if (Number(m[2]) <= KNOWN_MINOR) return [];
  return [
    new CtcError(
      'CT_OCI_VERSION',
      `ociVersion ${JSON.stringify(v)} is newer than 1.${KNOWN_MINOR}.x, the runtime-spec ctc knows; read as 1.${KNOWN_MINOR}`,
      {
        source,
        hint: `fields that 1.${KNOWN_MINOR} does not define are ignored, as the spec says of unknown properties`,
      },
    ),
  ];
}

/** `dir` is the config's folder: relative paths in the config are relative to the bundle. */
export function specFromOci(c: Obj, at: Map<string, string>, dir: string): Spec {
  const r = new Reader(at);
  const linux = r.obj(c.linux ?? {}, 'linux');
  const root = r.obj(c.root, 'root');
  const hostname = r.opt(c, 'hostname', '', r.str.bind(r)) || undefined;
  const domainname = r.opt(c, 'domainname', '', r.str.bind(r)) || undefined;
  const cgroupsPath = r.opt(linux, 'cgroupsPath', 'linux', r.str.bind(r)) || '/ctc/{id}';
  const mountLabel = r.opt(linux, 'mountLabel', 'linux', r.str.bind(r)) || undefined;
  const rootfsPropagation = r.opt(linux, 'rootfsPropagation', 'linux', r.str.bind(r)) || undefined;
  const namespaces = readNamespaces(r, linux.namespaces);
  const join = namespaces.find((n) => n.type === 'network')?.path;
  const joins = Object.fromEntries(namespaces.filter((n) => n.path !== undefined && n.type !== 'network').map((n) => [n.type, n.path]));
  return {
    rootfs: {
      kind: 'dir',
      path: resolve(dir, r.str(root.path, 'root.path')),
      readonly: r.opt(root, 'readonly', 'root', r.bool.bind(r)) ?? false,
    },
    process: readProcess(r, c.process, linux.seccomp),
    ...(hostname === undefined ? {} : { hostname }),
    ...(domainname === undefined ? {} : { domainname }),
    ...(mountLabel === undefined ? {} : { mountLabel }),
    ...(rootfsPropagation === undefined ? {} : { rootfsPropagation }),
    namespaces: namespaces.map((n) => n.type),
    ...(Object.keys(joins).length ? { joins } : {}),
    network: { interfaces: [], routes: [], ports: [], ...(join ? { join } : {}) },
    uidMappings: readIdMappings(r, linux.uidMappings, 'linux.uidMappings'),
    gidMappings: readIdMappings(r, linux.gidMappings, 'linux.gidMappings'),
    mounts: r.arr(c.mounts ?? [], 'mounts').map((m, i) => readMount(r, m, element('mounts', i), dir)),
    devices: r.arr(linux.devices ?? [], 'linux.devices').map((d, i) => readDevice(r, d, element('linux.devices', i))),
    maskedPaths: r.opt(linux, 'maskedPaths', 'linux', r.strs.bind(r)) ?? [],
    readonlyPaths: r.opt(linux, 'readonlyPaths', 'linux', r.strs.bind(r)) ?? [],
    resources: readResources(r, linux.resources ?? {}),
    // a relative cgroupsPath goes under the parent ctc is given when it runs (CTC_CGROUP_PARENT, /ctc)
    cgroupsPath,
    annotations: Object.fromEntries(
      Object.entries(r.obj(c.annotations ?? {}, 'annotations')).map(([k, v]) => [k, r.str(v, member('annotations', k))]),
    ),
    sysctl: Object.fromEntries(
      Object.entries(r.obj(linux.sysctl ?? {}, 'linux.sysctl')).map(([k, v]) => [k, r.str(v, member('linux.sysctl', k))]),
    ),
    hooks: readHooks(r, c.hooks),
  };
}

/** Why a namespace of this type cannot be joined by path. */
const notJoinable: Partial<Record<string, string>> = {
  mount:
    "ctc builds the container's root in a mount namespace of its own: pivot_root in a shared one would move the root of every process in it",
};

/** Namespaces; a path joins an existing one (spec.joins, network.join). */
function readNamespaces(r: Reader, v: unknown): { type: Namespace; path?: string }[] {
  return r.arr(v ?? [], 'linux.namespaces').map((n, i) => {
    const at = element('linux.namespaces', i);
    const o = r.obj(n, at);
    const type = r.str(o.type, `${at}.type`) as Namespace;
    const path = r.opt(o, 'path', at, r.str.bind(r)) || undefined;
    const why = notJoinable[type];
    if (path !== undefined && why !== undefined) {
      throw new CtcError('CT_OCI_UNSUPPORTED', `${at}.path: cannot join an existing ${type} namespace: ${why}`, {
        source: r.origins.get(`${at}.path`),
        hint: `ctc joins ${joinableNamespaces.join(', ')} namespaces by path; leave the path out to make a new one`,
      });
    }
    return { type, ...(path ? { path } : {}) };
  });
}

/** linuxSeccomp: linux.seccomp, which the Spec keeps with the process it filters. */
function readProcess(r: Reader, v: unknown, linuxSeccomp: unknown): Spec['process'] {
  const p = r.obj(v, 'process');
  const u = r.obj(p.user, 'process.user');
  const consoleSize = r.opt(p, 'consoleSize', 'process', (x, path) => {
    const box = r.obj(x, path);
    return { rows: r.int(box.height, `${path}.height`), cols: r.int(box.width, `${path}.width`) };
  });
  const oomScoreAdj = r.opt(p, 'oomScoreAdj', 'process', r.int.bind(r));
  const apparmorProfile = r.opt(p, 'apparmorProfile', 'process', r.str.bind(r)) || undefined;
  const seccomp = linuxSeccomp === undefined ? undefined : seccompSpecOfOci(r.obj(linuxSeccomp, 'linux.seccomp'), r.origins);
  const selinuxLabel = r.opt(p, 'selinuxLabel', 'process', r.str.bind(r)) || undefined;
  const capabilities = r.opt(p, 'capabilities', 'process', (x, path) => readCapabilities(r, x, path));
  return {
    args: r.strs(p.args, 'process.args'),
    env: r.opt(p, 'env', 'process', r.strs.bind(r)) ?? [],
    cwd: r.str(p.cwd, 'process.cwd'),
    user: {
      uid: r.int(u.uid, 'process.user.uid'),
      gid: r.int(u.gid, 'process.user.gid'),
      additionalGids: r.opt(u, 'additionalGids', 'process.user', r.ints.bind(r)) ?? [],
    },
    terminal: r.opt(p, 'terminal', 'process', r.bool.bind(r)) ?? false,
    ...(consoleSize === undefined ? {} : { consoleSize }),
    // Absent: the process keeps what the user switch leaves it, as runc does.
    ...(capabilities === undefined ? {} : { capabilities }),
    rlimits: r.arr(p.rlimits ?? [], 'process.rlimits').map((x, i) => readRlimit(r, x, element('process.rlimits', i))),
    noNewPrivileges: r.opt(p, 'noNewPrivileges', 'process', r.bool.bind(r)) ?? false,
    // runc's umask when the config has none
    umask: r.opt(u, 'umask', 'process.user', r.int.bind(r)) ?? 0o022,
    ...(oomScoreAdj === undefined ? {} : { oomScoreAdj }),
    ...(apparmorProfile === undefined ? {} : { apparmorProfile }),
    ...(selinuxLabel === undefined ? {} : { selinuxLabel }),
    ...(seccomp === undefined ? {} : { seccomp }),
  };
}

function readCapabilities(r: Reader, v: unknown, path: string): SpecCapabilities {
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

/** RLIM_INFINITY is 2^64-1, which a double reads as exactly 2^64. */
const RLIM_INFINITY = 2 ** 64;

function readRlimit(r: Reader, v: unknown, path: string): SpecRlimit {
  const o = r.obj(v, path);
  const limit = (x: unknown, p: string) => {
    if (x === RLIM_INFINITY) return -1;
    return typeof x === 'number' && Number.isSafeInteger(x) && x >= 0
      ? x
      : r.fail(p, 'a whole number from 0, or 18446744073709551615 for unlimited');
  };
  return { type: r.str(o.type, `${path}.type`), soft: limit(o.soft, `${path}.soft`), hard: limit(o.hard, `${path}.hard`) };
}

function readMount(r: Reader, v: unknown, path: string, dir: string): SpecMount {
  const m = r.obj(v, path);
  const options = r.opt(m, 'options', path, r.strs.bind(r)) ?? [];
  const declared = r.opt(m, 'type', path, r.str.bind(r)) || 'none';
  const bind = declared === 'bind' || options.includes('bind') || options.includes('rbind');
  // An OCI bind mount is type "bind", or "none" (or no type) with a bind option.
  const type = (bind && declared === 'none' ? 'bind' : declared) as SpecMount['type'];
  const source = r.opt(m, 'source', path, r.str.bind(r));
  return {
    destination: r.str(m.destination, `${path}.destination`),
    type,
    // A relative bind source is relative to the bundle (config.md, mounts).
    source: source === undefined ? (bind ? '' : type) : bind && source && !isAbsolute(source) ? resolve(dir, source) : source,
    options,
  };
}

function readDevice(r: Reader, v: unknown, path: string): SpecDevice {
  const o = r.obj(v, path);
  const type = r.str(o.type, `${path}.type`);
  return {
    path: r.str(o.path, `${path}.path`),
    // 'u' (unbuffered) is a character device to mknod.
    type: (type === 'u' ? 'c' : type) as SpecDevice['type'],
    major: r.int(o.major, `${path}.major`),
    minor: r.int(o.minor, `${path}.minor`),
    // runc's default; the file type bits, if given, are the type's business
    mode: (r.opt(o, 'fileMode', path, r.int.bind(r)) ?? 0o666) & ~0o170000,
    uid: r.opt(o, 'uid', path, r.int.bind(r)) ?? 0,
    gid: r.opt(o, 'gid', path, r.int.bind(r)) ?? 0,
  };
}

/**
 * runc reads 0 as "leave it" and -1 as "unlimited" for these limits; both
 * are a new cgroup's default, so both are no limit here. Other values go to
 * the checks, which know the ranges.
 */
const limit = (n: number | undefined) => (n === undefined || n === 0 || n === -1 ? undefined : n);

function readResources(r: Reader, v: unknown): SpecResources {
  const path = 'linux.resources';
  const o = r.obj(v, path);
  const number = (x: unknown, p: string) => (x === undefined ? undefined : limit(r.int(x, p)));
  return {
    ...readResourceLimits(r, o, { bytes: number, count: number, at: (key) => `${path}.${key}` }),
    devices: r.arr(o.devices ?? [], `${path}.devices`).map((x, i) => readDeviceRule(r, x, element(`${path}.devices`, i))),
  };
}
