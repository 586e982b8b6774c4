/* HTTP header lists: ordered, multi-valued, case-insensitive names
 * (aiohttp's CIMultiDict).
 *
 * Names and values are NUL-terminated strings in an arena (the request's, for
 * request and response headers). Adding refuses values with CR, LF or NUL
 * and names that are not tokens, so a header built from user input can never
 * split a response.
 *
 * Lifetime: the list belongs to its request or response; strings returned are
 * valid as long as the arena is.
 */
#ifndef AW_HEADERS_H
#define AW_HEADERS_H

#include <stddef.h>

#include "arena.h"

typedef struct aw_header {
    const char *name, *value;
    size_t name_len, value_len;
} aw_header;

typedef struct aw_headers {
    aw_header *items;
    size_t n, cap;
    aw_arena *arena;
} aw_headers;

void aw_headers_init(aw_headers *h, aw_arena *arena);

/* The first value of name, or NULL. */
const char *aw_headers_get(const aw_headers *h, const char *name);
/* Every value of name, in order, into out (at most cap); returns how many. */
size_t aw_headers_get_all(const aw_headers *h, const char *name, const char **out, size_t cap);
size_t aw_headers_count(const aw_headers *h);
const aw_header *aw_headers_at(const aw_headers *h, size_t i);
/* Whether any value of name contains token (comma-separated, case-insensitive),
 * as in "Connection: keep-alive, Upgrade". */
int aw_headers_has_token(const aw_headers *h, const char *name, const char *token);

/* Add another value / replace every value / remove every value. Return 0,
 * AW_EINVAL (a bad name, or CR/LF/NUL in the value), AW_ENOMEM. */
int aw_headers_add(aw_headers *h, const char *name, const char *value);
int aw_headers_set(aw_headers *h, const char *name, const char *value);
int aw_headers_del(aw_headers *h, const char *name);

/* Whether s is an HTTP token (a valid header name, method...). */
int aw_http_token_ok(const char *s, size_t len);

#endif
