/* Percent-coding, urlencoded pairs and the Cookie header; see forms_int.h.
 *
 * The list parsers work in two passes over the input: the first validates
 * everything and counts pairs and bytes, the second fills one allocation of
 * exactly that size. So nothing is allocated for input that is refused, the
 * allocation is bounded by the input's length, and out->items is the only
 * block (a malloc-style allocator can release the list with one free).
 */
#include "forms_int.h"

#include <stdint.h>
#include <string.h>

#include "error.h"

static int aw__hexval(unsigned char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

static int aw__tchar(unsigned char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c && strchr("!#$%&'*+-.^_`|~", c));
}

/* --- percent-decoding ------------------------------------------------------ */

/* With dst NULL this only validates and measures, which is how the list
 * parsers size their one allocation. A raw NUL is refused under reject_nul
 * like "%00": the point is a result that is safe as a C string. */
ssize_t aw__pct_decode(char *dst, const char *src, size_t len, int plus_is_space, int keep_slash,
                       int reject_nul)
{
    size_t w = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)src[i];
        if (c == '%') {
            if (len - i < 3)
                return AW_EINVAL;
            int hi = aw__hexval((unsigned char)src[i + 1]);
            int lo = aw__hexval((unsigned char)src[i + 2]);
            if (hi < 0 || lo < 0)
                return AW_EINVAL;
            c = (unsigned char)(hi << 4 | lo);
            if ((c == '/' || c == '%') && keep_slash) {
                /* "%2F" stays encoded so the path splits into segments as
                 * sent, and "%25" too, or "%252F" would become a "%2F" that
                 * looks kept. Copied byte by byte: in place, w never passes i */
                if (dst) {
                    dst[w] = src[i];
                    dst[w + 1] = src[i + 1];
                    dst[w + 2] = src[i + 2];
                }
                w += 3;
                i += 2;
                continue;
            }
            i += 2;
        } else if (c == '+' && plus_is_space) {
            c = ' ';
        }
        if (c == 0 && reject_nul)
            return AW_EINVAL;
        if (dst)
            dst[w] = (char)c;
        w++;
    }
    return (ssize_t)w;
}

static int aw__unreserved(unsigned char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '-' ||
           c == '.' || c == '_' || c == '~';
}

/* An escape is written whole or not at all, so a truncated result never ends
 * in half of one. */
size_t aw__pct_encode(char *dst, size_t cap, const char *src, size_t len, int keep_slash)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t need = 0, w = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)src[i];
        int plain = aw__unreserved(c) || (c == '/' && keep_slash);
        size_t n = plain ? 1 : 3;
        if (need + n < cap) {
            if (plain) {
                dst[w++] = (char)c;
            } else {
                dst[w++] = '%';
                dst[w++] = hex[c >> 4];
                dst[w++] = hex[c & 15];
            }
        }
        need += n;
    }
    if (cap)
        dst[w] = '\0';
    return need;
}

/* --- pair lists ------------------------------------------------------------ */

/* One pair as found in the input, before decoding. */
typedef struct aw__rawkv {
    const char *name, *value;
    size_t name_len, value_len;
} aw__rawkv;

/* The list parsers differ only in how they find pairs and decode them. */
typedef struct aw__kvsyntax {
    /* Finds the next pair at or after *off: 1 with kv set, 0 at the end. */
    int (*next)(const char *s, size_t len, size_t *off, aw__rawkv *kv);
    /* Decodes into dst (NULL: only measure); decoded length or AW_EINVAL. */
    ssize_t (*decode)(char *dst, const char *src, size_t len);
} aw__kvsyntax;

static int aw__kvlist_parse(const aw__kvsyntax *syn, const char *s, size_t len, aw__alloc_fn alloc,
                            void *ctx, size_t max_pairs, aw__kvlist *out)
{
    aw__rawkv kv;
    size_t off = 0, n = 0, bytes = 0;
    out->items = NULL;
    out->n = 0;
    while (syn->next(s, len, &off, &kv)) {
        if (++n > max_pairs)
            return AW_E2BIG;
        ssize_t a = syn->decode(NULL, kv.name, kv.name_len);
        ssize_t b = syn->decode(NULL, kv.value, kv.value_len);
        if (a < 0 || b < 0)
            return AW_EINVAL;
        bytes += (size_t)a + (size_t)b + 2; /* decoded bytes never exceed len */
    }
    if (!n)
        return 0;
    if (n > (SIZE_MAX - bytes) / sizeof(aw__kv))
        return AW_ENOMEM;
    aw__kv *items = alloc(ctx, n * sizeof(aw__kv) + bytes);
    if (!items)
        return AW_ENOMEM;
    char *p = (char *)(items + n);
    off = 0;
    for (size_t i = 0; i < n; i++) {
        syn->next(s, len, &off, &kv);
        items[i].name = p;
        p += syn->decode(p, kv.name, kv.name_len);
        *p++ = '\0';
        items[i].value = p;
        p += syn->decode(p, kv.value, kv.value_len);
        *p++ = '\0';
    }
    out->items = items;
    out->n = n;
    return 0;
}

