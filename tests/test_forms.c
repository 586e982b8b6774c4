/* Percent-coding, urlencoded forms and cookies (http/forms.c). */
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "forms_int.h"
#include "testutil.h"

TestSuite(forms, .timeout = 30, .fini = tu_fini);

/* A malloc allocator that counts its blocks, and can be told to fail. */
typedef struct counting_alloc {
    size_t calls, bytes;
    int fail;
} counting_alloc;

static void *count_alloc(void *ctx, size_t size)
{
    counting_alloc *a = ctx;
    if (a->fail)
        return NULL;
    a->calls++;
    a->bytes += size;
    return malloc(size);
}

static int parse_form(const char *s, size_t max, aw__kvlist *l, counting_alloc *a)
{
    return aw__parse_urlencoded(s, strlen(s), count_alloc, a, max, l);
}

static int parse_cookies(const char *s, size_t max, aw__kvlist *l, counting_alloc *a)
{
    return aw__parse_cookies(s, strlen(s), count_alloc, a, max, l);
}

static void assert_pair(const aw__kvlist *l, size_t i, const char *name, const char *value)
{
    cr_assert_lt(i, l->n);
    cr_assert_str_eq(l->items[i].name, name);
    cr_assert_str_eq(l->items[i].value, value);
}

/* --- percent-decoding --- */

static ssize_t decode(char *out, const char *in, int plus, int slash, int nul)
{
    return aw__pct_decode(out, in, strlen(in), plus, slash, nul);
}

Test(forms, decode_turns_escapes_of_either_case_into_bytes)
{
    char out[64];
    cr_assert_eq(decode(out, "%41b%63%c3%A9%7e", 0, 0, 0), 6);
    cr_assert_eq(memcmp(out, "Abc\xc3\xa9~", 6), 0);
}

Test(forms, decode_turns_plus_into_space_only_when_asked)
{
    char out[16];
    cr_assert_eq(decode(out, "a+b%2B", 1, 0, 0), 4);
    cr_assert_eq(memcmp(out, "a b+", 4), 0);
    cr_assert_eq(decode(out, "a+b%2B", 0, 0, 0), 4);
    cr_assert_eq(memcmp(out, "a+b+", 4), 0);
}

Test(forms, decode_keeps_encoded_slashes_as_sent_when_asked)
{
    char out[32];
    cr_assert_eq(decode(out, "a%2Fb%2fc/d", 0, 1, 0), 11);
    cr_assert_eq(memcmp(out, "a%2Fb%2fc/d", 11), 0);
    cr_assert_eq(decode(out, "a%2Fb%2fc", 0, 0, 0), 5);
    cr_assert_eq(memcmp(out, "a/b/c", 5), 0);
}

