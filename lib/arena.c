/* Arenas over a per-thread pool of chunks; see arena.h. */
#include "arena.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arena_int.h"
#include "error.h"

/* A request lives in its arena's first chunk, with its head and its
 * response's: 2.3 KiB for curl's GET, 2.6 KiB for a WebSocket upgrade, 2.7
 * KiB for a browser-like GET with a cookie. That chunk is held for the
 * connection's life when the request is upgraded or streams, so it is sized
 * to fit those and no more (a larger head takes a second chunk from the
 * pool). 3 KiB less glibc malloc's 8-byte header: a 3 KiB block exactly. */
#define AW__CHUNK (3072 - 8)
#define AW__CHUNK_POOL_MAX 256 /* per thread: 768 KiB of ready chunks */

struct aw__chunk {
    aw__chunk *prev;
    size_t size; /* bytes after the header */
    _Alignas(16) char data[];
};

struct aw__cleanup {
    aw__cleanup *next;
    void (*fn)(void *);
    void *arg;
};

static __thread aw__chunk *aw__chunk_pool;
static __thread size_t aw__chunk_pool_n;

void aw_arena_init(aw_arena *a) { memset(a, 0, sizeof *a); }

/* Releases this thread's pooled chunks: at the end of a loop (a thread
 * that ends would otherwise strand them), and from the trim timer. */
void aw__arena_pool_trim(void)
{
    aw__chunk *c;
    while ((c = aw__chunk_pool)) {
        aw__chunk_pool = c->prev;
        free(c);
    }
    aw__chunk_pool_n = 0;
}

static aw__chunk *aw__chunk_new(size_t size)
{
    if (size == AW__CHUNK - sizeof(aw__chunk) && aw__chunk_pool) {
        aw__chunk *c = aw__chunk_pool;
        aw__chunk_pool = c->prev;
        aw__chunk_pool_n--;
        return c;
    }
    aw__chunk *c = malloc(sizeof *c + size);
    if (c)
        c->size = size;
    return c;
}

static void aw__chunk_release(aw__chunk *c)
{
    if (c->size == AW__CHUNK - sizeof(aw__chunk) && aw__chunk_pool_n < AW__CHUNK_POOL_MAX) {
        c->prev = aw__chunk_pool;
        aw__chunk_pool = c;
        aw__chunk_pool_n++;
    } else
        free(c);
}

void *aw_arena_alloc(aw_arena *a, size_t n)
{
    n = (n + 15) & ~(size_t)15;
    if ((size_t)(a->end - a->ptr) >= n) {
        void *p = a->ptr;
        a->ptr += n;
        return p;
    }
    size_t std = AW__CHUNK - sizeof(aw__chunk);
    if (n > std / 4 && (a->chunk || n > std)) {
        /* a block of its own, linked behind the current chunk so the free
         * space there stays usable (an empty arena's first allocation takes
         * a pooled chunk if it fits: a request's own struct, for one) */
        aw__chunk *big = aw__chunk_new(n);
        if (!big)
            return NULL;
        if (a->chunk) {
            big->prev = a->chunk->prev;
            a->chunk->prev = big;
        } else {
            big->prev = NULL;
            a->chunk = big;
            a->ptr = a->end = big->data + n;
        }
        return big->data;
    }
    aw__chunk *c = aw__chunk_new(std);
    if (!c)
        return NULL;
    c->prev = a->chunk;
    a->chunk = c;
    a->ptr = c->data + n;
    a->end = c->data + std;
    return c->data;
}

void *aw__arena_alloc_spare(aw_arena *a, size_t n)
{
    n = (n + 15) & ~(size_t)15;
    if ((size_t)(a->end - a->ptr) < n)
        return NULL;
    void *p = a->ptr;
    a->ptr += n;
    return p;
}

void aw__arena_shrink_last(aw_arena *a, void *p, size_t n, size_t keep)
{
    size_t n_r = (n + 15) & ~(size_t)15, keep_r = (keep + 15) & ~(size_t)15;
    if (p && keep_r <= n_r && (char *)p + n_r == a->ptr)
        a->ptr = (char *)p + keep_r;
}

void *aw_arena_calloc(aw_arena *a, size_t n)
{
    void *p = aw_arena_alloc(a, n);
    if (p)
        memset(p, 0, n);
    return p;
}

char *aw_arena_strndup(aw_arena *a, const char *s, size_t n)
{
    char *p = aw_arena_alloc(a, n + 1);
    if (p) {
        memcpy(p, s, n);
        p[n] = 0;
    }
    return p;
}

char *aw_arena_strdup(aw_arena *a, const char *s) { return aw_arena_strndup(a, s, strlen(s)); }

char *aw_arena_printf(aw_arena *a, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    char *p = n >= 0 ? aw_arena_alloc(a, (size_t)n + 1) : NULL;
    if (p) {
        va_start(ap, fmt);
        vsnprintf(p, (size_t)n + 1, fmt, ap);
        va_end(ap);
    }
    return p;
}

void *aw_arena_grow(aw_arena *a, void *p, size_t old, size_t n)
{
    size_t old_r = (old + 15) & ~(size_t)15, n_r = (n + 15) & ~(size_t)15;
    /* in place when the rounded size fits: a chunk's end need not be a
     * multiple of 16, so checking n alone could move ptr past end */
    if (p && (char *)p + old_r == a->ptr && (size_t)(a->end - (char *)p) >= n_r) {
        a->ptr = (char *)p + n_r;
        return p;
    }
    void *q = aw_arena_alloc(a, n);
    if (q && p)
        memcpy(q, p, old < n ? old : n);
    return q;
}

int aw_arena_on_free(aw_arena *a, void (*fn)(void *), void *arg)
{
    aw__cleanup *c = aw_arena_alloc(a, sizeof *c);
    if (!c)
        return AW_ENOMEM;
    c->fn = fn;
    c->arg = arg;
    c->next = a->cleanups;
    a->cleanups = c;
    return 0;
}

void aw_arena_free(aw_arena *a)
{
    /* cleanups live in the arena: run them all before releasing chunks */
    for (aw__cleanup *c = a->cleanups; c; c = c->next)
        c->fn(c->arg);
    aw__chunk *c = a->chunk;
    while (c) {
        aw__chunk *prev = c->prev;
        aw__chunk_release(c);
        c = prev;
    }
    aw_arena_init(a);
}
