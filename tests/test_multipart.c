/* Streamed multipart/form-data (http/multipart.c). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "forms_int.h"
#include "testutil.h"

TestSuite(multipart, .timeout = 60, .fini = tu_fini);

static uint64_t rng_next(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

/* Hands out a body from memory: at most chunk bytes a read (random sizes up
 * to chunk when seed is set), then eof (0, or an error to simulate a reset). */
typedef struct mem_reader {
    const char *data;
    size_t len, off, chunk;
    uint64_t seed;
    ssize_t eof;
} mem_reader;

static ssize_t mem_read(void *ctx, void *buf, size_t len)
{
    mem_reader *r = ctx;
    size_t n = r->len - r->off, lim = r->chunk;
    if (!n)
        return r->eof;
    if (lim && r->seed)
        lim = 1 + rng_next(&r->seed) % lim;
    if (lim && n > lim)
        n = lim;
    if (n > len)
        n = len;
    memcpy(buf, r->data + r->off, n);
    r->off += n;
    return (ssize_t)n;
}

/* A growing byte string. */
typedef struct dbuf {
    char *p;
    size_t len, cap;
} dbuf;

static void dbuf_add(dbuf *b, const void *s, size_t n)
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

static void dbuf_str(dbuf *b, const char *s) { dbuf_add(b, s, strlen(s)); }

/* Reads a whole body, read_size bytes at a time, into a transcript:
 * "name|filename|content;" per part. Returns the final status. */
static int transcript(const char *boundary, mem_reader *rd, size_t read_size, dbuf *out)
{
    aw__multipart *m = aw__multipart_new(boundary, mem_read, rd);
    cr_assert_not_null(m);
    char buf[1024];
    int r;
    if (read_size > sizeof buf)
        read_size = sizeof buf;
    while ((r = aw__multipart_next(m)) == 1) {
        const char *fn = aw__multipart_filename(m);
        dbuf_str(out, aw__multipart_name(m));
        dbuf_str(out, "|");
        dbuf_str(out, fn ? fn : "(none)");
        dbuf_str(out, "|");
        ssize_t n;
        while ((n = aw__multipart_read(m, buf, read_size)) > 0)
            dbuf_add(out, buf, (size_t)n);
        if (n < 0) {
            r = (int)n;
            break;
        }
        cr_assert_eq(aw__multipart_read(m, buf, read_size), 0, "the end of a part stays");
        dbuf_str(out, ";");
    }
    cr_assert_eq(aw__multipart_next(m), r, "the outcome is sticky");
    aw__multipart_free(m);
    return r;
}

static int parse(const char *body, size_t len, const char *boundary, size_t chunk, size_t read_size,
                 dbuf *out)
{
    mem_reader rd = {.data = body, .len = len, .chunk = chunk};
    return transcript(boundary, &rd, read_size, out);
}

/* The final status of a body given as a C string, read whole and byte by byte. */
static int status_of(const char *body)
{
    dbuf a = {0}, b = {0};
    int r = parse(body, strlen(body), "b", 0, 1024, &a);
    cr_assert_eq(parse(body, strlen(body), "b", 1, 1, &b), r, "byte by byte differs: %s", body);
    cr_assert_eq(a.len, b.len);
    cr_assert(!a.len || memcmp(a.p, b.p, a.len) == 0);
    free(a.p);
    free(b.p);
    return r;
}

/* One part with the given head lines; returns the status, the transcript in out. */
static int one_part(const char *head, dbuf *out)
{
    dbuf body = {0};
    dbuf_str(&body, "--b\r\n");
    dbuf_str(&body, head);
    dbuf_str(&body, "\r\nx\r\n--b--\r\n");
    int r = parse(body.p, body.len, "b", 0, 1024, out);
    free(body.p);
    return r;
}

static void assert_transcript(const char *body, size_t len, const char *boundary, const char *want)
{
    dbuf out = {0};
    cr_assert_eq(parse(body, len, boundary, 0, 1024, &out), 0);
    cr_assert_str_eq(out.p ? out.p : "", want);
    free(out.p);
}