Test(forms, decode_refuses_malformed_escapes)
{
    char out[16];
    const char *bad[] = {"%zz", "%4", "%", "a%", "%g0", "%0g", "ab%4", "%%41", "% 41"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        cr_assert_eq(decode(out, bad[i], 1, 0, 0), AW_EINVAL, "%s", bad[i]);
}

Test(forms, decode_refuses_nul_escaped_or_raw_only_when_asked)
{
    char out[8];
    cr_assert_eq(decode(out, "a%00b", 0, 0, 1), AW_EINVAL);
    cr_assert_eq(aw__pct_decode(out, "a\0b", 3, 0, 0, 1), AW_EINVAL);
    cr_assert_eq(decode(out, "a%00b", 0, 0, 0), 3);
    cr_assert_eq(memcmp(out, "a\0b", 3), 0);
}

Test(forms, decode_works_in_place_and_reads_only_len_bytes)
{
    char s[] = "%48i%2F+there%21";
    ssize_t n = aw__pct_decode(s, s, strlen(s), 1, 1, 1);
    cr_assert_eq(n, 12);
    cr_assert_eq(memcmp(s, "Hi%2F there!", 12), 0);
    /* "%4" followed by bytes outside len is still malformed */
    cr_assert_eq(aw__pct_decode(s, "%41", 2, 0, 0, 0), AW_EINVAL);
    cr_assert_eq(aw__pct_decode(s, "", 0, 0, 0, 0), 0);
}

Test(forms, decode_writes_nothing_past_the_decoded_length)
{
    char out[16];
    memset(out, 'Z', sizeof out);
    cr_assert_eq(decode(out, "%41%42", 0, 0, 0), 2);
    for (size_t i = 2; i < sizeof out; i++)
        cr_assert_eq(out[i], 'Z');
}

/* --- percent-encoding --- */

Test(forms, encode_escapes_all_but_unreserved_characters)
{
    char out[128];
    const char *in = "aZ09-._~ /?&=+%\xc3\xa9";
    size_t n = aw__pct_encode(out, sizeof out, in, strlen(in), 0);
    cr_assert_str_eq(out, "aZ09-._~%20%2F%3F%26%3D%2B%25%C3%A9");
    cr_assert_eq(n, strlen(out));
    n = aw__pct_encode(out, sizeof out, "a/b c", 5, 1);
    cr_assert_str_eq(out, "a/b%20c");
    cr_assert_eq(n, 7);
    cr_assert_eq(aw__pct_encode(out, sizeof out, "a\0b", 3, 0), 5);
    cr_assert_str_eq(out, "a%00b");
}

Test(forms, encode_reports_the_length_it_needed_when_it_does_not_fit)
{
    char out[16];
    memset(out, 'Z', sizeof out);
    /* "ab%20%20" needs 8 + NUL: the escape that does not fit is not cut */
    cr_assert_eq(aw__pct_encode(out, 7, "ab  ", 4, 0), 8);
    cr_assert_str_eq(out, "ab%20");
    cr_assert_eq(out[7], 'Z');
    cr_assert_eq(aw__pct_encode(out, 9, "ab  ", 4, 0), 8);
    cr_assert_str_eq(out, "ab%20%20");
    cr_assert_eq(aw__pct_encode(out, 8, "ab  ", 4, 0), 8, "no room for the NUL");
    cr_assert_str_eq(out, "ab%20");
    cr_assert_eq(aw__pct_encode(out, 1, "a", 1, 0), 1);
    cr_assert_str_eq(out, "");
    cr_assert_eq(aw__pct_encode(NULL, 0, "a b", 3, 0), 5, "cap 0 writes nothing");
}

Test(forms, encode_then_decode_gives_back_every_byte)
{
    char in[256], enc[3 * 256 + 1], dec[256];
    for (int i = 0; i < 256; i++)
        in[i] = (char)i;
    size_t n = aw__pct_encode(enc, sizeof enc, in, sizeof in, 0);
    cr_assert_eq(n, strlen(enc));
    cr_assert_eq(aw__pct_decode(dec, enc, n, 1, 0, 0), 256);
    cr_assert_eq(memcmp(in, dec, 256), 0);
}

/* --- urlencoded --- */

Test(forms, urlencoded_keeps_order_and_every_value)
{
    counting_alloc a = {0};
    aw__kvlist l;
    cr_assert_eq(parse_form("a=1&b=2&a=3", 10, &l, &a), 0);
    cr_assert_eq(l.n, 3);
    assert_pair(&l, 0, "a", "1");
    assert_pair(&l, 1, "b", "2");
    assert_pair(&l, 2, "a", "3");
    cr_assert_str_eq(aw__kv_get(&l, "a"), "1");
    cr_assert_str_eq(aw__kv_get(&l, "b"), "2");
    cr_assert_null(aw__kv_get(&l, "A"), "names are case-sensitive");
    cr_assert_null(aw__kv_get(&l, "c"));
    const char *all[4];
    cr_assert_eq(aw__kv_get_all(&l, "a", all, 4), 2);
    cr_assert_str_eq(all[0], "1");
    cr_assert_str_eq(all[1], "3");
    all[0] = NULL;
    cr_assert_eq(aw__kv_get_all(&l, "a", all, 1), 2, "the count, even past cap");
    cr_assert_str_eq(all[0], "1");
    cr_assert_eq(aw__kv_get_all(&l, "z", all, 4), 0);
    cr_assert_eq(a.calls, 1, "one block holds the list and its strings");
    free(l.items);
}

Test(forms, urlencoded_decodes_escapes_and_plus_in_names_and_values)
{
    counting_alloc a = {0};
    aw__kvlist l;
    cr_assert_eq(parse_form("first+name=J%C3%B6rg+M&q=a%26b%3Dc&p=%2B1%2f", 10, &l, &a), 0);
    cr_assert_eq(l.n, 3);
    assert_pair(&l, 0, "first name", "J\xc3\xb6rg M");
    assert_pair(&l, 1, "q", "a&b=c");
    assert_pair(&l, 2, "p", "+1/");
    free(l.items);
}

Test(forms, urlencoded_shapes_without_values_and_empty_pairs)
{
    counting_alloc a = {0};
    aw__kvlist l;
    cr_assert_eq(parse_form("&&flag&a=&=v&&b==c&=&", 10, &l, &a), 0);
    cr_assert_eq(l.n, 5);
    assert_pair(&l, 0, "flag", "");
    assert_pair(&l, 1, "a", "");
    assert_pair(&l, 2, "", "v");
    assert_pair(&l, 3, "b", "=c");
    assert_pair(&l, 4, "", "");
    free(l.items);
}

Test(forms, urlencoded_does_not_split_on_semicolons)
{
    counting_alloc a = {0};
    aw__kvlist l;
    cr_assert_eq(parse_form("a=1;b=2", 10, &l, &a), 0);
    cr_assert_eq(l.n, 1);
    assert_pair(&l, 0, "a", "1;b=2");
    free(l.items);
}

Test(forms, urlencoded_empty_input_is_an_empty_list_without_allocating)
{
    counting_alloc a = {0};
    aw__kvlist l = {(aw__kv *)&a, 99};
    cr_assert_eq(parse_form("", 10, &l, &a), 0);
    cr_assert_eq(l.n, 0);
    cr_assert_null(l.items);
    cr_assert_eq(parse_form("&&&", 10, &l, &a), 0);
    cr_assert_eq(l.n, 0);
    cr_assert_eq(a.calls, 0);
}

Test(forms, urlencoded_reads_only_len_bytes)
{
    counting_alloc a = {0};
    aw__kvlist l;
    const char s[] = {'a', '=', '1', '&', 'b', '=', '2'};
    cr_assert_eq(aw__parse_urlencoded(s, 3, count_alloc, &a, 10, &l), 0);
    cr_assert_eq(l.n, 1);
    assert_pair(&l, 0, "a", "1");
    free(l.items);
    /* an escape cut by len is malformed even if the bytes after it would complete it */
    cr_assert_eq(aw__parse_urlencoded("a=%41", 4, count_alloc, &a, 10, &l), AW_EINVAL);
}

Test(forms, urlencoded_refuses_bad_escapes_and_nul_without_allocating)
{
    counting_alloc a = {0};
    aw__kvlist l;
    const char *bad[] = {"a=%zz", "a=1&b=%4", "%=1", "a=1&b%00=2", "a=%00", "a=1&b=2%"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        cr_assert_eq(parse_form(bad[i], 10, &l, &a), AW_EINVAL, "%s", bad[i]);
        cr_assert_eq(l.n, 0);
        cr_assert_null(l.items);
    }
    cr_assert_eq(a.calls, 0);
}

Test(forms, urlencoded_enforces_max_pairs)
{
    counting_alloc a = {0};
    aw__kvlist l;
    cr_assert_eq(parse_form("a=1&b=2&c=3", 3, &l, &a), 0);
    cr_assert_eq(l.n, 3);
    free(l.items);
    a.calls = 0;
    cr_assert_eq(parse_form("a=1&b=2&c=3&d", 3, &l, &a), AW_E2BIG);
    cr_assert_eq(parse_form("a", 0, &l, &a), AW_E2BIG);
    cr_assert_eq(a.calls, 0, "nothing allocated for a refused list");
    cr_assert_eq(parse_form("&&a=1&&&&", 1, &l, &a), 0, "skipped empty pairs do not count");
    free(l.items);
}

Test(forms, urlencoded_reports_allocation_failure)
{
    counting_alloc a = {.fail = 1};
    aw__kvlist l;
    cr_assert_eq(parse_form("a=1", 10, &l, &a), AW_ENOMEM);
    cr_assert_eq(l.n, 0);
    cr_assert_null(l.items);
}

Test(forms, urlencoded_allocation_is_bounded_by_the_input)
{
    /* 10,000 one-byte names: list and strings stay within a small multiple */
    size_t n = 10000;
    char *s = malloc(2 * n);
    for (size_t i = 0; i < n; i++) {
        s[2 * i] = 'x';
        s[2 * i + 1] = '&';
    }
    counting_alloc a = {0};
    aw__kvlist l;
    cr_assert_eq(aw__parse_urlencoded(s, 2 * n, count_alloc, &a, n, &l), 0);
    cr_assert_eq(l.n, n);
    cr_assert_leq(a.bytes, n * (sizeof(aw__kv) + 3));
    free(l.items);
    free(s);
}

/* --- cookies --- */

Test(forms, cookies_parse_pairs_in_order)
{
    counting_alloc a = {0};
    aw__kvlist l;
    cr_assert_eq(parse_cookies("a=1; b=2;c=3 ;  a=4", 10, &l, &a), 0);
    cr_assert_eq(l.n, 4);
    assert_pair(&l, 0, "a", "1");
    assert_pair(&l, 1, "b", "2");
    assert_pair(&l, 2, "c", "3");
    assert_pair(&l, 3, "a", "4");
    const char *all[2];
    cr_assert_eq(aw__kv_get_all(&l, "a", all, 2), 2);
    cr_assert_str_eq(all[1], "4");
    cr_assert_eq(a.calls, 1);
    free(l.items);
}

Test(forms, cookies_unquote_values_and_do_not_percent_decode)
{
    counting_alloc a = {0};
    aw__kvlist l;
    cr_assert_eq(parse_cookies("q=\"x y\"; p=%41+b; e=; eq=a=b; lone=\"; t= spaced ", 10, &l, &a),
                 0);
    cr_assert_eq(l.n, 6);
    assert_pair(&l, 0, "q", "x y");
    assert_pair(&l, 1, "p", "%41+b");
    assert_pair(&l, 2, "e", "");
    assert_pair(&l, 3, "eq", "a=b");
    assert_pair(&l, 4, "lone", "\"");
    assert_pair(&l, 5, "t", "spaced");
    free(l.items);
}

Test(forms, cookies_skip_pairs_that_cannot_be_cookies_but_keep_the_rest)
{
    counting_alloc a = {0};
    aw__kvlist l;
    const char s[] = "novalue; =1; a b=2; ok=1; bad\"name=3; c=x\x01y; "
                     "(p)=4; d=\x7f; ok2=\xc3\xa9; ;;";
    cr_assert_eq(parse_cookies(s, 10, &l, &a), 0);
    cr_assert_eq(l.n, 2);
    assert_pair(&l, 0, "ok", "1");
    assert_pair(&l, 1, "ok2", "\xc3\xa9");
    free(l.items);
    cr_assert_eq(parse_cookies("junk; more junk", 10, &l, &a), 0);
    cr_assert_eq(l.n, 0);
    cr_assert_null(l.items);
}

Test(forms, cookies_read_only_len_bytes_and_a_nul_ends_no_pair_early)
{
    counting_alloc a = {0};
    aw__kvlist l;
    cr_assert_eq(aw__parse_cookies("a=1; b=2", 3, count_alloc, &a, 10, &l), 0);
    cr_assert_eq(l.n, 1);
    assert_pair(&l, 0, "a", "1");
    free(l.items);
    cr_assert_eq(aw__parse_cookies("a=1\0x; b=2", 10, count_alloc, &a, 10, &l), 0);
    cr_assert_eq(l.n, 1, "the pair holding a NUL is skipped, not truncated");
    assert_pair(&l, 0, "b", "2");
    free(l.items);
}

Test(forms, cookies_enforce_max_pairs_and_report_allocation_failure)
{
    counting_alloc a = {0};
    aw__kvlist l;
    cr_assert_eq(parse_cookies("a=1; b=2; junk; c", 2, &l, &a), 0, "skipped pairs do not count");
    cr_assert_eq(l.n, 2);
    free(l.items);
    a.calls = 0;
    cr_assert_eq(parse_cookies("a=1; b=2; c=3", 2, &l, &a), AW_E2BIG);
    cr_assert_eq(a.calls, 0);
    cr_assert_eq(l.n, 0);
    a.fail = 1;
    cr_assert_eq(parse_cookies("a=1", 2, &l, &a), AW_ENOMEM);
}

Test(forms, cookie_names_must_be_tokens)
{
    const char *good[] = {"a", "SID", "__Host-x", "a.b_c~d!#$%&'*+^`|"};
    const char *bad[] = {"",      "a b", "a=b", "a;b",      "a\r\nSet-Cookie: x",
                         "\"a\"", "a,b", "a/b", "\xc3\xa9", "a\tb",
                         "(a)",   "a@b", "[a]", "a\\b",     "{a}",
                         "a?"};
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++)
        cr_assert(aw__cookie_name_ok(good[i]), "%s", good[i]);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        cr_assert_not(aw__cookie_name_ok(bad[i]), "%s", bad[i]);
    cr_assert_not(aw__cookie_name_ok(NULL));
}

