/* Multipart bodies for the multipart tests: see multipartbody.h. */
#include "multipartbody.h"

#include <stdlib.h>
#include <string.h>

#include "forms_int.h"
#include "testutil.h"

uint64_t tu_rng_next(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

ssize_t tu_mem_read(void *ctx, void *buf, size_t len)
{
    tu_mem_reader *r = ctx;
    size_t n = r->len - r->off, lim = r->chunk;
    if (!n)
        return r->eof;
    if (lim && r->seed)
        lim = 1 + tu_rng_next(&r->seed) % lim;
    if (lim && n > lim)
        n = lim;
    if (n > len)
        n = len;
    memcpy(buf, r->data + r->off, n);
    r->off += n;
    return (ssize_t)n;
}

void tu_dbuf_add(tu_dbuf *b, const void *s, size_t n)
{
    if (b->len + n + 1 > b->cap) {
        b->cap = (b->len + n + 1) * 2;
        b->p = realloc(b->p, b->cap);
        cr_assert_not_null(b->p);
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

void tu_dbuf_str(tu_dbuf *b, const char *s) { tu_dbuf_add(b, s, strlen(s)); }

int tu_mp_transcript(const char *boundary, tu_mem_reader *rd, size_t read_size, tu_dbuf *out)
{
    aw__multipart *m = aw__multipart_new(boundary, tu_mem_read, rd);
    cr_assert_not_null(m);
    char buf[1024];
    int r;
    if (read_size > sizeof buf)
        read_size = sizeof buf;
    while ((r = aw__multipart_next(m)) == 1) {
        const char *fn = aw__multipart_filename(m);
        tu_dbuf_str(out, aw__multipart_name(m));
        tu_dbuf_str(out, "|");
        tu_dbuf_str(out, fn ? fn : "(none)");
        tu_dbuf_str(out, "|");
        ssize_t n;
        while ((n = aw__multipart_read(m, buf, read_size)) > 0)
            tu_dbuf_add(out, buf, (size_t)n);
        if (n < 0) {
            r = (int)n;
            break;
        }
        cr_assert_eq(aw__multipart_read(m, buf, read_size), 0, "the end of a part stays");
        tu_dbuf_str(out, ";");
    }
    cr_assert_eq(aw__multipart_next(m), r, "the outcome is sticky");
    aw__multipart_free(m);
    return r;
}

int tu_mp_parse(const char *body, size_t len, const char *boundary, size_t chunk, size_t read_size,
                tu_dbuf *out)
{
    tu_mem_reader rd = {.data = body, .len = len, .chunk = chunk};
    return tu_mp_transcript(boundary, &rd, read_size, out);
}

int tu_mp_status(const char *body)
{
    tu_dbuf a = {0}, b = {0};
    int r = tu_mp_parse(body, strlen(body), "b", 0, 1024, &a);
    cr_assert_eq(tu_mp_parse(body, strlen(body), "b", 1, 1, &b), r, "byte by byte differs: %s",
                 body);
    cr_assert_eq(a.len, b.len);
    cr_assert(!a.len || memcmp(a.p, b.p, a.len) == 0);
    free(a.p);
    free(b.p);
    return r;
}