/* --- the boundary parameter --- */

Test(multipart, boundary_comes_from_the_content_type)
{
    char b[80];
    cr_assert_eq(aw__multipart_boundary("multipart/form-data; boundary=abc", b, sizeof b), 3);
    cr_assert_str_eq(b, "abc");
    cr_assert_eq(aw__multipart_boundary(
                     " Multipart/Form-Data ;charset=utf-8;BOUNDARY=\"----x y\" ;", b, sizeof b),
                 7);
    cr_assert_str_eq(b, "----x y");
    cr_assert_eq(aw__multipart_boundary("multipart/form-data; boundary=\"a\\\"b\"; x=y", b, 80), 3);
    cr_assert_str_eq(b, "a\"b");
    cr_assert_eq(aw__multipart_boundary("multipart/form-data;boundary=*****", b, 80), 5);
    cr_assert_str_eq(b, "*****");
}

Test(multipart, boundary_up_to_70_bytes)
{
    char ct[128], b[80];
    char seventy[71];
    memset(seventy, 'x', 70);
    seventy[70] = '\0';
    snprintf(ct, sizeof ct, "multipart/form-data; boundary=%s", seventy);
    cr_assert_eq(aw__multipart_boundary(ct, b, sizeof b), 70);
    cr_assert_str_eq(b, seventy);
    cr_assert_eq(aw__multipart_boundary(ct, b, 70), AW_ENOBUFS, "no room for the NUL");
    snprintf(ct, sizeof ct, "multipart/form-data; boundary=\"%sy\"", seventy);
    cr_assert_eq(aw__multipart_boundary(ct, b, sizeof b), AW_EINVAL);
}

Test(multipart, boundary_refuses_other_types_and_bad_parameters)
{
    const char *bad[] = {
        "multipart/mixed; boundary=abc",
        "text/plain; boundary=abc",
        "multipart/form-datax; boundary=abc",
        "multipart/form-data",
        "multipart/form-data;",
        "multipart/form-data; charset=utf-8",
        "multipart/form-data; boundary=",
        "multipart/form-data; boundary=\"\"",
        "multipart/form-data; boundary=\"abc",
        "multipart/form-data; boundary=\"abc \"",
        "multipart/form-data; boundary=\"a\x01\"",
        "multipart/form-data; boundary=\"a\xc3\xa9\"",
        "multipart/form-data; boundary=a; boundary=b",
        "multipart/form-data; boundary=a b",
        "multipart/form-data boundary=a",
        "multipart/form-data; =a",
        "multipart/form-data; boundary",
        "",
    };
    char b[80];
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        cr_assert_eq(aw__multipart_boundary(bad[i], b, sizeof b), AW_EINVAL, "%s", bad[i]);
    cr_assert_eq(aw__multipart_boundary(NULL, b, sizeof b), AW_EINVAL);
}

Test(multipart, reader_refuses_a_bad_boundary_or_missing_read)
{
    char b71[72];
    memset(b71, 'x', 71);
    b71[71] = '\0';
    cr_assert_null(aw__multipart_new(NULL, mem_read, NULL));
    cr_assert_null(aw__multipart_new("b", NULL, NULL));
    cr_assert_null(aw__multipart_new("", mem_read, NULL));
    cr_assert_null(aw__multipart_new(b71, mem_read, NULL));
    cr_assert_null(aw__multipart_new("a\r\nb", mem_read, NULL));
    cr_assert_null(aw__multipart_new("ab ", mem_read, NULL));
}

/* --- well-formed bodies --- */

static const char simple[] = "--XyZ\r\n"
                             "Content-Disposition: form-data; name=\"title\"\r\n"
                             "\r\n"
                             "Hello\r\n"
                             "--XyZ\r\n"
                             "content-disposition: form-data; name=\"file\"; filename=\"a.txt\"\r\n"
                             "Content-Type:   text/plain \t\r\n"
                             "X-Empty:\r\n"
                             "\r\n"
                             "line 1\r\nline 2\r\n\r\n"
                             "--XyZ--";

