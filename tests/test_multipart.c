/* Streamed multipart/form-data (http/multipart.c), well-formed: the boundary
 * parameter, bodies and their parts, Content-Disposition and part heads.
 * Malformed bodies, reads of every size, a 200 MiB part and mutated bodies
 * are in test_multipart_abuse.c; the body reader both use is in
 * helpers/multipartbody.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "forms_int.h"
#include "multipartbody.h"
#include "testutil.h"

TestSuite(multipart, .timeout = 60, .fini = tu_fini);

/* One part with the given head lines; returns the status, the transcript in out. */
static int one_part(const char *head, tu_dbuf *out)
{
    tu_dbuf body = {0};
    tu_dbuf_str(&body, "--b\r\n");
    tu_dbuf_str(&body, head);
    tu_dbuf_str(&body, "\r\nx\r\n--b--\r\n");
    int r = tu_mp_parse(body.p, body.len, "b", 0, 1024, out);
    free(body.p);
    return r;
}

static void assert_transcript(const char *body, size_t len, const char *boundary, const char *want)
{
    tu_dbuf out = {0};
    cr_assert_eq(tu_mp_parse(body, len, boundary, 0, 1024, &out), 0);
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
    cr_assert_null(aw__multipart_new(NULL, tu_mem_read, NULL));
    cr_assert_null(aw__multipart_new("b", NULL, NULL));
    cr_assert_null(aw__multipart_new("", tu_mem_read, NULL));
    cr_assert_null(aw__multipart_new(b71, tu_mem_read, NULL));
    cr_assert_null(aw__multipart_new("a\r\nb", tu_mem_read, NULL));
    cr_assert_null(aw__multipart_new("ab ", tu_mem_read, NULL));
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
    tu_mem_reader rd = {.data = simple, .len = sizeof simple - 1};
    aw__multipart *m = aw__multipart_new("XyZ", tu_mem_read, &rd);
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
    tu_mem_reader rd = {.data = body, .len = sizeof body - 1, .eof = AW_ECONNRESET};
    tu_dbuf out = {0};
    cr_assert_eq(tu_mp_transcript("b", &rd, 64, &out), 0);
    cr_assert_str_eq(out.p, "a|(none)|1;");
    free(out.p);
}

Test(multipart, empty_parts_and_an_empty_form)
{
    const char body[] = "--b\r\nContent-Disposition: form-data; name=a\r\n\r\n\r\n"
                        "--b\r\nContent-Disposition: form-data; name=b\r\n\r\n\r\n--b--";
    assert_transcript(body, sizeof body - 1, "b", "a|(none)|;b|(none)|;");
    cr_assert_eq(tu_mp_status("--b--"), 0);
    cr_assert_eq(tu_mp_status("preamble\r\n--b--\r\n"), 0);
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
    tu_dbuf out = {0};
    cr_assert_eq(tu_mp_parse(body, sizeof body - 1, "b", 1, 1, &out), 0);
    const char want[] = "f|x.bin|\0\r\0\n\xff\r\n--\0;";
    cr_assert_eq(out.len, sizeof want - 1);
    cr_assert_eq(memcmp(out.p, want, out.len), 0);
    free(out.p);
}

Test(multipart, next_skips_what_is_left_of_a_part)
{
    tu_dbuf body = {0};
    tu_dbuf_str(&body, "--b\r\nContent-Disposition: form-data; name=big\r\n\r\n");
    for (int i = 0; i < 10000; i++)
        tu_dbuf_str(&body, "0123456789\r\n--b-\r");
    tu_dbuf_str(&body, "\r\n--b\r\nContent-Disposition: form-data; name=half\r\n\r\nabcdef");
    tu_dbuf_str(&body, "\r\n--b\r\nContent-Disposition: form-data; name=last\r\n\r\nend\r\n--b--");
    tu_mem_reader rd = {.data = body.p, .len = body.len, .chunk = 1000};
    aw__multipart *m = aw__multipart_new("b", tu_mem_read, &rd);
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
    tu_dbuf body = {0};
    tu_dbuf_str(&body, "--b\r\nContent-Disposition: form-data; name=n; filename=\"f.txt\"\r\n"
                       "X-Tag: kept\r\n\r\n");
    for (int i = 0; i < 5000; i++)
        tu_dbuf_str(&body, "some content ");
    tu_dbuf_str(&body, "\r\n--b--");
    tu_mem_reader rd = {.data = body.p, .len = body.len};
    aw__multipart *m = aw__multipart_new("b", tu_mem_read, &rd);
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
    tu_dbuf out = {0};
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
        tu_dbuf out = {0};
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
        tu_dbuf out = {0};
        cr_assert_eq(one_part(bad[i], &out), AW_EINVAL, "head %zu", i);
        free(out.p);
    }
    const char nul[] = "--b\r\nContent-Disposition: form-data; name=a\r\nX: a\0b\r\n\r\nx\r\n--b--";
    tu_dbuf out = {0};
    cr_assert_eq(tu_mp_parse(nul, sizeof nul - 1, "b", 0, 64, &out), AW_EINVAL);
    free(out.p);
}

/* A part whose head (headers and blank line) is exactly `size` bytes. */
static int head_of_size(size_t size, size_t chunk)
{
    const char cd[] = "Content-Disposition: form-data; name=a\r\nX-Pad: ";
    size_t pad = size - (sizeof cd - 1) - 4;
    tu_dbuf body = {0};
    tu_dbuf_str(&body, "--b\r\n");
    tu_dbuf_str(&body, cd);
    for (size_t i = 0; i < pad; i++)
        tu_dbuf_str(&body, "p");
    tu_dbuf_str(&body, "\r\n\r\ncontent\r\n--b--");
    tu_dbuf out = {0};
    int r = tu_mp_parse(body.p, body.len, "b", chunk, 64, &out);
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
    tu_mem_reader rd = {.data = body, .len = len};
    aw__multipart *m = aw__multipart_new("b", tu_mem_read, &rd);
    cr_assert_eq(aw__multipart_next(m), AW_EINVAL);
    cr_assert_lt(rd.off, 64 * 1024);
    aw__multipart_free(m);
    free(body);
}

static tu_dbuf parts_body(size_t nparts)
{
    tu_dbuf body = {0};
    for (size_t i = 0; i < nparts; i++)
        tu_dbuf_str(&body, "--b\r\nContent-Disposition: form-data; name=p\r\n\r\nv\r\n");
    tu_dbuf_str(&body, "--b--");
    return body;
}

Test(multipart, at_most_the_limit_of_parts)
{
    tu_dbuf body = parts_body(AW__MP_MAX_PARTS);
    tu_mem_reader rd = {.data = body.p, .len = body.len};
    aw__multipart *m = aw__multipart_new("b", tu_mem_read, &rd);
    int r, n = 0;
    while ((r = aw__multipart_next(m)) == 1)
        n++;
    cr_assert_eq(r, 0);
    cr_assert_eq(n, AW__MP_MAX_PARTS);
    aw__multipart_free(m);
    free(body.p);

    body = parts_body(AW__MP_MAX_PARTS + 1);
    rd = (tu_mem_reader){.data = body.p, .len = body.len};
    m = aw__multipart_new("b", tu_mem_read, &rd);
    n = 0;
    while ((r = aw__multipart_next(m)) == 1)
        n++;
    cr_assert_eq(r, AW_EINVAL);
    cr_assert_eq(n, AW__MP_MAX_PARTS);
    aw__multipart_free(m);
    free(body.p);
}

/* --- malformed bodies --- */
