// Writes stdlib/syscalls.ts: the syscall numbers of x86_64 and aarch64 and
// the errno numbers, read from the kernel's UAPI headers through the C
// preprocessor, so the kernel's own #if logic decides what exists.
//
//   apt-get install -y cpp linux-libc-dev linux-libc-dev-arm64-cross linux-libc-dev-armhf-cross
//   node scripts/gen-syscalls.mjs            # rewrites stdlib/syscalls.ts
//   node scripts/gen-syscalls.mjs --check    # fails if the file is stale
//
// x86_64: <asm/unistd_64.h> of the host's linux-libc-dev.
// aarch64: <asm/unistd.h> of linux-libc-dev-arm64-cross, which sets arm64's
//   __ARCH_WANT_* switches and then includes asm-generic/unistd.h; some
//   names there are aliases (__NR_fcntl → __NR3264_fcntl) that depend on
//   __BITS_PER_LONG, so the preprocessor runs with arm64's headers only
//   (-nostdinc -undef) and the aliases are resolved from its own defines.
// errno: asm-generic/errno.h, which both architectures use unchanged (the
//   script checks that they agree).
// Other ABIs: the names (only) of the 32-bit syscalls of i386 (<asm/unistd_32.h>)
//   and arm EABI (linux-libc-dev-armhf-cross), which x86_64 and aarch64 kernels
//   also run. OCI profiles (Docker's) name them; no 64-bit program can make
//   them, so ctc accepts such a name and filters nothing for it.
//
// Debian 12's headers are Linux 6.1. The syscalls added since then are
// listed in `later` below, numbered as in the kernel's syscall tables
// (arch/x86/entry/syscalls/syscall_64.tbl, scripts/syscall.tbl); a header
// that already has one must agree with it, or the script fails.

import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const out = join(root, 'stdlib', 'syscalls.ts');
const ARM64_INCLUDE = '/usr/aarch64-linux-gnu/include';
const ARM_INCLUDE = '/usr/arm-linux-gnueabihf/include';

/** Syscalls newer than Linux 6.1: [name, number, architectures]. */
const later = [
  ['uretprobe', 335, ['x86_64']],
  ['uprobe', 336, ['x86_64']],
  ['cachestat', 451],
  ['fchmodat2', 452],
  ['map_shadow_stack', 453],
  ['futex_wake', 454],
  ['futex_wait', 455],
  ['futex_requeue', 456],
  ['statmount', 457],
  ['listmount', 458],
  ['lsm_get_self_attr', 459],
  ['lsm_set_self_attr', 460],
  ['lsm_list_modules', 461],
  ['mseal', 462],
  ['setxattrat', 463],
  ['getxattrat', 464],
  ['listxattrat', 465],
  ['removexattrat', 466],
  ['open_tree_attr', 467],
  ['file_getattr', 468],
  ['file_setattr', 469],
  ['listns', 470],
];