Test(multipart, parts_give_names_filenames_headers_and_content)
{
    mem_reader rd = {.data = simple, .len = sizeof simple - 1};
    aw__multipart *m = aw__multipart_new("XyZ", mem_read, &rd);
    char buf[64];
    cr_assert_eq(aw__multipart_read(m, buf, sizeof buf), 0, "no part before next");
    cr_assert_null(aw__multipart_name(m));
    cr_assert_eq(aw__multipart_next(m), 1);
    cr_assert_str_eq(aw__multipart_name(m), "title");
    cr_assert_null(aw__multipart_filename(m));
    cr_assert_null(aw__multipart_header(m, "Content-Type"));
    cr_assert_eq(aw__multipart_read(m, buf, sizeof buf), 5);
    cr_assert_eq(memcmp(buf, "Hello", 5), 0);
    cr_assert_eq(aw__multipart_read(m, buf, sizeof buf), 0);
    cr_assert_eq(aw__multipart_read(m, buf, sizeof buf), 0);
    cr_assert_str_eq(aw__multipart_name(m), "title", "still valid after the content");

    cr_assert_eq(aw__multipart_next(m), 1);
    cr_assert_str_eq(aw__multipart_name(m), "file");
    cr_assert_str_eq(aw__multipart_filename(m), "a.txt");
    cr_assert_str_eq(aw__multipart_header(m, "content-type"), "text/plain");
    cr_assert_str_eq(aw__multipart_header(m, "CONTENT-DISPOSITION"),
                     "form-data; name=\"file\"; filename=\"a.txt\"");
    cr_assert_str_eq(aw__multipart_header(m, "x-empty"), "");
    cr_assert_null(aw__multipart_header(m, "X-Missing"));
    ssize_t n = aw__multipart_read(m, buf, 3);
    cr_assert_eq(n, 3);
    n = aw__multipart_read(m, buf + 3, sizeof buf - 3);
    cr_assert_eq(n, 13);
    cr_assert_eq(memcmp(buf, "line 1\r\nline 2\r\n", 16), 0, "CRLFs before the delimiter stay");
    cr_assert_eq(aw__multipart_read(m, buf, sizeof buf), 0);

    cr_assert_eq(aw__multipart_next(m), 0);
    cr_assert_null(aw__multipart_name(m));
    cr_assert_null(aw__multipart_header(m, "Content-Type"));
    cr_assert_eq(aw__multipart_read(m, buf, sizeof buf), 0);
    cr_assert_eq(aw__multipart_next(m), 0, "the end stays the end");
    aw__multipart_free(m);
}

Test(multipart, preamble_and_epilogue_are_ignored)
{
    const char body[] = "This is a preamble --b \r\n--bX\r\n--b-x\r\n"
                        "--b\r\nContent-Disposition: form-data; name=a\r\n\r\n1\r\n"
                        "--b--\r\nepilogue\r\n--b\r\nContent-Disposition: form-data; name=z\r\n";
    assert_transcript(body, sizeof body - 1, "b", "a|(none)|1;");
}

Test(multipart, the_reader_stops_at_the_closing_boundary)
{
    /* it does not read the epilogue: the body may stay open behind it */
    const char body[] = "--b\r\nContent-Disposition: form-data; name=a\r\n\r\n1\r\n--b--";
    mem_reader rd = {.data = body, .len = sizeof body - 1, .eof = AW_ECONNRESET};
    dbuf out = {0};
    cr_assert_eq(transcript("b", &rd, 64, &out), 0);
    cr_assert_str_eq(out.p, "a|(none)|1;");
    free(out.p);
}

Test(multipart, empty_parts_and_an_empty_form)
{
    const char body[] = "--b\r\nContent-Disposition: form-data; name=a\r\n\r\n\r\n"
                        "--b\r\nContent-Disposition: form-data; name=b\r\n\r\n\r\n--b--";
    assert_transcript(body, sizeof body - 1, "b", "a|(none)|;b|(none)|;");
    cr_assert_eq(status_of("--b--"), 0);
    cr_assert_eq(status_of("preamble\r\n--b--\r\n"), 0);
}

