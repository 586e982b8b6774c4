/* Multipart bodies for the multipart tests (test_multipart*.c): a body read
 * from memory in pieces of chosen or random sizes, a growing byte string, and
 * a transcript of what the streamed parser (http/multipart.c) makes of a
 * body. */
#ifndef AW_TEST_MULTIPARTBODY_H
#define AW_TEST_MULTIPARTBODY_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* xorshift64: the next pseudo-random number from *s (not 0). */
uint64_t tu_rng_next(uint64_t *s);

/* Hands out a body from memory: at most chunk bytes a read (random sizes up
 * to chunk when seed is set), then eof (0, or an error to simulate a reset). */
typedef struct tu_mem_reader {
    const char *data;
    size_t len, off, chunk;
    uint64_t seed;
    ssize_t eof;
} tu_mem_reader;

/* The read function for aw__multipart_new, with a tu_mem_reader as ctx. */
ssize_t tu_mem_read(void *ctx, void *buf, size_t len);

/* A growing byte string, NUL-terminated; {0} is empty (p stays NULL until
 * something is added). The caller frees p. */
typedef struct tu_dbuf {
    char *p;
    size_t len, cap;
} tu_dbuf;

void tu_dbuf_add(tu_dbuf *b, const void *s, size_t n);
void tu_dbuf_str(tu_dbuf *b, const char *s);

/* Reads a whole body, read_size bytes at a time, into a transcript:
 * "name|filename|content;" per part. Returns the final status. */
int tu_mp_transcript(const char *boundary, tu_mem_reader *rd, size_t read_size, tu_dbuf *out);

/* The same for a body in memory, chunk bytes a read from the source. */
int tu_mp_parse(const char *body, size_t len, const char *boundary, size_t chunk, size_t read_size,
                tu_dbuf *out);

/* The final status of a body given as a C string with boundary "b", read
 * whole and byte by byte (asserts both give the same transcript). */
int tu_mp_status(const char *body);

#endif
