/* Streamed multipart/form-data (http/multipart.c), under abuse: malformed
 * bodies, reads of every size, a 200 MiB part in bounded memory and mutated
 * bodies. Well-formed bodies (the boundary parameter, parts,
 * Content-Disposition, part heads) are in test_multipart.c; the body reader
 * both use is in helpers/multipartbody.h. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "forms_int.h"
#include "multipartbody.h"
#include "testutil.h"

TestSuite(multipart_abuse, .timeout = 60, .fini = tu_fini);

Test(multipart_abuse, a_body_that_ends_early_is_invalid)
{
    const char *bad[] = {
        "",
        "no boundary at all",
        "--b",
        "--b-",
        "--b\r",
        "--b\r\n",
        "--b\r\nContent-Disposition: form-data; name=a",
        "--b\r\nContent-Disposition: form-data; name=a\r\n",
        "--b\r\nContent-Disposition: form-data; name=a\r\n\r",
        "--b\r\nContent-Disposition: form-data; name=a\r\n\r\n",
        "--b\r\nContent-Disposition: form-data; name=a\r\n\r\ncontent",
        "--b\r\nContent-Disposition: form-data; name=a\r\n\r\ncontent\r\n",
        "--b\r\nContent-Disposition: form-data; name=a\r\n\r\ncontent\r\n--",
        "--b\r\nContent-Disposition: form-data; name=a\r\n\r\ncontent\r\n--b",
        "--b\r\nContent-Disposition: form-data; name=a\r\n\r\ncontent\r\n--b-",
        "--b\r\nContent-Disposition: form-data; name=a\r\n\r\ncontent\r\n--b\r\n",
        "--b\r\nContent-Disposition: form-data; name=a\r\n\r\ncontent\r\n--b \t",
        "--b\r\nContent-Disposition: form-data; name=a\r\n\r\ncontent\r\n--bb--",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        cr_assert_eq(tu_mp_status(bad[i]), AW_EINVAL, "%s", bad[i]);
}

Test(multipart_abuse, a_bad_boundary_line_is_invalid)
{
    const char *bad[] = {
        "--b x\r\nContent-Disposition: form-data; name=a\r\n\r\n\r\n--b--",
        "--b \r\r\nContent-Disposition: form-data; name=a\r\n\r\n\r\n--b--",
        "--b\rx\r\nContent-Disposition: form-data; name=a\r\n\r\n\r\n--b--",
        "--b\nContent-Disposition: form-data; name=a\n\n\n--b--",
        "--b\r\nContent-Disposition: form-data; name=a\r\n\r\n\r\n--b --",
        "--b\r\nContent-Disposition: form-data; name=a\r\n\r\n\r\n--b\r--",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        cr_assert_eq(tu_mp_status(bad[i]), AW_EINVAL, "%s", bad[i]);
}

static ssize_t greedy_read(void *ctx, void *buf, size_t len)
{
    (void)ctx;
    memset(buf, '-', len);
    return (ssize_t)len + 1;
}

Test(multipart_abuse, a_read_function_that_returns_too_much_is_an_error)
{
    aw__multipart *m = aw__multipart_new("b", greedy_read, NULL);
    cr_assert_eq(aw__multipart_next(m), AW_EINVAL);
    aw__multipart_free(m);
}

Test(multipart_abuse, read_errors_are_returned_and_stay)
{
    const char body[] = "--b\r\nContent-Disposition: form-data; name=a\r\n\r\npartial conte";
    tu_mem_reader rd = {.data = body, .len = sizeof body - 1, .chunk = 8, .eof = AW_ECONNRESET};
    aw__multipart *m = aw__multipart_new("b", tu_mem_read, &rd);
    char buf[64];
    ssize_t n, total = 0;
    cr_assert_eq(aw__multipart_next(m), 1);
    while ((n = aw__multipart_read(m, buf, sizeof buf)) > 0)
        total += n;
    cr_assert_eq(n, AW_ECONNRESET);
    cr_assert_leq(total, 13, "nothing that could be a delimiter was given out");
    cr_assert_eq(aw__multipart_read(m, buf, sizeof buf), AW_ECONNRESET);
    cr_assert_eq(aw__multipart_next(m), AW_ECONNRESET);
    cr_assert_null(aw__multipart_name(m));
    aw__multipart_free(m);

    rd = (tu_mem_reader){.data = body, .len = 20, .eof = AW_ETIMEDOUT};
    m = aw__multipart_new("b", tu_mem_read, &rd);
    cr_assert_eq(aw__multipart_next(m), AW_ETIMEDOUT, "while reading a head");
    cr_assert_eq(aw__multipart_next(m), AW_ETIMEDOUT);
    aw__multipart_free(m);
}

/* --- reads of every size --- */

