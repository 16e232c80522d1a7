/*
 * journal-check.h: the check of a journal read from disk (journal-check.c),
 * shared by ctc-init (`ctc-init journal-check ROOT ID`, which the
 * TypeScript executor runs) and the launcher (its native delete).
 */
#ifndef CTC_JOURNAL_CHECK_H
#define CTC_JOURNAL_CHECK_H

#include <stddef.h>

/* {"plan":"sha256:<64 hex>"} and a newline, and the NUL */
#define JOURNAL_HEADER_SIZE (sizeof "{\"plan\":\"sha256:\"}\n" + 64)

/* The journal's first line for a container running this plan text. */
void journal_header(const void *plan, size_t len, char out[JOURNAL_HEADER_SIZE]);

/*
 * Checks the journal of ROOT/ID against the container's plan. 0 with
 * *entries: the entry lines to undo, each ending in a newline (the header
 * and a torn last line left out; "" without a journal), or -1 with *why:
 * what is wrong, naming the line. Both malloc'd.
 */
int journal_check(const char *root, const char *id, char **entries, char **why);

/* `ctc-init journal-check ROOT ID`: the entries on stdout and 0, or why on stderr and 1. */
int journal_check_main(const char *root, const char *id);

#endif
