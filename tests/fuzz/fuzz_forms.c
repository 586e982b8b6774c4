/* libFuzzer target: percent-coding, urlencoded forms and the Cookie header.
 *
 * Input: one byte of flags (plus-is-space, keep-slash, reject-NUL, and the
 * pair limit in the high bits), then the text. Every output is checked
 * against what the contract promises, and buffers are sized exactly so that
 * ASan notices a write one byte too far.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "forms_int.h"

/* Allocations are kept on a list so they can all be freed after a parse. */
typedef struct fuzz_alloc {
    void *blocks[4];
    size_t n;
} fuzz_alloc;

static void *fuzz_alloc_fn(void *ctx, size_t size)
{
    fuzz_alloc *a = ctx;
    if (a->n == sizeof a->blocks / sizeof a->blocks[0])
        abort(); /* a list is one allocation */
    return a->blocks[a->n++] = malloc(size);
}

static void fuzz_free(fuzz_alloc *a)
{
    while (a->n)
        free(a->blocks[--a->n]);
}

static volatile size_t fuzz_sink; /* keeps reads of the results from being dropped */

static void fuzz_check_list(const aw__kvlist *l, size_t max, int cookies)
{
    if (l->n > max || (l->n && !l->items))
        abort();
    for (size_t i = 0; i < l->n; i++) {
        fuzz_sink += strlen(l->items[i].name) + strlen(l->items[i].value);
        if (cookies && !aw__cookie_name_ok(l->items[i].name))
            abort();
        if (aw__kv_get(l, l->items[i].name) == NULL)
            abort();
    }
}

static void fuzz_lists(const char *s, size_t len, size_t max)
{
    fuzz_alloc a = {0};
    aw__kvlist l;
    int r = aw__parse_urlencoded(s, len, fuzz_alloc_fn, &a, max, &l);
    if (r == 0)
        fuzz_check_list(&l, max, 0);
    else if ((r != AW_EINVAL && r != AW_E2BIG) || a.n)
        abort(); /* refused input allocates nothing */
    fuzz_free(&a);
    r = aw__parse_cookies(s, len, fuzz_alloc_fn, &a, max, &l);
    if (r == 0)
        fuzz_check_list(&l, max, 1);
    else if (r != AW_E2BIG || a.n)
        abort();
    fuzz_free(&a);
}

static void fuzz_coding(const char *s, size_t len, int plus, int slash, int nul)
{
    char *dec = malloc(len ? len : 1);
    ssize_t n = aw__pct_decode(dec, s, len, plus, slash, nul);
    if (n != AW_EINVAL && (n < 0 || (size_t)n > len))
        abort();
    if (nul && n > 0 && memchr(dec, '\0', (size_t)n))
        abort();
    free(dec);

    /* encode, then decode: the original bytes again */
    size_t need = aw__pct_encode(NULL, 0, s, len, slash);
    char *enc = malloc(need + 1);
    if (aw__pct_encode(enc, need + 1, s, len, slash) != need || strlen(enc) != need)
        abort();
    char *back = malloc(need ? need : 1);
    n = aw__pct_decode(back, enc, need, 0, 0, 0);
    if (n < 0 || (size_t)n != len || (len && memcmp(back, s, len) != 0))
        abort();
    /* a short buffer still holds a NUL-terminated prefix of the result */
    size_t cap = need / 2 + 1;
    if (aw__pct_encode(back, cap, s, len, slash) != need || strlen(back) >= cap ||
        strncmp(back, enc, strlen(back)) != 0)
        abort();
    free(back);
    free(enc);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    int flags = data[0];
    const char *s = (const char *)data + 1;
    size_t len = size - 1;
    fuzz_lists(s, len, (size_t)(flags >> 3) * 4);
    fuzz_coding(s, len, flags & 1, flags & 2, flags & 4);

    char *z = malloc(len + 1); /* the validators take C strings */
    memcpy(z, s, len);
    z[len] = '\0';
    fuzz_sink += (size_t)aw__cookie_name_ok(z) + (size_t)aw__cookie_value_ok(z);
    free(z);
    return 0;
}
