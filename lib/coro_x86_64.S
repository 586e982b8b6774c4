/* x86-64 (System V) context switch; see coro_int.h.
 *
 * aw__ctx_switch(aw__ctx *from, aw__ctx *to): pushes the callee-saved registers
 * and the SSE/x87 control words on the current stack, stores the stack pointer
 * in from->sp, loads to->sp and pops the same frame from there. A new context's
 * stack is prepared by aw__ctx_make (coro_asm.c) so that the pops land in
 * aw__ctx_start with r12 = entry.
 */
#if defined(__x86_64__) && !defined(AW_CORO_UCONTEXT)
    .text
    .globl  aw__ctx_switch
    .hidden aw__ctx_switch
    .type   aw__ctx_switch, @function
    .p2align 4
aw__ctx_switch:
    pushq   %rbp
    pushq   %rbx
    pushq   %r12
    pushq   %r13
    pushq   %r14
    pushq   %r15
    subq    $8, %rsp
    stmxcsr (%rsp)
    fnstcw  4(%rsp)
    movq    %rsp, (%rdi)
    movq    (%rsi), %rsp
    ldmxcsr (%rsp)
    fldcw   4(%rsp)
    addq    $8, %rsp
    popq    %r15
    popq    %r14
    popq    %r13
    popq    %r12
    popq    %rbx
    popq    %rbp
    ret
    .size   aw__ctx_switch, .-aw__ctx_switch

/* First instructions of every new context: realign and call entry(), which
 * never returns. */
    .globl  aw__ctx_start
    .hidden aw__ctx_start
    .type   aw__ctx_start, @function
    .p2align 4
aw__ctx_start:
    .cfi_startproc
    .cfi_undefined rip
    xorl    %ebp, %ebp
    andq    $-16, %rsp
    callq   *%r12
    ud2
    .cfi_endproc
    .size   aw__ctx_start, .-aw__ctx_start
#endif
    .section .note.GNU-stack, "", @progbits
