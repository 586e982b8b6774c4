/* Per-loop pool of I/O buffers (internal).
 *
 * Streams take a buffer when bytes arrive and give it back as soon as it is
 * drained, so an idle connection holds none and a request costs no malloc.
 * Buffers are AW__BUF_SIZE bytes; the loop's trim timer returns the ones a
 * whole interval did not need.
 */
#ifndef AW_BUF_INT_H
#define AW_BUF_INT_H

#include <stddef.h>

#define AW__BUF_SIZE (64 * 1024)

typedef struct aw__rt aw__rt;

char *aw__buf_get(aw__rt *rt);
void aw__buf_put(aw__rt *rt, char *buf);
void aw__buf_pool_free(aw__rt *rt);
void aw__buf_trim(aw__rt *rt, size_t n);

#endif
