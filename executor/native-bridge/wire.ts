// Encodes a plan's init steps into the binary program ctc-init reads. The
// format and the op semantics are defined in native/wire.h; the numbers here
// mirror it (a test reads wire.h to keep them equal).

import { constants } from 'node:os';
import { flagBits, MS, propagationFlags } from '../../plan/mount-options.ts';
import { CtcError } from '../../common/error.ts';
import { compileSeccomp, seccompDigest, seccompFlags } from '../../plan/seccomp/bpf.ts';
import { parseSeccompAction, parseSeccompRule } from '../../plan/seccomp/text.ts';
import type { SpecSeccomp } from '../../plan/seccomp/types.ts';
import { inetBytes, parseCidr, parseInet } from '../../plan/inet.ts';
import { capabilityNumbers } from '../../stdlib/capabilities.ts';
import { rlimitNumbers } from '../../stdlib/rlimits.ts';
import { type InitKind, type Step, int, ints, list, str } from '../../plan/steps.ts';
import type { CgroupMount } from '../host/cgroups/index.ts';

export const WIRE_MAGIC = 0x50435443;
export const WIRE_VERSION = 2;

export const Op = {
  UNSHARE: 1,
  PROPAGATION: 2,
  LINK_UP: 3,
  ROOTFS: 4,
  MIRROR: 5,
  MOUNT: 6,
  MKNOD: 7,
  SYMLINK: 8,
  WRITE_FILE: 9,
  MKDIR: 10,
  PIVOT: 11,
  HOSTNAME: 12,
  USER: 13,
  CHDIR: 14,
  EXEC: 15,
  CAPS_BOUNDING: 16,
  CAPS: 17,
  RLIMIT: 18,
  NO_NEW_PRIVS: 19,
  UMASK: 20,
  MASK: 21,
  READONLY: 22,
  DOMAINNAME: 23,
  FIFO_OPEN: 24,
  WAIT_START: 25,
  CONSOLE_CONNECT: 26,
  PTY: 27,
  MOVE_ROOT: 28,
  PDEATHSIG: 29,
  SYSCTL: 30,
  USER_NAME: 31,
  LSM_EXEC: 32,
  SECCOMP: 33,
  NET_ADDR: 34,
  NET_ROUTE: 35,
  SETNS: 36,
  ROOTFS_OVERLAY: 37,
  M_JOIN: 100,
  M_DETACH: 101,
  M_CONSOLE_PROXY: 102,
  M_CONSOLE_CONNECT: 103,
  M_LOG: 104,
} as const;

export const Msg = { PID: 1, ACK: 2, ERR: 3, PAUSED: 4, EXEC: 5, EXIT: 6, WAITING: 7, DETACHED: 8 } as const;
export const CMD_GO = 1;

export const cloneFlags: Readonly<Record<string, number>> = {
  mount: 0x00020000,
  uts: 0x04000000,
  ipc: 0x08000000,
  user: 0x10000000,
  pid: 0x20000000,
  network: 0x40000000,
  cgroup: 0x02000000,
  time: 0x00000080,
};

export const nsFlags = (names: string[]) => names.reduce((f, n) => f | cloneFlags[n], 0);
/** M_JOIN's kinds for exec: all of them, so the init's own namespaces decide (wire.h CTC_NS_ALL). */
export const NS_ALL = nsFlags(Object.keys(cloneFlags));

/** A capability list as the kernel's 64-bit mask. */
export const capMask = (names: string[]) =>
  names.reduce((m, n) => m | (1n << BigInt(capabilityNumbers[n as keyof typeof capabilityNumbers])), 0n);

const RLIM_INFINITY = 2n ** 64n - 1n;
const rlimitValue = (v: string) => (v === 'unlimited' ? RLIM_INFINITY : BigInt(v));

export type Arg = Buffer;

/**
 * ctc-init reads C strings: a NUL inside one would end it there, or split
 * an argv into two arguments. The plan parser refuses such plans already;
 * this is the last place before the bytes leave (wire.h refuses them too).
 */
function noNul(s: string): string {
  if (s.includes('\0'))
    throw new CtcError('CT_PLAN_INVALID', `${JSON.stringify(s)} holds a NUL byte: ctc-init would read another string than the plan's`);
  return s;
}
const S = (s: string): Arg => Buffer.from(noNul(s) + '\0');
const U = (n: number | bigint): Arg => {
  const b = Buffer.alloc(8);
  b.writeBigUInt64LE(BigInt.asUintN(64, BigInt(n)));
  return b;
};
const BLOB = (b: Buffer): Arg => b;
/** wire.h's LIST: the count, then the strings; ctc-init checks one against the other. */
const LIST = (xs: string[]): Arg => {
  const count = Buffer.alloc(4);
  count.writeUInt32LE(xs.length);
  return Buffer.concat([count, ...xs.map((x) => Buffer.from(noNul(x) + '\0'))]);
};

