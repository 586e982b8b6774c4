/* Parsers for what clients send besides the head (internal to http/):
 * percent-decoding, query strings and urlencoded forms, the Cookie header,
 * and streamed multipart/form-data. All of them take untrusted bytes: they
 * never read past what they are given, never allocate without bound, and
 * fail cleanly on malformed input.
 */
#ifndef AW_FORMS_INT_H
#define AW_FORMS_INT_H

#include <stddef.h>
#include <sys/types.h>

/* --- percent-decoding --- */

/* Decodes %XX escapes (and '+' as space when plus_is_space) from src into dst
 * (which may be src: decoding never grows; dst NULL only measures). Does not
 * NUL-terminate. Returns the decoded length, or AW_EINVAL for a malformed
 * escape ("%zz", "%4" at the end). If keep_slash, "%2F" and "%25" stay
 * encoded (the router must not see an encoded '/' as a separator, and a
 * decoded '%' must not be mistaken for one that was kept): decoding the
 * result again without keep_slash gives the fully decoded text. If
 * reject_nul, "%00" and a raw NUL are AW_EINVAL. */
ssize_t aw__pct_decode(char *dst, const char *src, size_t len, int plus_is_space,
                       int keep_slash, int reject_nul);

/* Encodes src for a path segment or a query value: everything but
 * unreserved characters (A-Z a-z 0-9 - . _ ~) is escaped; with keep_slash '/'
 * stays. Writes at most cap bytes (NUL-terminated); returns the full length it
 * needed (so a result >= cap means it did not fit). */
size_t aw__pct_encode(char *dst, size_t cap, const char *src, size_t len, int keep_slash);

/* --- query strings and urlencoded forms (name=value&name=value) --- */

typedef struct aw__kv {
    char *name, *value; /* decoded, NUL-terminated */
} aw__kv;

/* A multi-valued, ordered list of pairs, allocated with the given allocator
 * (the request's arena: freed with it). */
typedef struct aw__kvlist {
    aw__kv *items;
    size_t n;
} aw__kvlist;

typedef void *(*aw__alloc_fn)(void *ctx, size_t size);

/* Parses "a=1&b=2&a=3" (also ';' as separator is NOT accepted: only '&').
 * A name without '=' has an empty value; empty pairs ("a=1&&b=2") are skipped;
 * '+' is a space. At most max_pairs pairs: more is AW_E2BIG. Malformed
 * escapes are AW_EINVAL. */
int aw__parse_urlencoded(const char *s, size_t len, aw__alloc_fn alloc, void *ctx,
                         size_t max_pairs, aw__kvlist *out);

/* First value of name (exact, case-sensitive), or NULL; all values into out
 * (at most cap; the return value is the total number of matches). */
const char *aw__kv_get(const aw__kvlist *l, const char *name);
size_t aw__kv_get_all(const aw__kvlist *l, const char *name, const char **out, size_t cap);

/* --- cookies --- */

/* Parses a Cookie header ("a=1; b=2"), RFC 6265 style: names are tokens,
 * values may be quoted (quotes removed), no percent-decoding. Pairs without
 * '=' are skipped. Same allocation and limit rules as above. */
int aw__parse_cookies(const char *s, size_t len, aw__alloc_fn alloc, void *ctx,
                      size_t max_pairs, aw__kvlist *out);

/* Whether a cookie name is a valid token and a value has only cookie-octets
 * (so a Set-Cookie header built from them cannot be split or injected). */
int aw__cookie_name_ok(const char *name);
int aw__cookie_value_ok(const char *value);

/* --- multipart/form-data, streamed --- */

/* Gets the boundary parameter out of a Content-Type value such as
 * `multipart/form-data; boundary="----x"`. Returns the length copied into
 * buf (NUL-terminated), AW_EINVAL (not multipart/form-data, no boundary,
 * boundary longer than 70 bytes, or empty) or AW_ENOBUFS (cap too small). */
int aw__multipart_boundary(const char *content_type, char *buf, size_t cap);

/* The reader pulls body bytes through `read` (which returns a count, 0 at the
 * end of the body, or a negative AW_E* code) and never holds more than its own
 * fixed buffer: a part's content can be any size. */
typedef ssize_t (*aw__read_fn)(void *ctx, void *buf, size_t len);

typedef struct aw__multipart aw__multipart;

/* Limits: header bytes per part, parts per body. */
#define AW__MP_MAX_PART_HEAD 8192
#define AW__MP_MAX_PARTS 1000

/* NULL for a bad boundary, a NULL read, or memory exhaustion. The reader
 * stops at the closing boundary: what follows (the epilogue) is the caller's
 * to discard. read returns 0 at the end of the body (not AW_EOF). Filenames
 * are returned as sent and may hold "../" or "C:\": never use one as a path. */
aw__multipart *aw__multipart_new(const char *boundary, aw__read_fn read, void *ctx);
void aw__multipart_free(aw__multipart *m);

/* Advances to the next part (skipping whatever is left of the current one).
 * Returns 1 with a part ready, 0 after the closing boundary, or AW_EINVAL
 * (malformed: bad boundary line, part head too large or malformed, missing
 * Content-Disposition name, too many parts, body ended early) or the read
 * function's error. */
int aw__multipart_next(aw__multipart *m);

/* The current part's form field name, filename (NULL if none), and header
 * value (case-insensitive name; NULL if absent). Valid until the next
 * aw__multipart_next. Content-Disposition parameters may be quoted; the
 * RFC 5987 filename* form is decoded if it is UTF-8. */
const char *aw__multipart_name(const aw__multipart *m);
const char *aw__multipart_filename(const aw__multipart *m);
const char *aw__multipart_header(const aw__multipart *m, const char *name);

/* Reads the current part's content: a count, 0 at the part's end, or an
 * error as above. */
ssize_t aw__multipart_read(aw__multipart *m, void *buf, size_t len);

#endif
