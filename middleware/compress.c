/* Response compression: choosing a coding, whole bodies, streamed bodies
 * through a body filter, and a pool of zlib streams. See compress.h. */
#include "compress.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <zlib.h>

#include "log.h"
#include "mw_int.h"

enum { AW__CZ_NONE, AW__CZ_GZIP, AW__CZ_DEFLATE };

/* Idle zlib streams kept per coding: deflateInit allocates about 256 KiB,
 * which a request should not pay for; deflateReset keeps them. */
#define AW__CZ_POOL 8
/* The output buffer of a streamed body. */
#define AW__CZ_OUT (16 * 1024)

typedef struct aw__ctype {
    char *prefix, *suffix; /* around the star: "text/" and "" for text/ANY;
                              suffix NULL: no star, an exact type */
    size_t plen, slen;
} aw__ctype;

struct aw_compress {
    aw_compress_opts o;
    char *types; /* owned copy of o.types */
    aw__ctype *pats;
    size_t npats;
    z_stream *pool[2][AW__CZ_POOL];
    size_t npool[2];
};

/* A request's compression, in its arena: the filter and what it holds. */
typedef struct aw__cz {
    aw_body_filter f;
    aw_compress *c;
    aw_request *req;
    int coding; /* -1 until Accept-Encoding is read */
    z_stream *z;
    unsigned char *out;
} aw__cz;

void aw_compress_opts_default(aw_compress_opts *o)
{
    *o = (aw_compress_opts){.level = 6, .min_size = 1024, .types = NULL, .gzip = 1, .deflate = 1};
}

/* --- zlib streams ------------------------------------------------------------- */

static z_stream *aw__z_get(aw_compress *c, int coding)
{
    size_t k = (size_t)coding - 1;
    if (c->npool[k])
        return c->pool[k][--c->npool[k]];
    z_stream *z = calloc(1, sizeof *z);
    /* 15 + 16: a gzip wrapper; 15: zlib's, which is what HTTP calls deflate */
    if (z && deflateInit2(z, c->o.level, Z_DEFLATED, coding == AW__CZ_GZIP ? 31 : 15, 8,
                          Z_DEFAULT_STRATEGY) != Z_OK) {
        free(z);
        z = NULL;
    }
    return z;
}

static void aw__z_put(aw_compress *c, z_stream *z, int coding)
{
    size_t k = (size_t)coding - 1;
    if (c->npool[k] < AW__CZ_POOL && deflateReset(z) == Z_OK) {
        c->pool[k][c->npool[k]++] = z;
        return;
    }
    deflateEnd(z);
    free(z);
}

static void aw__z_drain(aw_compress *c)
{
    for (int k = 0; k < 2; k++)
        while (c->npool[k]) {
            z_stream *z = c->pool[k][--c->npool[k]];
            deflateEnd(z);
            free(z);
        }
}

/* --- which responses, which coding ---------------------------------------------- */

/* A q-value ("1", "0.5", "0.001") in thousandths, or -1. */
static int aw__qvalue(const char *s, size_t n)
{
    if (!n || (s[0] != '0' && s[0] != '1'))
        return -1;
    int q = (s[0] - '0') * 1000, scale = 100;
    if (n > 1 && (s[1] != '.' || n > 5))
        return -1;
    for (size_t i = 2; i < n; i++, scale /= 10) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        q += (s[i] - '0') * scale;
    }
    return q > 1000 ? -1 : q;
}