export interface WireOp {
  op: number;
  args: Arg[];
}

export const op = (code: number, ...args: Arg[]): WireOp => ({ op: code, args });
export { S as strArg, U as u64Arg };

function mount(src: string, dst: string, fstype: string, flags: number, data = '', prop = 0): WireOp {
  return op(Op.MOUNT, S(src), S(dst), S(fstype), U(flags), S(data), U(prop));
}

const S_IFMT: Record<string, number> = { c: 0o020000, b: 0o060000, p: 0o010000 };
/** glibc's makedev for the dev_t the kernel takes. */
const makedev = (major: number, minor: number) =>
  Number(
    ((BigInt(major) & 0xfffff000n) << 32n) |
      ((BigInt(major) & 0xfffn) << 8n) |
      ((BigInt(minor) & 0xffffff00n) << 12n) |
      (BigInt(minor) & 0xffn),
  );

const SAFE = MS.NOSUID | MS.NODEV | MS.NOEXEC;

/** path: no cgroup namespace, so the container's own cgroup is bound from the host (as runc does). */
function cgroupMounts(dst: string, names: string[], layout: CgroupMount[], path?: string): WireOp[] {
  const [flags] = flagBits(names);
  const at = (sub: string) => (sub ? `${dst}/${sub}` : dst);
  const own = (m: CgroupMount) => mount(`${m.host}${path}`, at(m.sub), '', flags | MS.BIND | MS.REC);
  return layout.flatMap((m): WireOp[] => {
    switch (m.kind) {
      case 'tmpfs':
        return [mount('tmpfs', at(m.sub), 'tmpfs', SAFE, 'mode=755')];
      case 'cgroup':
        return [path ? own(m) : mount('cgroup', at(m.sub), 'cgroup', flags, m.data)];
      case 'cgroup2':
        return [path ? own(m) : mount('cgroup2', at(m.sub), 'cgroup2', flags)];
      case 'symlink':
        return [op(Op.SYMLINK, S(m.data ?? ''), S(at(m.sub)))];
      case 'remount-ro':
        return flags & MS.RDONLY ? [mount('', at(m.sub), '', MS.REMOUNT | MS.RDONLY | SAFE)] : [];
    }
  });
}

/** AF_INET, AF_INET6 (os.constants has no address families) */
const AF = { 4: 2, 6: 10 } as const;
const inetArg = (text: string) => (text ? inetBytes(parseInet(text)!) : Buffer.alloc(0));

/** dst 'default' is IPv4's default route; '::/0' is IPv6's. */
function netRoute(s: Step): WireOp {
  const dst = str(s, 'dst');
  const c = dst === 'default' ? undefined : parseCidr(dst)!;
  const family = c?.family ?? 4;
  return op(
    Op.NET_ROUTE,
    U(AF[family]),
    BLOB(c?.prefix ? inetBytes(c) : Buffer.alloc(0)),
    U(c?.prefix ?? 0),
    BLOB(inetArg(str(s, 'gw'))),
    BLOB(inetArg(str(s, 'src'))),
    S(str(s, 'dev')),
  );
}

