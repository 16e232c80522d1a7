/*
 * seccomp-names.c: syscall numbers, architectures and errno names for the
 * seccomp compiler, looked up in syscalls.gen.h (stdlib/syscalls.ts's
 * tables, sorted by name).
 */
#include <stdlib.h>
#include <string.h>

#include "seccomp-parts.h"
#include "syscalls.gen.h"

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

static int by_name(const void *key, const void *row)
{
  return strcmp(key, ((const struct ctc_name_nr *)row)->name);
}

static int by_string(const void *key, const void *row)
{
  return strcmp(key, *(const char *const *)row);
}

static long find(const struct ctc_name_nr *table, size_t n, const char *name)
{
  const struct ctc_name_nr *row = bsearch(name, table, n, sizeof *table, by_name);
  return row ? (long)row->nr : -1;
}

int seccomp_arch_of(const char *name)
{
  if (!strcmp(name, "x86_64"))
    return ARCH_X86_64;
  if (!strcmp(name, "aarch64"))
    return ARCH_AARCH64;
  return -1;
}

long seccomp_syscall_nr(enum seccomp_arch arch, const char *name)
{
  if (arch == ARCH_X86_64)
    return find(ctc_syscalls_x86_64, COUNT(ctc_syscalls_x86_64), name);
  return find(ctc_syscalls_aarch64, COUNT(ctc_syscalls_aarch64), name);
}

int seccomp_is_syscall(const char *name)
{
  return seccomp_syscall_nr(ARCH_X86_64, name) >= 0 || seccomp_syscall_nr(ARCH_AARCH64, name) >= 0 ||
         bsearch(name, ctc_other_abi_syscalls, COUNT(ctc_other_abi_syscalls), sizeof *ctc_other_abi_syscalls, by_string);
}

long seccomp_errno_of(const char *name)
{
  return find(ctc_errnos, COUNT(ctc_errnos), name);
}
