/* libFuzzer target: the multipart/form-data reader and its boundary parser.
 *
 * Input: one byte seeding the sizes the body arrives in, one byte for the
 * size the consumer reads with, then a Content-Type value up to the first
 * '\n', then the body. A Content-Type without a usable boundary falls back to
 * "XyZ" so that mutations of the header do not stop the body being read.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "forms_int.h"

typedef struct fuzz_body {
    const uint8_t *data;
    size_t len, off;
    uint32_t rng;
} fuzz_body;

/* Delivers the body in pieces of 1 to 64 bytes, or whole. */
static ssize_t fuzz_read(void *ctx, void *buf, size_t len)
{
    fuzz_body *b = ctx;
    size_t n = b->len - b->off;
    b->rng = b->rng * 1103515245u + 12345u;
    size_t piece = (b->rng >> 16) % 65;
    if (piece && n > piece)
        n = piece;
    if (n > len)
        n = len;
    memcpy(buf, b->data + b->off, n);
    b->off += n;
    return (ssize_t)n;
}

static volatile size_t fuzz_sink;

/* Touches every byte of the part's strings, so ASan sees a bad pointer. */
static void fuzz_touch(const char *s) { fuzz_sink += s ? strlen(s) : 0; }

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    fuzz_body body = {.rng = data[0]};
    size_t read_size = (size_t)data[1] * 64 + 1;
    data += 2;
    size -= 2;
    const uint8_t *nl = memchr(data, '\n', size < 256 ? size : 256);
    char ct[257], boundary[71];
    size_t ct_len = nl ? (size_t)(nl - data) : 0;
    memcpy(ct, data, ct_len);
    ct[ct_len] = '\0';
    int bl = aw__multipart_boundary(ct, boundary, sizeof boundary);
    if (bl < 0)
        strcpy(boundary, "XyZ");
    else if ((size_t)bl != strlen(boundary) || bl > 70)
        abort();
    body.data = data + (nl ? ct_len + 1 : 0);
    body.len = size - (nl ? ct_len + 1 : 0);

    aw__multipart *m = aw__multipart_new(boundary, fuzz_read, &body);
    if (!m)
        abort(); /* the boundary came from aw__multipart_boundary or is fixed */
    char *buf = malloc(read_size);
    size_t content = 0;
    int r;
    while ((r = aw__multipart_next(m)) == 1) {
        if (!aw__multipart_name(m))
            abort();
        fuzz_touch(aw__multipart_name(m));
        fuzz_touch(aw__multipart_filename(m));
        fuzz_touch(aw__multipart_header(m, "content-type"));
        ssize_t n;
        while ((n = aw__multipart_read(m, buf, read_size)) > 0)
            content += (size_t)n;
        if (n < 0 || content > body.len)
            break;
    }
    if (content > body.len || (r != 0 && r != 1 && r != AW_EINVAL))
        abort();
    free(buf);
    aw__multipart_free(m);
    return 0;
}
