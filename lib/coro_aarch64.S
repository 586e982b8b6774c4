/* aarch64 (AAPCS64) context switch; see coro_int.h.
 *
 * aw__ctx_switch(aw__ctx *from, aw__ctx *to): stores x19-x30, d8-d15 and FPCR in
 * a 176-byte frame on the current stack, saves sp in from->sp, loads to->sp and
 * restores the same frame; `ret` then jumps to the restored x30. A new context's
 * frame (aw__ctx_make in coro_asm.c) has x30 = aw__ctx_start and x19 = entry.
 */
#if defined(__aarch64__) && !defined(AW_CORO_UCONTEXT)
    .text
    .globl  aw__ctx_switch
    .hidden aw__ctx_switch
    .type   aw__ctx_switch, %function
    .p2align 4
aw__ctx_switch:
    sub     sp, sp, #176
    stp     x19, x20, [sp, #0]
    stp     x21, x22, [sp, #16]
    stp     x23, x24, [sp, #32]
    stp     x25, x26, [sp, #48]
    stp     x27, x28, [sp, #64]
    stp     x29, x30, [sp, #80]
    stp     d8, d9, [sp, #96]
    stp     d10, d11, [sp, #112]
    stp     d12, d13, [sp, #128]
    stp     d14, d15, [sp, #144]
    mrs     x9, fpcr
    str     x9, [sp, #160]
    mov     x9, sp
    str     x9, [x0]
    ldr     x9, [x1]
    mov     sp, x9
    ldp     x19, x20, [sp, #0]
    ldp     x21, x22, [sp, #16]
    ldp     x23, x24, [sp, #32]
    ldp     x25, x26, [sp, #48]
    ldp     x27, x28, [sp, #64]
    ldp     x29, x30, [sp, #80]
    ldp     d8, d9, [sp, #96]
    ldp     d10, d11, [sp, #112]
    ldp     d12, d13, [sp, #128]
    ldp     d14, d15, [sp, #144]
    ldr     x9, [sp, #160]
    msr     fpcr, x9
    add     sp, sp, #176
    ret
    .size   aw__ctx_switch, .-aw__ctx_switch

    .globl  aw__ctx_start
    .hidden aw__ctx_start
    .type   aw__ctx_start, %function
    .p2align 4
aw__ctx_start:
    .cfi_startproc
    .cfi_undefined x30
    mov     x29, #0
    mov     x30, #0
    blr     x19
    brk     #0
    .cfi_endproc
    .size   aw__ctx_start, .-aw__ctx_start
#endif
    .section .note.GNU-stack, "", %progbits