Test(multipart, content_that_resembles_the_delimiter_is_content)
{
    const char body[] = "--b\r\nContent-Disposition: form-data; name=a\r\n\r\n"
                        "--b\r\n"       /* no CRLF before it */
                        "x--b--\r\n"    /* nor here */
                        "\r\n--"        /* near-miss: the boundary is cut short */
                        "\r\n--c"       /* near-miss: another boundary */
                        "\r\n--bc"      /* a longer boundary that starts with ours */
                        "\r\n--b-x"     /* one dash is not the close */
                        "\r\r\n\n--b\r" /* CRs and LFs out of order */
                        "\r\n--b\r\n"   /* the real delimiter */
                        "Content-Disposition: form-data; name=z\r\n\r\n\r\n--b--";
    assert_transcript(body, sizeof body - 1, "b",
                      "a|(none)|--b\r\nx--b--\r\n\r\n--\r\n--c\r\n--bc\r\n--b-x\r\r\n\n--b\r;"
                      "z|(none)|;");
}

Test(multipart, transport_padding_after_a_boundary_is_allowed)
{
    const char body[] = "--b \t \r\nContent-Disposition: form-data; name=a\r\n\r\n1\r\n"
                        "--b\t\r\nContent-Disposition: form-data; name=c\r\n\r\n2\r\n--b--";
    assert_transcript(body, sizeof body - 1, "b", "a|(none)|1;c|(none)|2;");
}

Test(multipart, binary_content_with_nul_bytes_passes_through)
{
    const char body[] = "--b\r\nContent-Disposition: form-data; name=f; filename=x.bin\r\n\r\n"
                        "\0\r\0\n\xff\r\n--\0\r\n--b--";
    dbuf out = {0};
    cr_assert_eq(parse(body, sizeof body - 1, "b", 1, 1, &out), 0);
    const char want[] = "f|x.bin|\0\r\0\n\xff\r\n--\0;";
    cr_assert_eq(out.len, sizeof want - 1);
    cr_assert_eq(memcmp(out.p, want, out.len), 0);
    free(out.p);
}

Test(multipart, next_skips_what_is_left_of_a_part)
{
    dbuf body = {0};
    dbuf_str(&body, "--b\r\nContent-Disposition: form-data; name=big\r\n\r\n");
    for (int i = 0; i < 10000; i++)
        dbuf_str(&body, "0123456789\r\n--b-\r");
    dbuf_str(&body, "\r\n--b\r\nContent-Disposition: form-data; name=half\r\n\r\nabcdef");
    dbuf_str(&body, "\r\n--b\r\nContent-Disposition: form-data; name=last\r\n\r\nend\r\n--b--");
    mem_reader rd = {.data = body.p, .len = body.len, .chunk = 1000};
    aw__multipart *m = aw__multipart_new("b", mem_read, &rd);
    char buf[16];
    cr_assert_eq(aw__multipart_next(m), 1);
    cr_assert_str_eq(aw__multipart_name(m), "big");
    cr_assert_eq(aw__multipart_next(m), 1, "unread content skipped");
    cr_assert_str_eq(aw__multipart_name(m), "half");
    cr_assert_eq(aw__multipart_read(m, buf, 3), 3);
    cr_assert_eq(memcmp(buf, "abc", 3), 0);
    cr_assert_eq(aw__multipart_next(m), 1, "the rest skipped");
    cr_assert_str_eq(aw__multipart_name(m), "last");
    cr_assert_eq(aw__multipart_read(m, buf, sizeof buf), 3);
    cr_assert_eq(aw__multipart_next(m), 0);
    aw__multipart_free(m);
    free(body.p);
}

