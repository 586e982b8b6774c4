/* Preparing a new context for the assembly switch (coro_x86_64.S,
 * coro_aarch64.S): lay out the frame aw__ctx_switch pops, so that the first
 * switch to it "returns" into aw__ctx_start, which calls entry(). */
#include "coro_int.h"

#ifndef AW_CORO_UCONTEXT
#include <stdint.h>
#include <string.h>

void aw__ctx_start(void);

void aw__ctx_make(aw__ctx *ctx, void *lo, size_t size, void (*entry)(void))
{
    uintptr_t top = ((uintptr_t)lo + size) & ~(uintptr_t)15;
#if defined(__x86_64__)
    /* Frame, from low to high: control words, r15, r14, r13, r12, rbx, rbp,
     * return address. */
    uint64_t *sp = (uint64_t *)top - 10;
    memset(sp, 0, 10 * sizeof *sp);
    uint32_t mxcsr = 0x1F80; /* all exceptions masked, round to nearest */
    uint16_t fpucw = 0x037F; /* the same for x87 */
    memcpy(&sp[0], &mxcsr, 4);
    memcpy((char *)&sp[0] + 4, &fpucw, 2);
    sp[4] = (uint64_t)(uintptr_t)entry;         /* r12 */
    sp[7] = (uint64_t)(uintptr_t)aw__ctx_start; /* return address */
    ctx->sp = sp;
#elif defined(__aarch64__)
    uint64_t *sp = (uint64_t *)(top - 176);
    memset(sp, 0, 176);
    sp[0] = (uint64_t)(uintptr_t)entry;          /* x19 */
    sp[11] = (uint64_t)(uintptr_t)aw__ctx_start; /* x30 */
    ctx->sp = sp;
#endif
}
#endif
