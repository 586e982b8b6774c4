/* Context switching between the loop and tasks (internal).
 *
 * Two implementations: a few lines of assembly per architecture (x86-64 and
 * aarch64, the default), and POSIX ucontext as a portable fallback, chosen at
 * build time with `make CORO=ucontext` (which defines AW_CORO_UCONTEXT).
 *
 * Only callee-saved state is switched: a switch is a function call as far as
 * the compiler is concerned, so everything else is already spilled.
 */
#ifndef AW_CORO_INT_H
#define AW_CORO_INT_H

#include <stddef.h>

#if !defined(AW_CORO_UCONTEXT) && !defined(__x86_64__) && !defined(__aarch64__)
#define AW_CORO_UCONTEXT 1
#endif

#ifdef AW_CORO_UCONTEXT
#include <ucontext.h>
typedef struct aw__ctx {
    ucontext_t uc;
} aw__ctx;
#else
typedef struct aw__ctx {
    void *sp; /* saved stack pointer; the registers are on that stack */
} aw__ctx;
#endif

/* Prepares `ctx` to run entry() on the stack [lo, lo + size) when first switched
 * to. entry must never return: a finished task switches away for good. */
void aw__ctx_make(aw__ctx *ctx, void *lo, size_t size, void (*entry)(void));

/* Saves the current context into `from` and resumes `to`. */
void aw__ctx_switch(aw__ctx *from, aw__ctx *to);

#endif
