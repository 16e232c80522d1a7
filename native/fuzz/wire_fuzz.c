/*
 * wire_fuzz.c: libFuzzer harness for ctc-init's program decoder (wire.h),
 * the one place ctc-init reads bytes it did not make. Built with ASan and
 * UBSan by native/fuzz/run.sh; not part of `npm test`.
 *
 * init/program.c (the decoder; it needs no other file of ctc-init) is
 * included unchanged: its `exit` (how `bad()` refuses a malformed program)
 * becomes a longjmp back here, and its error messages are silenced. Each
 * input goes through a pipe on fd 3, exactly as the executor sends a program.
 */
#define _GNU_SOURCE /* before any header, as program.c has it */
#include <fcntl.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static jmp_buf refused;
__attribute__((noreturn)) static void fuzz_exit(int code)
{
  (void)code;
  longjmp(refused, 1);
}

#define exit fuzz_exit
#define dprintf(...) 0
#include "../init/program.c"
#undef dprintf
#undef exit

/* fd 3 stays taken between inputs (by /dev/null), so a new pipe never lands on it */
static void park_fd3(void)
{
  int fd = open("/dev/null", O_RDONLY);
  if (fd < 0 || (fd != CTL_FD && (dup2(fd, CTL_FD) < 0 || close(fd) < 0)))
    abort();
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
  (void)argc, (void)argv;
  park_fd3();
  return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  if (size > 60000) /* a pipe holds 64 KiB: the program must fit before it is read */
    return 0;
  int p[2];
  if (pipe(p) < 0)
    abort();
  if (size && write(p[1], data, size) != (ssize_t)size)
    abort();
  close(p[1]);
  if (dup2(p[0], CTL_FD) < 0)
    abort();
  close(p[0]);
  static struct program prog;
  prog = (struct program){0};
  if (!setjmp(refused))
    read_program(&prog);
  free(prog.body);
  free(prog.ops);
  park_fd3(); /* closes this input's pipe */
  return 0;
}