/** The wire ops of each init step kind. Adding a kind without one is a type error. */
const encoders: Record<InitKind, (s: Step, cgroups: CgroupMount[]) => WireOp[]> = {
  'ns.unshare': (s) => [op(Op.UNSHARE, U(nsFlags(list(s, 'ns'))))],
  'mount.propagation': (s) => [op(Op.PROPAGATION, S(str(s, 'path')), U(propagationFlags[str(s, 'mode')]))],
  'net.up': (s) => [op(Op.LINK_UP, S(str(s, 'dev')))],
  'user.root': () => [op(Op.USER, U(0), U(0), BLOB(Buffer.alloc(0)), U(0))],
  'ns.join': (s) => [op(Op.SETNS, S(str(s, 'path')), U(cloneFlags[str(s, 'ns')]))],
  'net.addr': (s) => {
    const c = parseCidr(str(s, 'addr'))!;
    return [op(Op.NET_ADDR, S(str(s, 'dev')), U(AF[c.family]), BLOB(inetBytes(c)), U(c.prefix))];
  },
  'net.route': (s) => [netRoute(s)],
  'rootfs.tmpfs': (s) => [op(Op.ROOTFS, S(str(s, 'dir')), U(1))],
  'rootfs.bind': (s) => [op(Op.ROOTFS, S(str(s, 'dir')), U(0))],
  'rootfs.overlay': (s) => [op(Op.ROOTFS_OVERLAY, S(str(s, 'dir')), S(str(s, 'lower')))],
  'rootfs.mirror': (s) => [op(Op.MIRROR, S(str(s, 'path')), S(str(s, 'path')))],
  'fs.mkdir': (s) => [op(Op.MKDIR, S(str(s, 'path')), U(int(s, 'mode')))],
  'fs.write': (s) => [op(Op.WRITE_FILE, S(str(s, 'path')), U(int(s, 'mode')), BLOB(Buffer.from(str(s, 'data'))))],
  'fs.symlink': (s) => [op(Op.SYMLINK, S(str(s, 'target')), S(str(s, 'path')))],
  'dev.node': (s) => [
    op(
      Op.MKNOD,
      S(str(s, 'path')),
      U(S_IFMT[str(s, 'type')] | int(s, 'mode')),
      U(makedev(int(s, 'major'), int(s, 'minor'))),
      U(int(s, 'uid')),
      U(int(s, 'gid')),
    ),
  ],
  'mount.fs': (s) => {
    const [flags, prop] = flagBits(list(s, 'flags'));
    return [mount(str(s, 'src'), str(s, 'dst'), str(s, 'type'), flags, str(s, 'data'), prop)];
  },
  'mount.bind': (s) => {
    const [flags, prop] = flagBits(list(s, 'flags'));
    return [mount(str(s, 'src'), str(s, 'dst'), '', flags | MS.BIND, '', prop)];
  },
  'mount.cgroup': (s, cgroups) => cgroupMounts(str(s, 'dst'), list(s, 'flags'), cgroups, s.args.path as string | undefined),
  'rootfs.pivot': () => [op(Op.PIVOT)],
  'rootfs.readonly': () => [mount('', '/', '', MS.REMOUNT | MS.BIND | MS.RDONLY)],
  'fs.mask': (s) => [op(Op.MASK, S(str(s, 'path')))],
  'fs.readonly': (s) => [op(Op.READONLY, S(str(s, 'path')))],
  'uts.hostname': (s) => [op(Op.HOSTNAME, S(str(s, 'name')))],
  'uts.domainname': (s) => [op(Op.DOMAINNAME, S(str(s, 'name')))],
  'proc.tty': (s) => [op(Op.PTY, U(int(s, 'rows') ?? 0), U(int(s, 'cols') ?? 0))],
  'proc.rlimit': (s) => [
    op(
      Op.RLIMIT,
      U(rlimitNumbers[str(s, 'type') as keyof typeof rlimitNumbers]),
      U(rlimitValue(str(s, 'soft'))),
      U(rlimitValue(str(s, 'hard'))),
    ),
  ],
  'proc.umask': (s) => [op(Op.UMASK, U(int(s, 'mask')))],
  'proc.bounding': (s) => [op(Op.CAPS_BOUNDING, U(capMask(list(s, 'caps'))))],
  'proc.sysctl': (s) => [op(Op.SYSCTL, S(str(s, 'key')), S(str(s, 'value')))],
  'proc.apparmor': (s) => [op(Op.LSM_EXEC, S('apparmor/exec'), S(`exec ${str(s, 'profile')}`))],
  'proc.selinux': (s) => [op(Op.LSM_EXEC, S('exec'), S(str(s, 'label')))],
  'proc.user': (s) => {
    if (s.args.name !== undefined) return [op(Op.USER_NAME, S(str(s, 'name')), U(int(s, 'keepcaps') ?? 0))];
    const groups = Buffer.alloc(4 * ints(s, 'groups').length);
    ints(s, 'groups').forEach((g, i) => groups.writeUInt32LE(g, 4 * i));
    return [op(Op.USER, U(int(s, 'uid')), U(int(s, 'gid')), BLOB(groups), U(int(s, 'keepcaps') ?? 0))];
  },
  'proc.caps': (s) => [
    op(Op.CAPS, ...(['effective', 'permitted', 'inheritable', 'ambient'] as const).map((set) => U(capMask(list(s, set))))),
  ],
  'proc.no-new-privs': () => [op(Op.NO_NEW_PRIVS)],
  'proc.seccomp': (s) => {
    const { policy, program } = seccompProgram(s);
    return [op(Op.SECCOMP, U(seccompFlags(policy)), BLOB(program))];
  },
  'proc.pdeathsig': (s) => [op(Op.PDEATHSIG, U(constants.signals[str(s, 'signal') as NodeJS.Signals]))],
  'proc.cwd': (s) => [op(Op.CHDIR, S(str(s, 'dir')))],
  'proc.exec': (s) => [op(Op.EXEC, LIST(list(s, 'args')), LIST(list(s, 'env')))],
};