Test(multipart, part_strings_survive_the_buffer_being_refilled)
{
    dbuf body = {0};
    dbuf_str(&body, "--b\r\nContent-Disposition: form-data; name=n; filename=\"f.txt\"\r\n"
                    "X-Tag: kept\r\n\r\n");
    for (int i = 0; i < 5000; i++)
        dbuf_str(&body, "some content ");
    dbuf_str(&body, "\r\n--b--");
    mem_reader rd = {.data = body.p, .len = body.len};
    aw__multipart *m = aw__multipart_new("b", mem_read, &rd);
    char buf[4096];
    cr_assert_eq(aw__multipart_next(m), 1);
    const char *name = aw__multipart_name(m), *fn = aw__multipart_filename(m);
    const char *tag = aw__multipart_header(m, "x-tag");
    size_t total = 0;
    ssize_t n;
    while ((n = aw__multipart_read(m, buf, sizeof buf)) > 0)
        total += (size_t)n;
    cr_assert_eq(n, 0);
    cr_assert_eq(total, 5000 * 13);
    cr_assert_str_eq(name, "n");
    cr_assert_str_eq(fn, "f.txt");
    cr_assert_str_eq(tag, "kept");
    aw__multipart_free(m);
    free(body.p);
}

/* --- Content-Disposition --- */

static void assert_disposition(const char *cd, const char *want)
{
    char head[512];
    dbuf out = {0};
    snprintf(head, sizeof head, "Content-Disposition: %s\r\n", cd);
    cr_assert_eq(one_part(head, &out), 0, "%s", cd);
    cr_assert_str_eq(out.p, want, "%s", cd);
    free(out.p);
}

Test(multipart, disposition_parameters_quoted_or_tokens)
{
    assert_disposition("form-data; name=\"a\"", "a|(none)|x;");
    assert_disposition("form-data; name=a; filename=b.txt", "a|b.txt|x;");
    assert_disposition("FORM-DATA; NAME=\"a\"; FileName=\"f\"", "a|f|x;");
    assert_disposition("form-data;name=\"a\";filename=\"f\"", "a|f|x;");
    assert_disposition("form-data ; name = \"a\" ;\tfilename= \"f g\" ;", "a|f g|x;");
    assert_disposition("form-data; foo=bar; name=\"a\"; size=10; x=\"y;z\"", "a|(none)|x;");
    assert_disposition("form-data; name=\"\"", "|(none)|x;");
    assert_disposition("form-data; name=\"a\"; filename=\"\"", "a||x;");
    assert_disposition("form-data; name=\"\xc3\xa9t\xc3\xa9\"", "\xc3\xa9t\xc3\xa9|(none)|x;");
}

Test(multipart, disposition_backslash_escapes_only_quote_and_backslash)
{
    assert_disposition("form-data; name=\"a\\\"b\\\\c\"", "a\"b\\c|(none)|x;");
    assert_disposition("form-data; name=f; filename=\"C:\\Users\\x.txt\"", "f|C:\\Users\\x.txt|x;");
    assert_disposition("form-data; name=f; filename=\"semi;colon=\\\"q\\\".txt\"",
                       "f|semi;colon=\"q\".txt|x;");
}

Test(multipart, disposition_filename_star_utf8_is_decoded_and_preferred)
{
    assert_disposition("form-data; name=f; filename*=UTF-8''%E2%82%AC%20rates.txt; filename=\"x\"",
                       "f|\xe2\x82\xac rates.txt|x;");
    assert_disposition("form-data; name=f; filename=\"x\"; filename*=utf-8'en'%C3%A9+.txt",
                       "f|\xc3\xa9+.txt|x;");
    assert_disposition("form-data; name=f; filename*=UTF-8''plain.txt", "f|plain.txt|x;");
    assert_disposition("form-data; name=f; filename*=UTF-8''%F0%9F%98%80", "f|\xf0\x9f\x98\x80|x;");
}

