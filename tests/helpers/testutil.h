/* Shared helpers for aweb's criterion tests. */
#ifndef AW_TESTUTIL_H
#define AW_TESTUTIL_H

#include <criterion/criterion.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "aweb.h"

/* Monotonic clock in milliseconds (wall time, not the loop's cached time). */
int64_t tu_ms(void);

/* Resident set size of this process in bytes (VmRSS). */
size_t tu_rss(void);

/* Number of open file descriptors of this process. */
int tu_open_fds(void);

/* A process tu_fini kills (SIGKILL) if the test ends before it was stopped;
 * 0 forgets it. */
void tu_kill_on_fini(pid_t pid);

/* In a child just forked from the test (parent: the test's pid before the
 * fork): it is killed when the test's process ends, so a failed assertion
 * never leaves a server running behind it. */
void tu_die_with_parent(pid_t parent);

/* Runs fn(arg) in a forked child with stderr captured: returns the child's
 * wait status and stores up to cap-1 bytes of its stderr, NUL-terminated, in
 * out. The child exits with fn's return value. timeout_ms bounds the child. */
int tu_run_child(int (*fn)(void *), void *arg, char *out, size_t cap, int64_t timeout_ms);

/* Suite teardown for every test file: under ASan, fails the test if memory
 * leaked (criterion's workers exit without LeakSanitizer's own check). Use as
 * TestSuite(name, .fini = tu_fini). */
void tu_fini(void);

/* Runs main(arg) under aw_run and asserts it returned 0. */
#define tu_run(main, arg) cr_assert_eq(aw_run((main), (arg)), 0, "aw_run(" #main ") failed")

/* Asserts a duration in ms lies within [lo, hi]. */
#define tu_assert_between(v, lo, hi)                                                               \
    cr_assert((v) >= (lo) && (v) <= (hi), "%s = %lld, expected %lld..%lld", #v, (long long)(v),    \
              (long long)(lo), (long long)(hi))

#endif