/**
 * The filter, compiled again from the plan's readable rules; it must be the
 * program the build made (size and sha256 in the step), or the plan is not
 * what this ctc would run.
 */
export function seccompProgram(s: Step): { policy: SpecSeccomp; program: Buffer } {
  // A run checks it (preflight), sends it (the program) and caches it (the run image): compiled once.
  const key = JSON.stringify(s.args);
  const known = verifiedSeccomp.get(key);
  if (known) return known;
  const { action, ret } = parseSeccompAction(str(s, 'default'));
  const policy: SpecSeccomp = {
    defaultAction: action,
    ...(ret === undefined ? {} : { defaultRet: ret }),
    architectures: list(s, 'arches'),
    flags: list(s, 'flags'),
    rules: list(s, 'rules').map(parseSeccompRule),
  };
  const program = compileSeccomp(policy);
  if (seccompDigest(program) !== str(s, 'sha256') || program.length / 8 !== int(s, 'size')) {
    throw new CtcError('CT_PLAN_DIGEST', `the seccomp rules compile to a program other than the one the plan names`, {
      step: { n: s.n, kind: s.kind },
      source: s.source,
      hint: 'the plan was built by another version of ctc: build it again',
    });
  }
  verifiedSeccomp.set(key, { policy, program });
  return { policy, program };
}

/** Filters already compiled and checked in this process, by the step's arguments. */
const verifiedSeccomp = new Map<string, { policy: SpecSeccomp; program: Buffer }>();

export interface ProgramHeader {
  cloneNs: string[];
  spawnStep: number;
  failStep: number;
}

/**
 * Ops the executor adds to a plan's for one run (never plan steps): monitor
 * ops first, then per step number ops before that step's own (the exec
 * fifo wait before proc.exec, the console connect before the first step).
 */
export interface Extras {
  monitor: WireOp[];
  before: Map<number, WireOp[]>;
  /** runc's --no-pivot: the root is moved onto / and chrooted into instead */
  noPivot?: boolean;
}

export function encodeStep(s: Step, cgroups: CgroupMount[], extras?: Extras): WireOp[] {
  try {
    const own = s.kind === 'rootfs.pivot' && extras?.noPivot ? [op(Op.MOVE_ROOT)] : encoders[s.kind as InitKind](s, cgroups);
    return [...(extras?.before.get(s.n) ?? []), ...own];
  } catch (e) {
    // noNul's refusal, at the step that carries the string
    if (!(e instanceof CtcError) || e.step) throw e;
    throw new CtcError(e.code, e.message, { step: { n: s.n, kind: s.kind }, source: s.source, hint: e.hint });
  }
}

export function record(o: WireOp, step: number): Buffer {
  const args = o.args.flatMap((a) => {
    const len = Buffer.alloc(4);
    len.writeUInt32LE(a.length);
    return [len, a];
  });
  const head = Buffer.alloc(12);
  const total = 12 + args.reduce((n, b) => n + b.length, 0);
  head.writeUInt32LE(total, 0);
  head.writeUInt16LE(o.op, 4);
  head.writeUInt16LE(o.args.length, 6);
  head.writeUInt32LE(step, 8);
  return Buffer.concat([head, ...args]);
}

/** The whole program: header, then every init step's ops in plan order. */
export function encodeProgram(h: ProgramHeader, steps: Step[], cgroups: CgroupMount[], extras?: Extras): Buffer {
  const records = [
    ...(extras?.monitor ?? []).map((o) => record(o, h.spawnStep)),
    ...steps.flatMap((s) => encodeStep(s, cgroups, extras).map((o) => record(o, s.n))),
  ];
  const body = Buffer.concat(records);
  const head = Buffer.alloc(32);
  [WIRE_MAGIC, WIRE_VERSION, nsFlags(h.cloneNs), h.spawnStep, h.failStep, records.length, body.length, 0].forEach((v, i) =>
    head.writeUInt32LE(v >>> 0, 4 * i),
  );
  return Buffer.concat([head, body]);
}

export interface WireMsg {
  type: number;
  step: number;
  value: number;
  pid: number;
}

export function decodeMsg(b: Buffer, at = 0): WireMsg {
  return { type: b.readUInt32LE(at), step: b.readUInt32LE(at + 4), value: b.readInt32LE(at + 8), pid: b.readUInt32LE(at + 12) };
}

export function goCommand(until: number): Buffer {
  const b = Buffer.alloc(8);
  b.writeUInt32LE(CMD_GO, 0);
  b.writeUInt32LE(until, 4);
  return b;
}