Test(multipart, disposition_filename_star_in_other_charsets_or_bad_utf8_is_ignored)
{
    assert_disposition("form-data; name=f; filename*=ISO-8859-1''%E9.txt; filename=\"e.txt\"",
                       "f|e.txt|x;");
    assert_disposition("form-data; name=f; filename*=UTF-8''%FF.txt; filename=\"e.txt\"",
                       "f|e.txt|x;");
    assert_disposition("form-data; name=f; filename*=UTF-8''%ED%A0%80", "f|(none)|x;");
    assert_disposition("form-data; name=f; filename*=UTF-8''%C0%AF", "f|(none)|x;");
    assert_disposition("form-data; name=f; filename*=UTF-8''%F4%90%80%80", "f|(none)|x;");
    assert_disposition("form-data; name=f; filename*=UTF-8''%E2%82", "f|(none)|x;");
    assert_disposition("form-data; name=f; filename*=UTF-8''%E2%28%A1", "f|(none)|x;");
    assert_disposition("form-data; name=f; filename*=UTF-8''%F8%88%80%80%80", "f|(none)|x;");
}

Test(multipart, disposition_errors)
{
    const char *bad[] = {
        "form-data",
        "form-data; filename=\"f\"",
        "attachment; name=\"a\"",
        "name=\"a\"",
        "form-data name=\"a\"",
        "form-data; name=\"a",
        "form-data; name=\"a\\\"",
        "form-data; name=\"a\"; name=\"b\"",
        "form-data; name=\"a\"; filename=\"x\"; filename=\"y\"",
        "form-data; name=",
        "form-data; name=\"a\" x",
        "form-data; name=a b",
        "form-data; =x; name=a",
        "form-data; name=\"a\"; filename*=UTF-8''%zz",
        "form-data; name=\"a\"; filename*=UTF-8''%00",
        "form-data; name=\"a\"; filename*=noquotes",
        "form-data; name=\"a\"; filename*=UTF-8'only-one",
        "form-data; name=\"a\"; filename*=\"UTF-8''x\"",
        "form-data; name=a; filename*=UTF-8''a; filename*=UTF-8''b",
        "form-data; name=\"a\tb\x7f\"",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char head[512];
        dbuf out = {0};
        snprintf(head, sizeof head, "Content-Disposition: %s\r\n", bad[i]);
        cr_assert_eq(one_part(head, &out), AW_EINVAL, "%s", bad[i]);
        cr_assert_null(out.p);
    }
}

/* --- part heads --- */

Test(multipart, head_errors)
{
    const char *bad[] = {
        "",                                                        /* no headers at all */
        "Content-Type: text/plain\r\n",                            /* no disposition */
        "Content-Disposition: form-data;\r\n name=\"a\"\r\n",      /* obs-fold */
        "Content-Disposition: form-data; name=a\r\n\tX: y\r\n",    /* obs-fold */
        "Content-Disposition: form-data; name=a\nX: y\r\n",        /* bare LF */
        "Content-Disposition: form-data; name=a\rX: y\r\n",        /* bare CR */
        "Content-Disposition form-data; name=a\r\n",               /* no colon */
        "Content-Disposition : form-data; name=a\r\n",             /* space before colon */
        ": x\r\nContent-Disposition: form-data; name=a\r\n",       /* empty name */
        "X@Y: 1\r\nContent-Disposition: form-data; name=a\r\n",    /* name not a token */
        "X: a\x01z\r\nContent-Disposition: form-data; name=a\r\n", /* control in a value */
        "X: a\x7fz\r\nContent-Disposition: form-data; name=a\r\n", /* DEL in a value */
        "Content-Disposition: form-data; name=a\r\n"
        "content-disposition: form-data; name=b\r\n", /* two dispositions */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        dbuf out = {0};
        cr_assert_eq(one_part(bad[i], &out), AW_EINVAL, "head %zu", i);
        free(out.p);
    }
    const char nul[] = "--b\r\nContent-Disposition: form-data; name=a\r\nX: a\0b\r\n\r\nx\r\n--b--";
    dbuf out = {0};
    cr_assert_eq(parse(nul, sizeof nul - 1, "b", 0, 64, &out), AW_EINVAL);
    free(out.p);
}

