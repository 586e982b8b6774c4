/* The per-loop buffer pool; see buf_int.h. */
#include "buf_int.h"

#include <stdint.h>
#include <stdlib.h>

#include "rt_int.h"

typedef union aw__freebuf {
    union aw__freebuf *next;
    char bytes[1];
} aw__freebuf;

char *aw__buf_get(aw__rt *rt)
{
    aw__freebuf *b = rt->free_bufs;
    if (b) {
        rt->free_bufs = b->next;
        if (--rt->nfree_bufs < rt->low_bufs)
            rt->low_bufs = rt->nfree_bufs;
        return b->bytes;
    }
    return malloc(AW__BUF_SIZE);
}

void aw__buf_put(aw__rt *rt, char *buf)
{
    if (!buf)
        return;
    if (!rt) {
        free(buf);
        return;
    }
    aw__freebuf *b = (aw__freebuf *)buf;
    b->next = rt->free_bufs;
    rt->free_bufs = b;
    rt->nfree_bufs++;
}

void aw__buf_trim(aw__rt *rt, size_t n)
{
    aw__freebuf *b;
    while (n-- && (b = rt->free_bufs)) {
        rt->free_bufs = b->next;
        rt->nfree_bufs--;
        free(b);
    }
    rt->low_bufs = rt->nfree_bufs;
}

void aw__buf_pool_free(aw__rt *rt) { aw__buf_trim(rt, SIZE_MAX); }