/* The coding to use for an Accept-Encoding value: gzip on a tie. */
static int aw__choose(const aw_compress *c, const char *ae)
{
    if (!ae)
        return AW__CZ_NONE;
    int qg = -1, qd = -1, qi = -1, qs = -1;
    const char *p = ae, *item;
    size_t n;
    while ((n = aw__mw_list_next(&p, &item))) {
        const char *semi = memchr(item, ';', n), *end = semi ? semi : item + n;
        while (end > item && (end[-1] == ' ' || end[-1] == '\t'))
            end--;
        size_t nlen = (size_t)(end - item);
        int q = 1000;
        for (const char *s = semi; s && s < item + n;) {
            s++;
            while (s < item + n && (*s == ' ' || *s == '\t'))
                s++;
            const char *e = memchr(s, ';', (size_t)(item + n - s));
            size_t plen = (size_t)((e ? e : item + n) - s);
            while (plen && (s[plen - 1] == ' ' || s[plen - 1] == '\t'))
                plen--;
            if (plen >= 2 && (s[0] == 'q' || s[0] == 'Q') && s[1] == '=')
                q = aw__qvalue(s + 2, plen - 2);
            s = e;
        }
        if (q < 0)
            continue; /* a malformed entry says nothing */
        int *slot = (nlen == 4 && !strncasecmp(item, "gzip", 4)) ||
                            (nlen == 6 && !strncasecmp(item, "x-gzip", 6))
                        ? &qg
                    : nlen == 7 && !strncasecmp(item, "deflate", 7)  ? &qd
                    : nlen == 8 && !strncasecmp(item, "identity", 8) ? &qi
                    : nlen == 1 && item[0] == '*'                    ? &qs
                                                                     : NULL;
        if (slot && *slot < 0)
            *slot = q;
    }
    if (qg < 0)
        qg = qs > 0 ? qs : 0;
    if (qd < 0)
        qd = qs > 0 ? qs : 0;
    if (!c->o.gzip)
        qg = 0;
    if (!c->o.deflate)
        qd = 0;
    int best = qg >= qd ? qg : qd;
    if (best <= 0 || qi > best)
        return AW__CZ_NONE;
    return qg >= qd ? AW__CZ_GZIP : AW__CZ_DEFLATE;
}

static int aw__type_ok(const aw_compress *c, const char *ct)
{
    size_t n = strcspn(ct, "; \t");
    for (size_t i = 0; i < c->npats; i++) {
        const aw__ctype *t = &c->pats[i];
        if (!t->suffix) {
            if (n == t->plen && !strncasecmp(ct, t->prefix, n))
                return 1;
        } else if (n >= t->plen + t->slen && !strncasecmp(ct, t->prefix, t->plen) &&
                   !strncasecmp(ct + n - t->slen, t->suffix, t->slen)) {
            return 1;
        }
    }
    return 0;
}

/* Whether r's body may be compressed; len: its length, -1 if unknown. */
static int aw__eligible(const aw_compress *c, aw_response *r, int64_t len)
{
    int status = aw_response_status(r);
    if (status < 200 || status == 204 || status == 206 || status == 304)
        return 0;
    if (len >= 0 && (uint64_t)len < c->o.min_size)
        return 0;
    aw_headers *h = aw_response_headers(r);
    const char *ct = aw_headers_get(h, "Content-Type");
    return ct && aw__type_ok(c, ct) && !aw_headers_get(h, "Content-Encoding") &&
           !aw_headers_get(h, "Content-Range") &&
           !aw_headers_has_token(h, "Cache-Control", "no-transform");
}

/* Caches must key the response on Accept-Encoding. */
static void aw__vary(aw_request *req, aw_response *r)
{
    aw_headers *h = aw_response_headers(r);
    const char *v = aw_headers_get(h, "Vary");
    if (!v) {
        aw_headers_add(h, "Vary", "Accept-Encoding");
        return;
    }
    if (aw__mw_list_has(v, "*", 1, 0) || aw__mw_list_has(v, "Accept-Encoding", 15, 1))
        return;
    size_t n = strlen(v) + 18;
    char *nv = aw_request_alloc(req, n);
    if (nv) {
        snprintf(nv, n, "%s, Accept-Encoding", v);
        aw_headers_set(h, "Vary", nv);
    }
}

/* The headers of a body now in coding. */
static void aw__mark(aw_request *req, aw_response *r, int coding)
{
    aw_headers *h = aw_response_headers(r);
    aw_headers_add(h, "Content-Encoding", coding == AW__CZ_GZIP ? "gzip" : "deflate");
    aw_headers_del(h, "Accept-Ranges"); /* ranges of the coded body are not offered */
    const char *etag = aw_headers_get(h, "ETag");
    if (etag && etag[0] == '"') {
        /* the bytes differ from the identity body's: no longer a strong match */
        size_t n = strlen(etag) + 3;
        char *weak = aw_request_alloc(req, n);
        if (weak) {
            snprintf(weak, n, "W/%s", etag);
            aw_headers_set(h, "ETag", weak);
        }
    }
}

static int aw__cz_coding(aw__cz *cz)
{
    if (cz->coding < 0)
        cz->coding = aw__choose(cz->c, aw_request_header(cz->req, "Accept-Encoding"));
    return cz->coding;
}

