/* Task stacks: mmap'd, guarded, pooled per loop, and the overflow report.
 *
 * Layout of one stack mapping, low to high addresses:
 *
 *     [ guard | usable stack ............................ | aw__stack ]
 *
 * The descriptor sits in the top bytes, so a stack costs no other allocation
 * and a suspended task with a shallow stack touches a single page. Pages a
 * parked task once used below its frames go back to the kernel after a
 * whole trim interval parked (aw__stack_release_below), so one deep moment
 * does not cost a long-idle connection its pages for good.
 *
 * Guards, best first: MADV_GUARD_INSTALL (Linux 6.13+: no extra VMA, so
 * 100,000 guarded stacks fit under vm.max_map_count), then mprotect (two VMAs
 * per stack, used while the map count allows), then a canary word checked at
 * every switch back to the loop. A fault in a guard is reported as "stack
 * overflow in task NAME" by a SIGSEGV handler on an alternate stack.
 */
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "error.h"
#include "rt_int.h"

#if defined(__SANITIZE_ADDRESS__)
#define AW__ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define AW__ASAN 1
#endif
#endif
#ifdef AW__ASAN
void __asan_unpoison_memory_region(void const volatile *addr, size_t size);
#endif

#ifndef MADV_GUARD_INSTALL
#define MADV_GUARD_INSTALL 102
#endif

#ifdef __has_include
#if __has_include(<valgrind/valgrind.h>)
#include <valgrind/valgrind.h>
#define AW__VALGRIND 1
#endif
#endif

#define AW__GUARD_BYTES (16 * 1024)
#define AW__CANARY 0x5afe57acca11ab1eULL
#define AW__PAINT 0xA5

enum { AW__G_MADVISE, AW__G_MPROTECT, AW__G_CANARY };

struct aw__stack {
    char *map; /* the whole mapping, guard included */
    size_t map_size;
    size_t size;  /* usable bytes, from map + AW__GUARD_BYTES up to this struct */
    size_t asked; /* the size it was made for: the pool keeps the default one */
    struct aw__stack *next;
    int guard;
    unsigned valgrind_id;
};

/* How guards are made in this process: falls back once the kernel says no. */
static int aw__guard_mode = AW__G_MADVISE;

static size_t aw__page(void)
{
    static size_t page;
    if (!page)
        page = (size_t)sysconf(_SC_PAGESIZE);
    return page;
}

static int aw__guard_install(char *lo)
{
    if (aw__guard_mode == AW__G_MADVISE) {
        if (madvise(lo, AW__GUARD_BYTES, MADV_GUARD_INSTALL) == 0)
            return AW__G_MADVISE;
        aw__guard_mode = AW__G_MPROTECT; /* older kernel */
    }
    if (aw__guard_mode == AW__G_MPROTECT && mprotect(lo, AW__GUARD_BYTES, PROT_NONE) == 0)
        return AW__G_MPROTECT;
    /* ENOMEM here is vm.max_map_count: new stacks use a canary from now on,
     * until stacks are unmapped again. */
    return AW__G_CANARY;
}

