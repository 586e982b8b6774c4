/* Arena internals for the layers above lib/ (see arena.h). */
#ifndef AW_ARENA_INT_H
#define AW_ARENA_INT_H

#include "arena.h"

/* Like aw_arena_alloc, but only from what the current chunk has left: NULL
 * when that is too small, and never a new chunk. For a long-lived object
 * that may as well live elsewhere, put where the room would go unused. */
void *aw__arena_alloc_spare(aw_arena *a, size_t n);

/* Gives back all but the first keep bytes of p (n bytes), if p is the last
 * allocation: a response head sized for the worst case, then done with
 * once written. Anything else is left alone. */
void aw__arena_shrink_last(aw_arena *a, void *p, size_t n, size_t keep);

#endif
