/* HTTP header lists; see headers.h. */
#include "headers.h"

#include <string.h>
#include <strings.h>

#include "error.h"

void aw_headers_init(aw_headers *h, aw_arena *arena)
{
    memset(h, 0, sizeof *h);
    h->arena = arena;
}

/* RFC 9110 tchar: ALPHA, DIGIT and !#$%&'*+-.^_`|~ */
static const unsigned char aw__tchar[256] = {
    ['!'] = 1, ['#'] = 1, ['$'] = 1, ['%'] = 1, ['&'] = 1, ['\''] = 1, ['*'] = 1, ['+'] = 1,
    ['-'] = 1, ['.'] = 1, ['^'] = 1, ['_'] = 1, ['`'] = 1, ['|'] = 1, ['~'] = 1,
    ['0'] = 1, ['1'] = 1, ['2'] = 1, ['3'] = 1, ['4'] = 1, ['5'] = 1, ['6'] = 1, ['7'] = 1,
    ['8'] = 1, ['9'] = 1,
    ['A'] = 1, ['B'] = 1, ['C'] = 1, ['D'] = 1, ['E'] = 1, ['F'] = 1, ['G'] = 1, ['H'] = 1,
    ['I'] = 1, ['J'] = 1, ['K'] = 1, ['L'] = 1, ['M'] = 1, ['N'] = 1, ['O'] = 1, ['P'] = 1,
    ['Q'] = 1, ['R'] = 1, ['S'] = 1, ['T'] = 1, ['U'] = 1, ['V'] = 1, ['W'] = 1, ['X'] = 1,
    ['Y'] = 1, ['Z'] = 1,
    ['a'] = 1, ['b'] = 1, ['c'] = 1, ['d'] = 1, ['e'] = 1, ['f'] = 1, ['g'] = 1, ['h'] = 1,
    ['i'] = 1, ['j'] = 1, ['k'] = 1, ['l'] = 1, ['m'] = 1, ['n'] = 1, ['o'] = 1, ['p'] = 1,
    ['q'] = 1, ['r'] = 1, ['s'] = 1, ['t'] = 1, ['u'] = 1, ['v'] = 1, ['w'] = 1, ['x'] = 1,
    ['y'] = 1, ['z'] = 1,
};

int aw_http_token_ok(const char *s, size_t len)
{
    if (!len)
        return 0;
    for (size_t i = 0; i < len; i++)
        if (!aw__tchar[(unsigned char)s[i]])
            return 0;
    return 1;
}

/* RFC 9110 5.5: no control characters in a field value but HTAB. CR and LF
 * would split the response; the others are refused as the server refuses
 * them in requests, so no client has to guess what they mean. */
static int aw__value_ok(const char *v)
{
    for (; *v; v++)
        if (((unsigned char)*v < 0x20 && *v != '\t') || *v == 0x7f)
            return 0;
    return 1;
}

const char *aw_headers_get(const aw_headers *h, const char *name)
{
    size_t len = strlen(name);
    for (size_t i = 0; i < h->n; i++)
        if (h->items[i].name_len == len && strcasecmp(h->items[i].name, name) == 0)
            return h->items[i].value;
    return NULL;
}

size_t aw_headers_get_all(const aw_headers *h, const char *name, const char **out, size_t cap)
{
    size_t len = strlen(name), n = 0;
    for (size_t i = 0; i < h->n; i++)
        if (h->items[i].name_len == len && strcasecmp(h->items[i].name, name) == 0) {
            if (n < cap)
                out[n] = h->items[i].value;
            n++;
        }
    return n;
}

size_t aw_headers_count(const aw_headers *h) { return h->n; }

const aw_header *aw_headers_at(const aw_headers *h, size_t i) { return i < h->n ? &h->items[i] : NULL; }

int aw_headers_has_token(const aw_headers *h, const char *name, const char *token)
{
    size_t nlen = strlen(name), tlen = strlen(token);
    for (size_t i = 0; i < h->n; i++) {
        if (h->items[i].name_len != nlen || strcasecmp(h->items[i].name, name) != 0)
            continue;
        const char *p = h->items[i].value;
        while (*p) {
            while (*p == ' ' || *p == '\t' || *p == ',')
                p++;
            const char *start = p;
            while (*p && *p != ',')
                p++;
            const char *end = p;
            while (end > start && (end[-1] == ' ' || end[-1] == '\t'))
                end--;
            if ((size_t)(end - start) == tlen && strncasecmp(start, token, tlen) == 0)
                return 1;
        }
    }
    return 0;
}

/* Appends without checks: for the parser, whose input llhttp validated. */
int aw__headers_append(aw_headers *h, const char *name, size_t name_len, const char *value,
                       size_t value_len)
{
    if (h->n == h->cap) {
        size_t cap = h->cap ? h->cap * 2 : 16;
        aw_header *items = aw_arena_grow(h->arena, h->items, h->cap * sizeof *items,
                                         cap * sizeof *items);
        if (!items)
            return AW_ENOMEM;
        h->items = items;
        h->cap = cap;
    }
    h->items[h->n++] = (aw_header){name, value, name_len, value_len};
    return 0;
}

int aw_headers_add(aw_headers *h, const char *name, const char *value)
{
    size_t nlen = strlen(name), vlen = strlen(value);
    if (!aw_http_token_ok(name, nlen) || !aw__value_ok(value))
        return AW_EINVAL;
    const char *n = aw_arena_strndup(h->arena, name, nlen);
    const char *v = aw_arena_strndup(h->arena, value, vlen);
    if (!n || !v)
        return AW_ENOMEM;
    return aw__headers_append(h, n, nlen, v, vlen);
}

int aw_headers_del(aw_headers *h, const char *name)
{
    size_t len = strlen(name), j = 0;
    for (size_t i = 0; i < h->n; i++)
        if (!(h->items[i].name_len == len && strcasecmp(h->items[i].name, name) == 0))
            h->items[j++] = h->items[i];
    h->n = j;
    return 0;
}

int aw_headers_set(aw_headers *h, const char *name, const char *value)
{
    if (!aw_http_token_ok(name, strlen(name)) || !aw__value_ok(value))
        return AW_EINVAL;
    aw_headers_del(h, name);
    return aw_headers_add(h, name, value);
}