static const char tricky[] = "pre\r\n--bound\r\n-\r\n--boundary-\r\n"
                             "--boundary\r\n"
                             "Content-Disposition: form-data; name=\"one\"\r\n\r\n"
                             "--boundary\r\n--boundar\r\n--boundaryX\r\r\n\r\n\r\n-"
                             "\r\n--boundary  \r\n"
                             "Content-Disposition: form-data; name=\"two\"; filename=\"t.bin\"\r\n"
                             "Content-Type: application/octet-stream\r\n\r\n"
                             "\r\n\r\n--boundary-\r\n--boundary-x--boundary--\r"
                             "\r\n--boundary\r\n"
                             "Content-Disposition: form-data; name=\"three\"\r\n\r\n"
                             "\r\n--boundary--\r\nepilogue";

static const char tricky_want[] =
    "one|(none)|--boundary\r\n--boundar\r\n--boundaryX\r\r\n\r\n\r\n-;"
    "two|t.bin|\r\n\r\n--boundary-\r\n--boundary-x--boundary--\r;"
    "three|(none)|;";

Test(multipart_abuse, a_delimiter_split_byte_by_byte_is_still_found)
{
    tu_dbuf out = {0};
    cr_assert_eq(tu_mp_parse(tricky, sizeof tricky - 1, "boundary", 1, 1, &out), 0);
    cr_assert_str_eq(out.p, tricky_want);
    free(out.p);
    out = (tu_dbuf){0};
    cr_assert_eq(tu_mp_parse(tricky, sizeof tricky - 1, "boundary", 1, 1024, &out), 0);
    cr_assert_str_eq(out.p, tricky_want);
    free(out.p);
}

Test(multipart_abuse, every_read_size_gives_the_same_parts)
{
    for (size_t chunk = 0; chunk <= sizeof tricky; chunk++)
        for (size_t rs = 1; rs <= 40; rs += 13) {
            tu_dbuf out = {0};
            cr_assert_eq(tu_mp_parse(tricky, sizeof tricky - 1, "boundary", chunk, rs, &out), 0);
            cr_assert_str_eq(out.p, tricky_want, "chunk %zu, read %zu", chunk, rs);
            free(out.p);
        }
}

/* Random bodies built from the boundary's own bytes, CR, LF and dashes, read
 * in random pieces, must come back exactly as they were put in. */
static size_t first_delimiter(const char *s, size_t len)
{
    /* CRLF "--ab", then SP, HTAB, CR or "--" */
    for (size_t i = 0; i + 7 <= len; i++)
        if (memcmp(s + i, "\r\n--ab", 6) == 0 &&
            (s[i + 6] == ' ' || s[i + 6] == '\t' || s[i + 6] == '\r' ||
             (s[i + 6] == '-' && i + 7 < len && s[i + 7] == '-')))
            return i;
    return len;
}