/* --- streamed bodies -------------------------------------------------------------- */

static int aw__cz_start(aw_response *r, void *arg)
{
    aw__cz *cz = arg;
    if (!aw__eligible(cz->c, r, aw_response_content_length(r)))
        return 0;
    aw__vary(cz->req, r);
    int coding = aw__cz_coding(cz);
    if (!coding)
        return 0;
    if (strcmp(aw_request_method(cz->req), "HEAD")) {
        cz->out = aw_request_alloc(cz->req, AW__CZ_OUT);
        if (!cz->out || !(cz->z = aw__z_get(cz->c, coding)))
            return 0; /* out of memory: send it as it is */
    }
    aw__mark(cz->req, r, coding);
    return 1;
}

static int aw__cz_write(aw_response *r, const void *data, size_t len, int last, void *arg)
{
    aw__cz *cz = arg;
    z_stream *z = cz->z;
    if (!z)
        return AW_EPIPE; /* finished, or the handler returned */
    z->next_in = (unsigned char *)(uintptr_t)data;
    z->avail_in = (uInt)len;
    int rc = 0, zr;
    /* each write flushed: a streamed piece (an SSE event) must be readable now */
    do {
        z->next_out = cz->out;
        z->avail_out = AW__CZ_OUT;
        zr = deflate(z, last ? Z_FINISH : Z_SYNC_FLUSH);
        size_t n = AW__CZ_OUT - z->avail_out;
        if (zr == Z_STREAM_ERROR)
            rc = AW_EPROTO;
        else if (n)
            rc = aw_response_write_raw(r, cz->out, n);
    } while (!rc && z->avail_out == 0);
    if (last || rc) {
        aw__z_put(cz->c, z, cz->coding);
        cz->z = NULL;
    }
    return rc;
}

/* --- whole bodies ----------------------------------------------------------------- */

static void aw__compress_whole(aw__cz *cz, aw_response *r)
{
    size_t len;
    const char *body = aw_response_body(r, &len);
    if (!body || !aw__eligible(cz->c, r, (int64_t)len))
        return;
    aw__vary(cz->req, r);
    int coding = aw__cz_coding(cz);
    z_stream *z = coding ? aw__z_get(cz->c, coding) : NULL;
    if (!z)
        return;
    uLong cap = deflateBound(z, (uLong)len);
    unsigned char *out = aw_request_alloc(cz->req, cap);
    int zr = Z_BUF_ERROR;
    if (out) {
        z->next_in = (unsigned char *)(uintptr_t)body;
        z->avail_in = (uInt)len;
        z->next_out = out;
        z->avail_out = (uInt)cap;
        zr = deflate(z, Z_FINISH);
    }
    size_t n = (size_t)(cap - z->avail_out);
    aw__z_put(cz->c, z, coding);
    if (zr != Z_STREAM_END || aw_response_set_body(r, out, n))
        return; /* sent as it is */
    aw__mark(cz->req, r, coding);
}

/* --- the middleware ----------------------------------------------------------------- */

static aw_response *aw__compress_mw(aw_request *req, aw_next *next, void *arg)
{
    aw_compress *c = arg;
    if (aw_request_header(req, "Upgrade"))
        return aw_next_call(next, req); /* a WebSocket's bytes are its own to deflate */
    aw__cz *cz = aw_request_alloc(req, sizeof *cz);
    if (!cz)
        return aw_next_call(next, req);
    *cz = (aw__cz){.f = {aw__cz_start, aw__cz_write, cz}, .c = c, .req = req, .coding = -1};
    aw_request_set_body_filter(req, &cz->f);
    aw_response *r = aw_next_call(next, req);
    if (cz->z) {
        /* streamed, and the handler returned without write_eof */
        aw__z_put(c, cz->z, cz->coding);
        cz->z = NULL;
    }
    if (!aw_request_response(req))
        aw_request_set_body_filter(req, NULL); /* nothing streamed: the filter is done */
    if (r && !aw_request_response(req))
        aw__compress_whole(cz, r);
    return r;
}

/* --- options and state --------------------------------------------------------------- */

static void aw__types_free(aw_compress *c)
{
    for (size_t i = 0; i < c->npats; i++)
        free(c->pats[i].prefix);
    free(c->pats);
    c->pats = NULL;
    c->npats = 0;
}