static int aw__urlencoded_next(const char *s, size_t len, size_t *off, aw__rawkv *kv)
{
    while (*off < len) {
        const char *seg = s + *off;
        const char *amp = memchr(seg, '&', len - *off);
        size_t seg_len = amp ? (size_t)(amp - seg) : len - *off;
        *off += seg_len + (amp != NULL);
        if (!seg_len)
            continue;
        const char *eq = memchr(seg, '=', seg_len);
        kv->name = seg;
        kv->name_len = eq ? (size_t)(eq - seg) : seg_len;
        kv->value = eq ? eq + 1 : seg + seg_len;
        kv->value_len = seg_len - kv->name_len - (eq != NULL);
        return 1;
    }
    return 0;
}

/* Decoded pairs become C strings, so "%00" is refused rather than letting
 * "a.txt%00.jpg" turn into a shorter string than the one that was checked. */
static ssize_t aw__form_decode(char *dst, const char *src, size_t len)
{
    return aw__pct_decode(dst, src, len, 1, 0, 1);
}

int aw__parse_urlencoded(const char *s, size_t len, aw__alloc_fn alloc, void *ctx, size_t max_pairs,
                         aw__kvlist *out)
{
    static const aw__kvsyntax syn = {aw__urlencoded_next, aw__form_decode};
    return aw__kvlist_parse(&syn, s, len, alloc, ctx, max_pairs, out);
}

const char *aw__kv_get(const aw__kvlist *l, const char *name)
{
    for (size_t i = 0; i < l->n; i++)
        if (strcmp(l->items[i].name, name) == 0)
            return l->items[i].value;
    return NULL;
}

/* Like aw_headers_get_all: stores at most cap values and returns how many
 * there are, so a result > cap means some were left out. */
size_t aw__kv_get_all(const aw__kvlist *l, const char *name, const char **out, size_t cap)
{
    size_t n = 0;
    for (size_t i = 0; i < l->n; i++)
        if (strcmp(l->items[i].name, name) == 0) {
            if (n < cap)
                out[n] = l->items[i].value;
            n++;
        }
    return n;
}

/* --- cookies --------------------------------------------------------------- */

static void aw__trim(const char **p, size_t *len)
{
    while (*len && (**p == ' ' || **p == '\t')) {
        (*p)++;
        (*len)--;
    }
    while (*len && ((*p)[*len - 1] == ' ' || (*p)[*len - 1] == '\t'))
        (*len)--;
}

static int aw__token_ok(const char *s, size_t len)
{
    if (!len)
        return 0;
    for (size_t i = 0; i < len; i++)
        if (!aw__tchar((unsigned char)s[i]))
            return 0;
    return 1;
}

/* Browsers send whatever scripts stored, so values are taken leniently (any
 * byte but controls); only a pair that could not be a cookie at all is
 * skipped, never the whole header, so one odd cookie cannot hide the rest. */
static int aw__cookie_pair_ok(const aw__rawkv *kv)
{
    if (!aw__token_ok(kv->name, kv->name_len))
        return 0;
    for (size_t i = 0; i < kv->value_len; i++) {
        unsigned char c = (unsigned char)kv->value[i];
        if (c < 0x20 || c == 0x7f)
            return 0;
    }
    return 1;
}

static int aw__cookie_next(const char *s, size_t len, size_t *off, aw__rawkv *kv)
{
    while (*off < len) {
        const char *seg = s + *off;
        const char *semi = memchr(seg, ';', len - *off);
        size_t seg_len = semi ? (size_t)(semi - seg) : len - *off;
        *off += seg_len + (semi != NULL);
        const char *eq = memchr(seg, '=', seg_len);
        if (!eq)
            continue;
        kv->name = seg;
        kv->name_len = (size_t)(eq - seg);
        kv->value = eq + 1;
        kv->value_len = seg_len - kv->name_len - 1;
        aw__trim(&kv->name, &kv->name_len);
        aw__trim(&kv->value, &kv->value_len);
        if (kv->value_len >= 2 && kv->value[0] == '"' && kv->value[kv->value_len - 1] == '"') {
            kv->value++;
            kv->value_len -= 2;
        }
        if (aw__cookie_pair_ok(kv))
            return 1;
    }
    return 0;
}

static ssize_t aw__cookie_copy(char *dst, const char *src, size_t len)
{
    if (dst)
        memcpy(dst, src, len);
    return (ssize_t)len;
}

int aw__parse_cookies(const char *s, size_t len, aw__alloc_fn alloc, void *ctx, size_t max_pairs,
                      aw__kvlist *out)
{
    static const aw__kvsyntax syn = {aw__cookie_next, aw__cookie_copy};
    return aw__kvlist_parse(&syn, s, len, alloc, ctx, max_pairs, out);
}

int aw__cookie_name_ok(const char *name) { return name && aw__token_ok(name, strlen(name)); }

/* RFC 6265 cookie-octet: no controls, whitespace, DQUOTE, comma, semicolon or
 * backslash, so the value can neither end the header nor the attribute. */
static int aw__cookie_octet(unsigned char c)
{
    return c == 0x21 || (c >= 0x23 && c <= 0x2b) || (c >= 0x2d && c <= 0x3a) ||
           (c >= 0x3c && c <= 0x5b) || (c >= 0x5d && c <= 0x7e);
}

int aw__cookie_value_ok(const char *value)
{
    if (!value)
        return 0;
    size_t len = strlen(value);
    if (len >= 2 && value[0] == '"' && value[len - 1] == '"') { /* the quoted form */
        value++;
        len -= 2;
    }
    for (size_t i = 0; i < len; i++)
        if (!aw__cookie_octet((unsigned char)value[i]))
            return 0;
    return 1;
}
