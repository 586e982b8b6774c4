/* Per-loop pool of I/O buffers (internal).
 *
 * Streams take a buffer when bytes arrive and give it back as soon as it is
 * drained, so an idle connection holds none and a request costs no malloc.
 * Buffers are AW__BUF_SIZE bytes; the pool keeps at most AW__BUF_POOL_MAX.
 */
#ifndef AW_BUF_INT_H
#define AW_BUF_INT_H

#include <stddef.h>

#define AW__BUF_SIZE (64 * 1024)
#define AW__BUF_POOL_MAX 64

typedef struct aw__rt aw__rt;

char *aw__buf_get(aw__rt *rt);
void aw__buf_put(aw__rt *rt, char *buf);
void aw__buf_pool_free(aw__rt *rt);

#endif