/* Parses a list of type patterns into c (replacing its list). */
static int aw__types_set(aw_compress *c, const char *list, char *err, size_t errlen)
{
    aw__ctype *pats = NULL;
    size_t n = 0;
    const char *p = list, *item;
    size_t len;
    int rc = 0;
    while (!rc && (len = aw__mw_list_next(&p, &item))) {
        const char *star = memchr(item, '*', len), *slash = memchr(item, '/', len);
        if (!slash || (star && memchr(star + 1, '*', (size_t)(item + len - star - 1))) ||
            memchr(item, ' ', len) || memchr(item, ';', len)) {
            rc = aw__mw_refuse(err, errlen, "'%.*s' is not a type/subtype with at most one '*'",
                               (int)len, item);
            break;
        }
        aw__ctype *g = realloc(pats, (n + 1) * sizeof *g);
        char *copy = g ? strndup(item, len) : NULL;
        if (g)
            pats = g;
        if (!copy) {
            rc = AW_ENOMEM;
            break;
        }
        aw__ctype *t = &pats[n++];
        t->prefix = copy;
        if (star) {
            size_t at = (size_t)(star - item);
            copy[at] = 0;
            t->plen = at;
            t->suffix = copy + at + 1;
            t->slen = len - at - 1;
        } else {
            t->plen = len;
            t->suffix = NULL;
            t->slen = 0;
        }
    }
    if (rc) {
        for (size_t i = 0; i < n; i++)
            free(pats[i].prefix);
        free(pats);
        return rc;
    }
    aw__types_free(c);
    c->pats = pats;
    c->npats = n;
    return 0;
}

static void aw__compress_free(void *arg)
{
    aw_compress *c = arg;
    aw__z_drain(c);
    aw__types_free(c);
    free(c->types);
    free(c);
}

int aw_compress_config(void *state, const char *key, const char *value, char *err,
                       size_t errlen)
{
    aw_compress *c = state;
    if (!strcmp(key, "level")) {
        char *end;
        long v = strtol(value, &end, 10);
        if (end == value || *end || v < 1 || v > 9)
            return aw__mw_refuse(err, errlen, "level is 1 to 9, not '%s'", value);
        aw__z_drain(c); /* pooled streams have the old level */
        c->o.level = (int)v;
        return 0;
    }
    if (!strcmp(key, "min_size")) {
        size_t v;
        if (aw_parse_size(value, &v))
            return aw__mw_refuse(err, errlen, "min_size is a size (1K), not '%s'", value);
        c->o.min_size = v;
        return 0;
    }
    if (!strcmp(key, "types")) {
        int rc = aw__types_set(c, value, err, errlen);
        if (!rc && !(rc = aw__mw_set_str(&c->types, value)))
            c->o.types = c->types;
        return rc;
    }
    if (!strcmp(key, "gzip") || !strcmp(key, "deflate")) {
        int on;
        if (aw_parse_bool(value, &on))
            return aw__mw_refuse(err, errlen, "%s takes on or off, not '%s'", key, value);
        *(key[0] == 'g' ? &c->o.gzip : &c->o.deflate) = on;
        return 0;
    }
    return aw__mw_refuse(err, errlen, "unknown key '%s' in [compress]", key);
}

aw_compress *aw_compress_use(aw_app *app, const aw_compress_opts *o)
{
    aw_compress *c = calloc(1, sizeof *c);
    char err[256] = "out of memory";
    if (!c)
        return NULL;
    if (o)
        c->o = *o;
    else
        aw_compress_opts_default(&c->o);
    const char *types = c->o.types ? c->o.types : AW_COMPRESS_TYPES;
    if (c->o.level < 1 || c->o.level > 9 || aw__types_set(c, types, err, sizeof err) ||
        aw__mw_set_str(&c->types, types)) {
        if (c->o.level < 1 || c->o.level > 9)
            snprintf(err, sizeof err, "level is 1 to 9, not %d", c->o.level);
        aw_log(AW_LOG_ERROR, "aw_compress_use: %s", err);
        aw__compress_free(c);
        return NULL;
    }
    c->o.types = c->types;
    if (aw_app_on_free(app, aw__compress_free, c)) {
        aw__compress_free(c);
        return NULL;
    }
    if (aw_app_use(app, aw__compress_mw, c) ||
        aw_app_config_section(app, "compress", aw_compress_config, c))
        return NULL; /* c is freed with the app */
    return c;
}
