/* The portable context switch over POSIX ucontext (make CORO=ucontext). Slower:
 * swapcontext saves the signal mask with a system call on every switch. */
#include "coro_int.h"

#ifdef AW_CORO_UCONTEXT
#include <stdlib.h>

void aw__ctx_make(aw__ctx *ctx, void *lo, size_t size, void (*entry)(void))
{
    if (getcontext(&ctx->uc) != 0)
        abort();
    ctx->uc.uc_stack.ss_sp = lo;
    ctx->uc.uc_stack.ss_size = size;
    ctx->uc.uc_link = NULL;
    makecontext(&ctx->uc, entry, 0);
}

void aw__ctx_switch(aw__ctx *from, aw__ctx *to)
{
    if (swapcontext(&from->uc, &to->uc) != 0)
        abort();
}
#endif
