/* Arenas: memory that is released all at once (a request's, a message's).
 *
 * Allocation bumps a pointer inside chunks taken from a per-thread pool, so
 * a request's headers, strings and response cost no malloc on the hot path
 * and nothing a handler takes from its request can leak. Large blocks get a
 * chunk of their own. Cleanups registered on an arena run when it is freed
 * (for objects that hold outside resources, such as a JSON value).
 *
 * Lifetime: aw_arena_init, any number of allocations, aw_arena_free (which
 * leaves the arena ready for reuse). Not thread-safe: one thread per arena.
 */
#ifndef AW_ARENA_H
#define AW_ARENA_H

#include <stddef.h>

typedef struct aw__chunk aw__chunk;
typedef struct aw__cleanup aw__cleanup;

typedef struct aw_arena {
    aw__chunk *chunk; /* the current chunk, linked to the earlier ones */
    char *ptr, *end;  /* free space in the current chunk */
    aw__cleanup *cleanups;
} aw_arena;

void aw_arena_init(aw_arena *a);
/* 16-byte aligned memory, or NULL on exhaustion. */
void *aw_arena_alloc(aw_arena *a, size_t n);
void *aw_arena_calloc(aw_arena *a, size_t n);
/* A NUL-terminated copy of n bytes of s. */
char *aw_arena_strndup(aw_arena *a, const char *s, size_t n);
char *aw_arena_strdup(aw_arena *a, const char *s);
char *aw_arena_printf(aw_arena *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Grows the most recent allocation p (of old bytes) to n bytes in place when
 * it is at the top of the chunk, else copies it; returns the new address. */
void *aw_arena_grow(aw_arena *a, void *p, size_t old, size_t n);
/* Runs fn(arg) when the arena is freed (latest first). Returns 0 or AW_ENOMEM. */
int aw_arena_on_free(aw_arena *a, void (*fn)(void *), void *arg);
void aw_arena_free(aw_arena *a);

#endif