/* A part whose head (headers and blank line) is exactly `size` bytes. */
static int head_of_size(size_t size, size_t chunk)
{
    const char cd[] = "Content-Disposition: form-data; name=a\r\nX-Pad: ";
    size_t pad = size - (sizeof cd - 1) - 4;
    dbuf body = {0};
    dbuf_str(&body, "--b\r\n");
    dbuf_str(&body, cd);
    for (size_t i = 0; i < pad; i++)
        dbuf_str(&body, "p");
    dbuf_str(&body, "\r\n\r\ncontent\r\n--b--");
    dbuf out = {0};
    int r = parse(body.p, body.len, "b", chunk, 64, &out);
    if (r == 0)
        cr_assert_str_eq(out.p, "a|(none)|content;");
    free(out.p);
    free(body.p);
    return r;
}

Test(multipart, a_part_head_may_take_up_to_the_limit)
{
    cr_assert_eq(head_of_size(AW__MP_MAX_PART_HEAD, 0), 0);
    cr_assert_eq(head_of_size(AW__MP_MAX_PART_HEAD, 1), 0);
    cr_assert_eq(head_of_size(AW__MP_MAX_PART_HEAD + 1, 0), AW_EINVAL);
    cr_assert_eq(head_of_size(AW__MP_MAX_PART_HEAD + 1, 7), AW_EINVAL);
}

Test(multipart, an_endless_head_is_refused_without_reading_the_whole_body)
{
    size_t len = 1 << 20;
    char *body = malloc(len);
    memcpy(body, "--b\r\n", 5);
    memset(body + 5, 'h', len - 5);
    mem_reader rd = {.data = body, .len = len};
    aw__multipart *m = aw__multipart_new("b", mem_read, &rd);
    cr_assert_eq(aw__multipart_next(m), AW_EINVAL);
    cr_assert_lt(rd.off, 64 * 1024);
    aw__multipart_free(m);
    free(body);
}

static dbuf parts_body(size_t nparts)
{
    dbuf body = {0};
    for (size_t i = 0; i < nparts; i++)
        dbuf_str(&body, "--b\r\nContent-Disposition: form-data; name=p\r\n\r\nv\r\n");
    dbuf_str(&body, "--b--");
    return body;
}

Test(multipart, at_most_the_limit_of_parts)
{
    dbuf body = parts_body(AW__MP_MAX_PARTS);
    mem_reader rd = {.data = body.p, .len = body.len};
    aw__multipart *m = aw__multipart_new("b", mem_read, &rd);
    int r, n = 0;
    while ((r = aw__multipart_next(m)) == 1)
        n++;
    cr_assert_eq(r, 0);
    cr_assert_eq(n, AW__MP_MAX_PARTS);
    aw__multipart_free(m);
    free(body.p);

    body = parts_body(AW__MP_MAX_PARTS + 1);
    rd = (mem_reader){.data = body.p, .len = body.len};
    m = aw__multipart_new("b", mem_read, &rd);
    n = 0;
    while ((r = aw__multipart_next(m)) == 1)
        n++;
    cr_assert_eq(r, AW_EINVAL);
    cr_assert_eq(n, AW__MP_MAX_PARTS);
    aw__multipart_free(m);
    free(body.p);
}

/* --- malformed bodies --- */

Test(multipart, a_body_that_ends_early_is_invalid)
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
        cr_assert_eq(status_of(bad[i]), AW_EINVAL, "%s", bad[i]);
}

Test(multipart, a_bad_boundary_line_is_invalid)
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
        cr_assert_eq(status_of(bad[i]), AW_EINVAL, "%s", bad[i]);
}

static ssize_t greedy_read(void *ctx, void *buf, size_t len)
{
    (void)ctx;
    memset(buf, '-', len);
    return (ssize_t)len + 1;
}

Test(multipart, a_read_function_that_returns_too_much_is_an_error)
{
    aw__multipart *m = aw__multipart_new("b", greedy_read, NULL);
    cr_assert_eq(aw__multipart_next(m), AW_EINVAL);
    aw__multipart_free(m);
}

