// Every field of the OCI runtime spec (config.md, config-linux.md, up to
// 1.2.x), and what ctc does with it: reads it into the Spec, or refuses it
// until the issue that brings it. A known field is never ignored silently;
// a property the spec does not define is ignored, as the spec requires.

import { CtcError } from '../../common/error.ts';
import type { Origins } from '../spec.ts';
import { element, member } from './json.ts';

/** Read into the Spec by compiler/oci/read.ts. */
const READ = 'read';

interface NotYet {
  /** what brings it, or why nothing will */
  notYet: string;
  /** values that ask for nothing ctc does not already do (beyond null, false, '', [], {}) */
  accepts?: (v: unknown) => boolean;
}
interface Each {
  each: Fields;
}
/** Deprecated by the spec and ignored by runc: accepted, not read, with a warning. */
interface Ignored {
  ignored: string;
}
type Field = typeof READ | NotYet | Each | Ignored | Fields;
interface Fields {
  readonly [key: string]: Field;
}

const notYet = (hint: string, accepts?: NotYet['accepts']): NotYet => ({ notYet: hint, ...(accepts ? { accepts } : {}) });
const each = (fields: Fields): Each => ({ each: fields });
const zero = (v: unknown) => v === 0;

// Kernel memory limits were removed from the kernel (5.16: memory.kmem.limit_in_bytes no longer limits);
// the spec deprecates them and runc ignores them.
const KERNEL_MEMORY: Ignored = {
  ignored: 'kernel memory limits are deprecated by the runtime-spec and gone from current kernels; ignored, as runc ignores them',
};
const MOUNT_MAPPINGS = notYet("a mount's own id mappings are not supported; the 'idmap' option maps a bind by the container's mappings");
const NOT_PLANNED = notYet('not planned; remove the field to build this config with ctc');
const OTHER_OS = notYet('not planned: the field is for another platform; remove it to build this config with ctc');

const HOOKS = each({ path: READ, args: READ, env: READ, timeout: READ });

export const ociFields: Fields = {
  ociVersion: READ,
  root: { path: READ, readonly: READ },
  mounts: each({ destination: READ, type: READ, source: READ, options: READ, uidMappings: MOUNT_MAPPINGS, gidMappings: MOUNT_MAPPINGS }),
  process: {
    terminal: READ,
    consoleSize: READ,
    user: { uid: READ, gid: READ, umask: READ, additionalGids: READ, username: OTHER_OS },
    args: READ,
    commandLine: OTHER_OS,
    env: READ,
    cwd: READ,
    capabilities: READ,
    rlimits: READ,
    noNewPrivileges: READ,
    apparmorProfile: READ,
    selinuxLabel: READ,
    oomScoreAdj: READ,
    scheduler: NOT_PLANNED,
    ioPriority: NOT_PLANNED,
    execCPUAffinity: NOT_PLANNED,
  },
  hostname: READ,
  domainname: READ,
  annotations: READ,
  hooks: {
    prestart: HOOKS,
    createRuntime: HOOKS,
    createContainer: HOOKS,
    startContainer: HOOKS,
    poststart: HOOKS,
    poststop: HOOKS,
  },
  linux: {
    uidMappings: READ,
    gidMappings: READ,
    sysctl: READ,
    resources: {
      devices: READ,
      memory: {
        limit: READ,
        swap: READ,
        reservation: READ,
        kernel: KERNEL_MEMORY,
        kernelTCP: KERNEL_MEMORY,
        swappiness: READ,
        disableOOMKiller: READ,
        // hierarchical accounting is all kernels since 4.x do; false cannot be had
        useHierarchy: notYet('memory.use_hierarchy is always on in current kernels', (v) => v === true),
        // runc's own check for update; ctc's update checks its values anyway
        checkBeforeUpdate: notYet('', () => true),
      },
      cpu: {
        shares: READ,
        quota: READ,
        period: READ,
        burst: READ,
        realtimeRuntime: READ,
        realtimePeriod: READ,
        cpus: READ,
        mems: READ,
        idle: READ,
      },
      pids: { limit: READ },
      blockIO: {
        weight: READ,
        leafWeight: notYet('blkio leaf weights are gone from current kernels', zero),
        weightDevice: READ,
        throttleReadBpsDevice: READ,
        throttleWriteBpsDevice: READ,
        throttleReadIOPSDevice: READ,
        throttleWriteIOPSDevice: READ,
      },
      hugepageLimits: READ,
      network: READ,
      rdma: READ,
      unified: READ,
    },
    cgroupsPath: READ,
    // a path: only the network namespace's is joined (compiler/oci/read.ts refuses the others)
    namespaces: each({ type: READ, path: READ }),
    devices: READ,
    seccomp: READ,
    // ctc makes the root rprivate, always: asking for that is fine.
    rootfsPropagation: READ,
    maskedPaths: READ,
    readonlyPaths: READ,
    mountLabel: READ,
    intelRdt: NOT_PLANNED,
    personality: NOT_PLANNED,
    timeOffsets: NOT_PLANNED,
    memoryPolicy: NOT_PLANNED,
    netDevices: notYet('moving host interfaces into a container is not supported yet; ctc makes veth pairs (see network in a .ct.ts)'),
  },
  solaris: OTHER_OS,
  windows: OTHER_OS,
  vm: OTHER_OS,
  zos: OTHER_OS,
};

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

