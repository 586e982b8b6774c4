/* Arenas: chunks, large blocks, the spare room of the current chunk. */
#include <string.h>

#include "arena_int.h"
#include "testutil.h"

TestSuite(arena, .timeout = 30, .fini = tu_fini);

/* How many bytes lie between two allocations, or -1 if they are in
 * different chunks (as far as a test can tell: not next to each other). */
static long gap(const void *a, size_t a_len, const void *b)
{
    long d = (const char *)b - (const char *)a;
    return d >= (long)a_len && d < 64 + (long)a_len ? d - (long)a_len : -1;
}

Test(arena, a_first_allocation_of_a_third_of_a_chunk_shares_it_with_what_follows)
{
    /* a request's own struct is the first thing in its arena (about 800
     * bytes): it must not take a block of its own and the head a chunk */
    aw_arena a;
    aw_arena_init(&a);
    char *req = aw_arena_alloc(&a, 800);
    char *next = aw_arena_alloc(&a, 16);
    cr_assert(req && next);
    cr_assert_eq(gap(req, 800, next), 0);
    aw_arena_free(&a);
}

Test(arena, a_large_block_keeps_the_current_chunk_usable)
{
    aw_arena a;
    aw_arena_init(&a);
    char *small = aw_arena_alloc(&a, 32);
    char *big = aw_arena_alloc(&a, 64 * 1024);
    char *after = aw_arena_alloc(&a, 32);
    cr_assert(small && big && after);
    memset(big, 1, 64 * 1024);
    cr_assert_eq(gap(small, 32, after), 0, "the small one follows in the same chunk");
    aw_arena_free(&a);
}

Test(arena, spare_room_is_given_only_from_the_current_chunk)
{
    aw_arena a;
    aw_arena_init(&a);
    cr_assert_null(aw__arena_alloc_spare(&a, 16), "an empty arena has no spare room");
    char *first = aw_arena_alloc(&a, 100);
    char *spare = aw__arena_alloc_spare(&a, 300);
    cr_assert_not_null(spare);
    cr_assert_eq(gap(first, 100, spare), 12, "from the same chunk, 16-byte aligned");
    cr_assert_eq((uintptr_t)spare % 16, 0);
    /* more than a chunk holds: NULL, and the arena did not grow */
    char *before = a.ptr;
    cr_assert_null(aw__arena_alloc_spare(&a, 64 * 1024));
    cr_assert_eq(a.ptr, before);
    /* what fits is still given, to the last byte */
    size_t left = (size_t)(a.end - a.ptr) & ~(size_t)15;
    cr_assert_not_null(aw__arena_alloc_spare(&a, left));
    cr_assert_null(aw__arena_alloc_spare(&a, 16));
    aw_arena_free(&a);
}

Test(arena, growing_in_place_to_the_chunks_end_never_passes_it)
{
    /* a chunk's end need not be a multiple of 16: grow a block a byte at a
     * time up to it (and past it), allocating after each step, and write
     * every byte handed out, so ASan sees any overrun */
    aw_arena a;
    aw_arena_init(&a);
    aw_arena_alloc(&a, 24);
    size_t len = 16;
    char *p = aw_arena_alloc(&a, len);
    for (int i = 0; i < 4000; i++) {
        char *q = aw_arena_grow(&a, p, len, len + 1);
        cr_assert_not_null(q);
        len++;
        memset(q, 'g', len);
        p = q;
        char *x = aw_arena_alloc(&a, 8);
        cr_assert_not_null(x);
        memset(x, 'x', 8);
        /* x sits after p: the next grow must move */
        char *r = aw_arena_grow(&a, p, len, len);
        cr_assert_not_null(r);
        p = r;
    }
    aw_arena_free(&a);
}