Test(multipart_abuse, random_bodies_round_trip_through_random_reads)
{
    static const char alphabet[] = "\r\n--ab \tx";
    uint64_t seed = 12345;
    for (int iter = 0; iter < 2000; iter++) {
        tu_dbuf body = {0}, want = {0}, content = {0};
        size_t nparts = 1 + tu_rng_next(&seed) % 4;
        for (size_t p = 0; p < nparts; p++) {
            do {
                free(content.p);
                content = (tu_dbuf){0};
                size_t len = tu_rng_next(&seed) % 60;
                for (size_t i = 0; i < len; i++)
                    tu_dbuf_add(&content, &alphabet[tu_rng_next(&seed) % (sizeof alphabet - 1)], 1);
                tu_dbuf_str(&content, "\r\n--ab--");
            } while (first_delimiter(content.p, content.len) != content.len - 8);
            content.len -= 8;
            tu_dbuf_str(&body, "--ab\r\nContent-Disposition: form-data; name=p\r\n\r\n");
            tu_dbuf_add(&body, content.p, content.len);
            tu_dbuf_str(&body, "\r\n");
            tu_dbuf_str(&want, "p|(none)|");
            tu_dbuf_add(&want, content.p, content.len);
            tu_dbuf_str(&want, ";");
        }
        tu_dbuf_str(&body, "--ab--");
        tu_mem_reader rd = {.data = body.p, .len = body.len, .chunk = 1 + tu_rng_next(&seed) % 20};
        rd.seed = tu_rng_next(&seed) | 1;
        tu_dbuf out = {0};
        cr_assert_eq(tu_mp_transcript("ab", &rd, 1 + tu_rng_next(&seed) % 10, &out), 0);
        cr_assert_eq(out.len, want.len, "iteration %d", iter);
        cr_assert_eq(memcmp(out.p, want.p, want.len), 0, "iteration %d", iter);
        free(out.p);
        free(want.p);
        free(body.p);
        free(content.p);
    }
}

/* --- a 200 MiB part in bounded memory --- */

#define BIG_PERIOD 4093

/* The content repeats a pattern of letters with near-misses of the
 * delimiter inside (none near its ends, so the repeats cannot join into a
 * real one). */
static void big_pattern(unsigned char *pat)
{
    static const char *traps[] = {"\r\n--BOUNDAR",    "\r\n--BOUNDARYx", "--BOUNDARY\r\n",
                                  "\r\n--BOUNDARY-x", "\r\r\n\n\r\n-",   "\r\n--BOUNDARY-\r\n"};
    uint64_t seed = 77;
    for (size_t i = 0; i < BIG_PERIOD; i++)
        pat[i] = (unsigned char)('a' + tu_rng_next(&seed) % 26);
    for (size_t i = 0, at = 100; at + 20 < BIG_PERIOD - 100; i++, at += 157) {
        const char *t = traps[i % (sizeof traps / sizeof traps[0])];
        memcpy(pat + at, t, strlen(t));
    }
}

typedef struct gen_reader {
    const char *head, *tail;
    const unsigned char *pat;
    uint64_t total, off; /* content bytes, bytes handed out */
} gen_reader;

static ssize_t gen_read(void *ctx, void *buf, size_t len)
{
    gen_reader *g = ctx;
    uint64_t hl = strlen(g->head), tl = strlen(g->tail);
    size_t n;
    if (g->off < hl) {
        n = (size_t)(hl - g->off) < len ? (size_t)(hl - g->off) : len;
        memcpy(buf, g->head + g->off, n);
    } else if (g->off < hl + g->total) {
        uint64_t c = g->off - hl;
        size_t at = (size_t)(c % BIG_PERIOD);
        n = BIG_PERIOD - at;
        if (n > len)
            n = len;
        if (n > g->total - c)
            n = (size_t)(g->total - c);
        memcpy(buf, g->pat + at, n);
    } else if (g->off < hl + g->total + tl) {
        uint64_t t = g->off - hl - g->total;
        n = (size_t)(tl - t) < len ? (size_t)(tl - t) : len;
        memcpy(buf, g->tail + t, n);
    } else {
        return 0;
    }
    g->off += n;
    return (ssize_t)n;
}