Test(multipart, read_errors_are_returned_and_stay)
{
    const char body[] = "--b\r\nContent-Disposition: form-data; name=a\r\n\r\npartial conte";
    mem_reader rd = {.data = body, .len = sizeof body - 1, .chunk = 8, .eof = AW_ECONNRESET};
    aw__multipart *m = aw__multipart_new("b", mem_read, &rd);
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

    rd = (mem_reader){.data = body, .len = 20, .eof = AW_ETIMEDOUT};
    m = aw__multipart_new("b", mem_read, &rd);
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

Test(multipart, a_delimiter_split_byte_by_byte_is_still_found)
{
    dbuf out = {0};
    cr_assert_eq(parse(tricky, sizeof tricky - 1, "boundary", 1, 1, &out), 0);
    cr_assert_str_eq(out.p, tricky_want);
    free(out.p);
    out = (dbuf){0};
    cr_assert_eq(parse(tricky, sizeof tricky - 1, "boundary", 1, 1024, &out), 0);
    cr_assert_str_eq(out.p, tricky_want);
    free(out.p);
}

Test(multipart, every_read_size_gives_the_same_parts)
{
    for (size_t chunk = 0; chunk <= sizeof tricky; chunk++)
        for (size_t rs = 1; rs <= 40; rs += 13) {
            dbuf out = {0};
            cr_assert_eq(parse(tricky, sizeof tricky - 1, "boundary", chunk, rs, &out), 0);
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

Test(multipart, random_bodies_round_trip_through_random_reads)
{
    static const char alphabet[] = "\r\n--ab \tx";
    uint64_t seed = 12345;
    for (int iter = 0; iter < 2000; iter++) {
        dbuf body = {0}, want = {0}, content = {0};
        size_t nparts = 1 + rng_next(&seed) % 4;
        for (size_t p = 0; p < nparts; p++) {
            do {
                free(content.p);
                content = (dbuf){0};
                size_t len = rng_next(&seed) % 60;
                for (size_t i = 0; i < len; i++)
                    dbuf_add(&content, &alphabet[rng_next(&seed) % (sizeof alphabet - 1)], 1);
                dbuf_str(&content, "\r\n--ab--");
            } while (first_delimiter(content.p, content.len) != content.len - 8);
            content.len -= 8;
            dbuf_str(&body, "--ab\r\nContent-Disposition: form-data; name=p\r\n\r\n");
            dbuf_add(&body, content.p, content.len);
            dbuf_str(&body, "\r\n");
            dbuf_str(&want, "p|(none)|");
            dbuf_add(&want, content.p, content.len);
            dbuf_str(&want, ";");
        }
        dbuf_str(&body, "--ab--");
        mem_reader rd = {.data = body.p, .len = body.len, .chunk = 1 + rng_next(&seed) % 20};
        rd.seed = rng_next(&seed) | 1;
        dbuf out = {0};
        cr_assert_eq(transcript("ab", &rd, 1 + rng_next(&seed) % 10, &out), 0);
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
        pat[i] = (unsigned char)('a' + rng_next(&seed) % 26);
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

Test(multipart, a_200_mib_part_streams_through_in_bounded_memory)
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
Test(multipart, mutated_bodies_return_cleanly)
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
        for (int k = 1 + (int)(rng_next(&seed) % 4); k > 0; k--) {
            size_t at = rng_next(&seed) % (len + 1);
            char c = interesting[rng_next(&seed) % (sizeof interesting - 1)];
            switch (rng_next(&seed) % 5) {
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
                    body[at] = (char)rng_next(&seed);
            }
        }
        mem_reader rd = {.data = body, .len = len, .chunk = 1 + rng_next(&seed) % 64};
        rd.seed = rng_next(&seed) | 1;
        dbuf out = {0};
        int r = transcript("boundary", &rd, 1 + rng_next(&seed) % 32, &out);
        cr_assert(r == 0 || r == AW_EINVAL, "iteration %d: %d", iter, r);
        cr_assert_leq(out.len, len + 200, "iteration %d", iter);
        outcomes[r == 0]++;
        free(out.p);
    }
    cr_assert_gt(outcomes[0], 1000, "mutations should mostly break the body");
    cr_assert_gt(outcomes[1], 1000, "but some should survive");
    free(body);
}