Test(forms, cookie_values_must_be_cookie_octets)
{
    const char *good[] = {
        "", "abc", "a=b", "\"quoted\"", "\"\"", "!#$%&'()*+-./:<=>?@[]^_`{|}~", "MTIz=="};
    const char *bad[] = {"a b",       "a;b", "a,b",  "a\\b",     "\"",   "a\"b",    "\"a",
                         "a\r\nX: y", "a\n", "\x7f", "\xc3\xa9", "a\tb", "\"a b\"", "\"a;b\""};
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++)
        cr_assert(aw__cookie_value_ok(good[i]), "%s", good[i]);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        cr_assert_not(aw__cookie_value_ok(bad[i]), "%s", bad[i]);
    cr_assert_not(aw__cookie_value_ok(NULL));
}

/* --- robustness --- */

static uint64_t rng_next(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

/* Random bytes drawn mostly from the parsers' syntax: every outcome must be a
 * clean return, and a successful list must hold only well-formed strings. */
Test(forms, random_inputs_return_cleanly)
{
    static const char alphabet[] = "a=&;%+ \"\t2Fz0\x01\x7f\xc3";
    uint64_t seed = 0x9e3779b97f4a7c15u;
    char s[64];
    for (int iter = 0; iter < 20000; iter++) {
        size_t len = rng_next(&seed) % sizeof s;
        for (size_t i = 0; i < len; i++)
            s[i] = alphabet[rng_next(&seed) % (sizeof alphabet - 1)];
        counting_alloc a = {0};
        aw__kvlist l;
        int r = aw__parse_urlencoded(s, len, count_alloc, &a, 8, &l);
        cr_assert(r == 0 || r == AW_EINVAL || r == AW_E2BIG, "urlencoded: %d", r);
        cr_assert(r == 0 || a.calls == 0);
        free(l.items);
        r = aw__parse_cookies(s, len, count_alloc, &a, 8, &l);
        cr_assert(r == 0 || r == AW_E2BIG, "cookies: %d", r);
        for (size_t i = 0; r == 0 && i < l.n; i++)
            cr_assert(aw__cookie_name_ok(l.items[i].name));
        free(l.items);
        char out[64];
        ssize_t n = aw__pct_decode(out, s, len, 1, 1, 1);
        cr_assert(n == AW_EINVAL || (n >= 0 && (size_t)n <= len));
    }
}