/** `#define NAME VALUE` lines of a header, as the preprocessor sees them. */
function defines(include, args) {
  const dir = mkdtempSync(join(tmpdir(), 'ctc-gen-'));
  try {
    const file = join(dir, 'in.h');
    writeFileSync(file, `#include <${include}>\n`);
    const text = execFileSync('cpp', ['-dM', ...args, file], { encoding: 'utf8' });
    const map = new Map();
    for (const m of text.matchAll(/^#define (\w+) (.+)$/gm)) map.set(m[1], m[2].trim());
    return map;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** A define's value as a number, following aliases to other defines. */
function valueOf(map, name, seen = new Set()) {
  const v = map.get(name);
  if (v === undefined || seen.has(name)) throw new Error(`cannot resolve ${name}`);
  if (/^\d+$/.test(v)) return Number(v);
  seen.add(name);
  return valueOf(map, v, seen);
}

/** __NR_* → { name: number }, sorted by number. */
function syscalls(map) {
  // Not syscalls: the table's size and the base of arch-specific numbers.
  const skip = new Set(['syscalls', 'arch_specific_syscall']);
  const table = [...map.keys()].filter((k) => k.startsWith('__NR_') && !skip.has(k.slice(5))).map((k) => [k.slice(5), valueOf(map, k)]);
  return table;
}

function withLater(table, arch) {
  const byName = new Map(table);
  for (const [name, nr, archs] of later) {
    if (archs && !archs.includes(arch)) continue;
    const have = byName.get(name);
    if (have !== undefined && have !== nr) throw new Error(`${arch}: ${name} is ${have} in the headers but ${nr} in later`);
    byName.set(name, nr);
  }
  const entries = [...byName].sort((a, b) => a[1] - b[1] || (a[0] < b[0] ? -1 : 1));
  const numbers = new Map();
  for (const [name, nr] of entries) {
    if (numbers.has(nr)) throw new Error(`${arch}: ${name} and ${numbers.get(nr)} are both ${nr}`);
    numbers.set(nr, name);
  }
  return entries;
}

/** Syscall names of a 32-bit ABI's header (numbers are not needed). */
function names(map) {
  const bases = new Set(['__NR_syscalls', '__NR_SYSCALL_BASE', '__NR_OABI_SYSCALL_BASE', '__NR_SYSCALL_MASK', '__ARM_NR_BASE']);
  return [...map.keys()].filter((k) => /^__(ARM_)?NR_/.test(k) && !bases.has(k)).map((k) => k.replace(/^__(ARM_)?NR_/, ''));
}

function errnos(map) {
  return [...map.keys()]
    .filter((k) => /^E[A-Z0-9]+$/.test(k))
    .map((k) => [k, valueOf(map, k)])
    .sort((a, b) => a[1] - b[1] || (a[0] < b[0] ? -1 : 1));
}

function version(pkg) {
  // biome-ignore lint/suspicious/noTemplateCurlyInString: dpkg-query's own format syntax, not a template
  return execFileSync('dpkg-query', ['-W', '-f=${Version}', pkg], { encoding: 'utf8' }).trim();
}

const x86 = withLater(syscalls(defines('asm/unistd_64.h', [])), 'x86_64');
const armArgs = ['-undef', '-nostdinc', '-D__aarch64__', `-I${ARM64_INCLUDE}`];
const arm = withLater(syscalls(defines('asm/unistd.h', armArgs)), 'aarch64');
const errX86 = errnos(defines('asm/errno.h', []));
const errArm = errnos(defines('asm/errno.h', armArgs));
const native = new Set([...x86, ...arm].map(([name]) => name));
const i386 = names(defines('asm/unistd_32.h', []));
const armEabi = names(defines('asm/unistd.h', ['-undef', '-nostdinc', '-D__arm__', '-D__ARM_EABI__', `-I${ARM_INCLUDE}`]));
const others = [...new Set([...i386, ...armEabi])].filter((n) => !native.has(n)).sort();
if (JSON.stringify(errX86) !== JSON.stringify(errArm)) throw new Error('x86_64 and aarch64 errno numbers differ');

const table = (entries, indent) => entries.map(([k, v]) => `${indent}${k}: ${v},`).join('\n');
const text = `// The syscall numbers of x86_64 and aarch64, and the errno numbers: the one
// table of these facts in ctc. Generated by scripts/gen-syscalls.mjs from the
// kernel's UAPI headers (linux-libc-dev ${version('linux-libc-dev')},
// linux-libc-dev-arm64-cross ${version('linux-libc-dev-arm64-cross')}, linux-libc-dev-armhf-cross
// ${version('linux-libc-dev-armhf-cross')}), plus the syscalls added since Linux 6.1. Do not edit:
//
//   apt-get install -y cpp linux-libc-dev linux-libc-dev-arm64-cross linux-libc-dev-armhf-cross
//   node scripts/gen-syscalls.mjs

export const syscallNumbers = {
  x86_64: {
${table(x86, '    ')}
  },
  aarch64: {
${table(arm, '    ')}
  },
} as const;

export type SyscallArch = keyof typeof syscallNumbers;

/** A syscall by name: it exists on x86_64, on aarch64, or on both. */
export type Syscall = keyof (typeof syscallNumbers)['x86_64'] | keyof (typeof syscallNumbers)['aarch64'];

/**
 * Syscalls of the 32-bit ABIs (i386, arm) that neither table has: a profile
 * may name them, and they match nothing a 64-bit program does.
 */
export const otherAbiSyscalls: readonly string[] = [
${others.map((n) => `  '${n}',`).join('\n')}
];

/** errno numbers (asm-generic/errno.h; the same on both architectures). */
export const errnoNumbers = {
${table(errArm, '  ')}
} as const;

export type ErrnoName = keyof typeof errnoNumbers;
`;

if (process.argv.includes('--check')) {
  if (readFileSync(out, 'utf8') !== text) {
    console.error(`${out} is not what the headers give; run node scripts/gen-syscalls.mjs`);
    process.exit(1);
  }
} else {
  writeFileSync(out, text);
  console.log(
    `wrote ${out}: ${x86.length} x86_64 and ${arm.length} aarch64 syscalls, ${others.length} other-ABI names, ${errArm.length} errno names`,
  );
}