/** Asks for nothing: null, false, '', [], {}, or an object of such. */
function isEmpty(v: unknown): boolean {
  if (v === undefined || v === null || v === false || v === '') return true;
  if (Array.isArray(v)) return v.length === 0;
  return isObject(v) && Object.values(v).every(isEmpty);
}

export interface FieldWalk {
  /** CT_OCI_UNSUPPORTED for every known field ctc cannot do yet, in document order */
  unsupported: CtcError[];
  /** CT_OCI_DEPRECATED, one for all the deprecated fields the config sets, which are ignored */
  ignored: CtcError[];
  /** JSON paths of everything ctc reads (the fields and all they contain) */
  read: string[];
}

/** Walks the config along the field table. `at` gives each JSON path's position. */
export function walkFields(config: unknown, at: Map<string, string>): FieldWalk {
  const out: FieldWalk = { unsupported: [], ignored: [], read: [''] };
  const ignored: { path: string; why: string }[] = [];
  const walk = (v: unknown, fields: Fields, path: string) => {
    if (!isObject(v)) return; // a wrong shape is the reader's to report
    for (const [key, x] of Object.entries(v)) {
      const field = Object.hasOwn(fields, key) ? fields[key] : undefined;
      if (field === undefined) continue; // not in the OCI spec: ignored, as the spec says
      const p = member(path, key);
      if (field === READ) {
        everything(x, p, out.read);
      } else if ('ignored' in field) {
        if (x !== undefined && x !== null) ignored.push({ path: p, why: (field as Ignored).ignored });
      } else if ('notYet' in field) {
        if (isEmpty(x) || (field as NotYet).accepts?.(x)) continue;
        out.unsupported.push(
          new CtcError('CT_OCI_UNSUPPORTED', `${p}: ctc does not support this field yet`, {
            source: at.get(p),
            hint: (field as NotYet).notYet,
          }),
        );
      } else if ('each' in field) {
        out.read.push(p);
        if (Array.isArray(x)) x.forEach((e, i) => (out.read.push(element(p, i)), walk(e, (field as Each).each, element(p, i))));
      } else {
        out.read.push(p);
        walk(x, field as Fields, p);
      }
    }
  };
  walk(config, ociFields, '');
  // one warning, as runc gives one for all of them
  if (ignored.length) {
    const why = [...new Set(ignored.map((i) => i.why))].join('; ');
    out.ignored.push(
      new CtcError('CT_OCI_DEPRECATED', `${ignored.map((i) => i.path).join(', ')}: ${why}`, { source: at.get(ignored[0].path) }),
    );
  }
  return out;
}

function everything(v: unknown, path: string, into: string[]): void {
  into.push(path);
  if (Array.isArray(v)) v.forEach((x, i) => everything(x, element(path, i), into));
  else if (isObject(v)) for (const [k, x] of Object.entries(v)) everything(x, member(path, k), into);
}

/** Where an OCI field lands in the Spec (compiler/spec.ts); the rest keep their path. */
const toSpec: [RegExp, string][] = [
  [/^root(?=$|\.)/, 'rootfs'],
  [/^linux\.(namespaces|devices|resources|maskedPaths|readonlyPaths|cgroupsPath|uidMappings|gidMappings)(?=$|[.[])/, '$1'],
  [/^process\.user\.umask$/, 'process.umask'],
  [/^process\.consoleSize\.height$/, 'process.consoleSize.rows'],
  [/^process\.consoleSize\.width$/, 'process.consoleSize.cols'],
];

export const specPathOf = (ociPath: string) => toSpec.reduce((p, [from, to]) => p.replace(from, to), ociPath);

/** Spec path → `config.json:line:col`, for everything ctc read. */
export function specOrigins(read: string[], at: Map<string, string>): Origins {
  const origins: Origins = new Map();
  for (const p of read) {
    const source = at.get(p);
    if (source !== undefined) origins.set(specPathOf(p), source);
  }
  return origins;
}