static aw__stack *aw__stack_map(aw__rt *rt, size_t size)
{
    size_t page = aw__page();
    /* the guard plus the asked size, the descriptor inside it */
    size_t map_size = AW__GUARD_BYTES + ((size + page - 1) & ~(page - 1));
    char *map = mmap(NULL, map_size, PROT_READ | PROT_WRITE,
                     MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (map == MAP_FAILED)
        return NULL;
    aw__stack *s = (aw__stack *)(map + map_size - sizeof(aw__stack));
    s->map = map;
    s->map_size = map_size;
    s->size = (size_t)((char *)s - (map + AW__GUARD_BYTES)) & ~(size_t)63;
    s->asked = size;
    s->next = NULL;
    s->guard = aw__guard_install(map);
    if (s->guard == AW__G_CANARY) {
        if (rt->debug)
            fprintf(stderr, "aweb: no guard page for a new task stack (vm.max_map_count?); "
                            "overflow is detected by a canary\n");
        *(uint64_t *)(map + AW__GUARD_BYTES) = AW__CANARY;
    }
#ifdef AW__VALGRIND
    s->valgrind_id =
        VALGRIND_STACK_REGISTER(map + AW__GUARD_BYTES, map + AW__GUARD_BYTES + s->size);
#endif
    return s;
}

static void aw__stack_unmap(aw__stack *s)
{
#ifdef AW__VALGRIND
    VALGRIND_STACK_DEREGISTER(s->valgrind_id);
#endif
    if (s->guard == AW__G_MPROTECT && aw__guard_mode == AW__G_CANARY)
        aw__guard_mode = AW__G_MPROTECT; /* a VMA pair is free again */
    munmap(s->map, s->map_size);
}

void *aw__stack_lo(const aw__stack *s) { return s->map + AW__GUARD_BYTES; }
size_t aw__stack_size(const aw__stack *s) { return s->size; }

aw__stack *aw__stack_get(aw__rt *rt, size_t size)
{
    aw__stack *s = NULL;
    if (size == rt->stack_size && (s = rt->free_stacks)) {
        rt->free_stacks = s->next;
        if (--rt->nfree_stacks < rt->low_stacks)
            rt->low_stacks = rt->nfree_stacks;
    } else if (!(s = aw__stack_map(rt, size)))
        return NULL;
#ifdef AW__ASAN
    /* Frames of an earlier task may have left poisoned redzones behind. */
    __asan_unpoison_memory_region(aw__stack_lo(s), s->size);
#endif
    if (rt->debug)
        memset(aw__stack_lo(s) + (s->guard == AW__G_CANARY ? 8 : 0), AW__PAINT,
               s->size - (s->guard == AW__G_CANARY ? 8 : 0));
    return s;
}

void aw__stack_put(aw__rt *rt, aw__stack *s)
{
    if (s->asked == rt->stack_size) {
        s->next = rt->free_stacks;
        rt->free_stacks = s;
        rt->nfree_stacks++;
    } else
        aw__stack_unmap(s);
}

void aw__stack_trim(aw__rt *rt, size_t n)
{
    aw__stack *s;
    while (n-- && (s = rt->free_stacks)) {
        rt->free_stacks = s->next;
        rt->nfree_stacks--;
        aw__stack_unmap(s);
    }
    rt->low_stacks = rt->nfree_stacks;
}

void aw__stack_pool_free(aw__rt *rt) { aw__stack_trim(rt, SIZE_MAX); }

/* The deepest a parked task's own frames reach below aw__wait's: aw__suspend,
 * the switch (and swapcontext for CORO=ucontext), ASan's fiber calls. */
#define AW__PARK_MARGIN 1024

/* Gives the kernel back the pages of s wholly below sp - AW__PARK_MARGIN: a
 * parked task's live frames are all above that, so what once ran deeper
 * (a handshake, a printf) costs nothing while the task waits; touched again,
 * the pages come back zeroed. Debug mode keeps them: the high-water paint is
 * what it measures. A canary stack keeps its lowest page, the canary's. */
void aw__stack_release_below(aw__rt *rt, aw__stack *s, const char *sp)
{
    if (rt->debug || !s)
        return;
    size_t page = aw__page();
    char *lo = (char *)aw__stack_lo(s) + (s->guard == AW__G_CANARY ? page : 0);
    /* sp must be a frame on this stack (not, say, one of ASan's fake frames) */
    if (sp < lo || sp > (char *)aw__stack_lo(s) + s->size)
        return;
    uintptr_t end = ((uintptr_t)sp - AW__PARK_MARGIN) & ~(uintptr_t)(page - 1);
    if (end > (uintptr_t)lo)
        madvise(lo, end - (uintptr_t)lo, MADV_DONTNEED);
}

/* Debug mode: bytes of the stack ever written since it was painted. */
size_t aw__stack_used(const aw__stack *s)
{
    const unsigned char *p = aw__stack_lo(s), *end = p + s->size;
    if (s->guard == AW__G_CANARY)
        p += 8;
    while (p < end && *p == AW__PAINT)
        p++;
    return (size_t)(end - p);
}

static void aw__overflow_report(const aw_task *t);

/* Called after every step: stacks without a hardware guard are checked here. */
int aw__stack_check(aw__rt *rt, aw_task *t)
{
    (void)rt;
    aw__stack *s = t->stack;
    if (!s || s->guard != AW__G_CANARY || *(uint64_t *)aw__stack_lo(s) == AW__CANARY)
        return 0;
    aw__overflow_report(t);
    abort();
}

/* --- the overflow report ------------------------------------------------ */

static struct sigaction aw__old_segv, aw__old_bus;
static int aw__handler_users;

/* Async-signal-safe: write(2) only, no stdio, no allocation. */
static void aw__overflow_report(const aw_task *t)
{
    char buf[160];
    size_t n = 0;
    const char *parts[3] = {"aweb: stack overflow in task ", NULL, "\n"};
    char idbuf[32];
    if (t->name)
        parts[1] = t->name;
    else {
        char digits[24];
        int nd = 0;
        uint64_t id = t->id;
        do
            digits[nd++] = (char)('0' + id % 10);
        while ((id /= 10) && nd < 23);
        size_t k = 0;
        for (const char *p = "task-"; *p; p++)
            idbuf[k++] = *p;
        while (nd)
            idbuf[k++] = digits[--nd];
        idbuf[k] = 0;
        parts[1] = idbuf;
    }
    for (int i = 0; i < 3; i++)
        for (const char *p = parts[i]; *p && n < sizeof buf - 2; p++)
            buf[n++] = *p;
    if (buf[n - 1] != '\n')
        buf[n++] = '\n';
    ssize_t w = write(2, buf, n);
    (void)w;
}

static void aw__segv(int sig, siginfo_t *si, void *uctx)
{
    (void)uctx;
    aw__rt *rt = aw__rt_tls;
    aw_task *t = rt ? rt->current : NULL;
    char *addr = si->si_addr;
    if (t && t->stack) {
        char *lo = t->stack->map;
        /* A frame larger than the guard may skip past it into unmapped memory
         * just below: count that as an overflow as well. */
        if (addr >= lo - 64 * 1024 && addr < lo + AW__GUARD_BYTES)
            aw__overflow_report(t);
    }
    /* Give the fault back to whoever handled it before (ASan, or the default
     * action): returning re-executes the faulting access. */
    sigaction(sig, sig == SIGSEGV ? &aw__old_segv : &aw__old_bus, NULL);
}

int aw__overflow_handler_install(aw__rt *rt)
{
    /* The handler needs a stack of its own: the faulting one is full. */
    size_t size = 64 * 1024;
    stack_t ss = {.ss_size = size, .ss_flags = 0};
    ss.ss_sp = rt->altstack = mmap(NULL, size, PROT_READ | PROT_WRITE,
                                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (rt->altstack == MAP_FAILED) {
        rt->altstack = NULL;
        return AW_ENOMEM;
    }
    sigaltstack(&ss, NULL);
    if (__atomic_fetch_add(&aw__handler_users, 1, __ATOMIC_SEQ_CST) == 0) {
        struct sigaction sa;
        memset(&sa, 0, sizeof sa);
        sa.sa_sigaction = aw__segv;
        sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
        sigemptyset(&sa.sa_mask);
        sigaction(SIGSEGV, &sa, &aw__old_segv);
        sigaction(SIGBUS, &sa, &aw__old_bus);
    }
    return 0;
}

void aw__overflow_handler_remove(aw__rt *rt)
{
    if (!rt->altstack)
        return;
    if (__atomic_sub_fetch(&aw__handler_users, 1, __ATOMIC_SEQ_CST) == 0) {
        sigaction(SIGSEGV, &aw__old_segv, NULL);
        sigaction(SIGBUS, &aw__old_bus, NULL);
    }
    stack_t ss = {.ss_flags = SS_DISABLE};
    sigaltstack(&ss, NULL);
    munmap(rt->altstack, 64 * 1024);
    rt->altstack = NULL;
}