Test(multipart_abuse, a_200_mib_part_streams_through_in_bounded_memory)
{
    static unsigned char pat[BIG_PERIOD], buf[64 * 1024];
    big_pattern(pat);
    gen_reader g = {
        .head = "--BOUNDARY\r\nContent-Disposition: form-data; name=\"big\"; "
                "filename=\"big.bin\"\r\n\r\n",
        .tail = "\r\n--BOUNDARY\r\nContent-Disposition: form-data; name=\"after\"\r\n\r\n"
                "ok\r\n--BOUNDARY--\r\n",
        .pat = pat,
        .total = (uint64_t)200 << 20,
    };
    size_t rss0 = tu_rss(), rss_max = rss0;
    aw__multipart *m = aw__multipart_new("BOUNDARY", gen_read, &g);
    cr_assert_eq(aw__multipart_next(m), 1);
    cr_assert_str_eq(aw__multipart_filename(m), "big.bin");
    uint64_t got = 0;
    ssize_t n;
    while ((n = aw__multipart_read(m, buf, sizeof buf)) > 0) {
        for (size_t i = 0; i < (size_t)n;) {
            size_t at = (size_t)((got + i) % BIG_PERIOD), k = BIG_PERIOD - at;
            if (k > (size_t)n - i)
                k = (size_t)n - i;
            if (memcmp(buf + i, pat + at, k) != 0)
                cr_assert_fail("content differs near offset %llu", (unsigned long long)(got + i));
            i += k;
        }
        got += (uint64_t)n;
        if ((got & ((16 << 20) - 1)) < (uint64_t)n) {
            size_t rss = tu_rss();
            rss_max = rss > rss_max ? rss : rss_max;
        }
    }
    cr_assert_eq(n, 0);
    cr_assert_eq(got, g.total);
    cr_assert_eq(aw__multipart_next(m), 1);
    cr_assert_str_eq(aw__multipart_name(m), "after");
    cr_assert_eq(aw__multipart_read(m, buf, sizeof buf), 2);
    cr_assert_eq(aw__multipart_next(m), 0);
    aw__multipart_free(m);
    cr_assert_lt(rss_max - rss0, 4 << 20, "RSS grew by %zu bytes", rss_max - rss0);
}

/* --- robustness --- */

/* Mutations of a valid body (bytes changed, inserted, removed, cut short),
 * read in random pieces: each run ends cleanly, in the end or AW_EINVAL, and
 * never hands out more content than the body holds. */
Test(multipart_abuse, mutated_bodies_return_cleanly)
{
    static const char interesting[] = "\r\n-\"\\;=: \t\x00\x7f\xff"
                                      "boundary";
    uint64_t seed = 4242;
    size_t base = sizeof tricky - 1;
    char *body = malloc(base * 2 + 64);
    int outcomes[2] = {0, 0};
    for (int iter = 0; iter < 20000; iter++) {
        size_t len = base;
        memcpy(body, tricky, base);
        for (int k = 1 + (int)(tu_rng_next(&seed) % 4); k > 0; k--) {
            size_t at = tu_rng_next(&seed) % (len + 1);
            char c = interesting[tu_rng_next(&seed) % (sizeof interesting - 1)];
            switch (tu_rng_next(&seed) % 5) {
            case 0:
                if (at < len)
                    body[at] = c;
                break;
            case 1:
                memmove(body + at + 1, body + at, len - at);
                body[at] = c;
                len++;
                break;
            case 2:
                if (at < len) {
                    memmove(body + at, body + at + 1, len - at - 1);
                    len--;
                }
                break;
            case 3: len = at; break;
            default:
                if (at < len)
                    body[at] = (char)tu_rng_next(&seed);
            }
        }
        tu_mem_reader rd = {.data = body, .len = len, .chunk = 1 + tu_rng_next(&seed) % 64};
        rd.seed = tu_rng_next(&seed) | 1;
        tu_dbuf out = {0};
        int r = tu_mp_transcript("boundary", &rd, 1 + tu_rng_next(&seed) % 32, &out);
        cr_assert(r == 0 || r == AW_EINVAL, "iteration %d: %d", iter, r);
        cr_assert_leq(out.len, len + 200, "iteration %d", iter);
        outcomes[r == 0]++;
        free(out.p);
    }
    cr_assert_gt(outcomes[0], 1000, "mutations should mostly break the body");
    cr_assert_gt(outcomes[1], 1000, "but some should survive");
    free(body);
}
