/* Client responses: the head, the body (decoded from gzip or deflate), and
 * giving the connection back once the body has been read to its end. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "client_int.h"
#include "json_int.h"
#include "error.h"
#include "runtime.h"
#include "stream_int.h"
#include "timeout.h"

#define AW__ZIN 16384

aw_client_response *aw__response_new(aw_client *c)
{
    aw_client_response *r = calloc(1, sizeof *r);
    if (r) {
        r->client = c;
        aw_arena_init(&r->arena);
    }
    return r;
}

void aw__response_release(aw_client_response *r, int reusable)
{
    if (!r->conn)
        return;
    aw__pool_release(r->client, r->conn, reusable && r->resp.keep_alive && aw__rr_done(&r->rr));
    r->conn = NULL;
}

int aw__response_head(aw_client_response *r, const char *method)
{
    r->method_head = !strcmp(method, "HEAD");
    int rc = aw__rr_head(&r->rr, r->conn->s, method, &r->arena, r->client->sopts.read_timeout_ms,
                         &r->resp);
    if (rc)
        return rc;
    const char *enc = aw_headers_get(&r->resp.headers, "Content-Encoding");
    if (enc && (!strcasecmp(enc, "gzip") || !strcasecmp(enc, "x-gzip") ||
                !strcasecmp(enc, "deflate"))) {
        r->z = calloc(1, sizeof *r->z);
        r->zin = malloc(AW__ZIN);
        /* gzip; deflate is zlib-wrapped by the RFC, raw by some servers
         * (tried if the zlib header is wrong) */
        int bits = strcasecmp(enc, "deflate") ? 15 + 16 : 15;
        if (!r->z || !r->zin || inflateInit2(r->z, bits) != Z_OK) {
            free(r->z);
            r->z = NULL;
            return AW_ENOMEM;
        }
    }
    return 0;
}

/* Runs fn under what is left of the request's total timeout. */
static int aw__push_deadline(aw_client_response *r)
{
    uint64_t now = aw_now();
    return aw_timeout_push(r->deadline > now ? (int64_t)(r->deadline - now) : 0);
}

static ssize_t aw__read_raw(aw_client_response *r, void *buf, size_t len)
{
    if (!r->conn)
        return r->failed ? r->failed : 0;
    aw__push_deadline(r);
    ssize_t n = aw__rr_read(&r->rr, buf, len);
    aw_timeout_pop();
    if (n < 0) {
        r->failed = (int)n;
        aw__response_release(r, 0); /* a timeout or an error: the connection goes */
    } else if (n == 0)
        aw__response_release(r, 1); /* read to its end: back to the pool */
    return n;
}

static ssize_t aw__read_decoded(aw_client_response *r, void *buf, size_t len)
{
    z_stream *z = r->z;
    while (!r->z_done) {
        if (z->avail_in == 0) {
            ssize_t n = aw__read_raw(r, r->zin, AW__ZIN);
            if (n < 0)
                return n;
            if (n == 0)
                return r->failed = AW_EPROTO; /* the compressed stream was cut */
            z->next_in = r->zin;
            z->avail_in = (uInt)n;
            r->zin_len = (size_t)n;
        }
        z->next_out = buf;
        z->avail_out = (uInt)len;
        int zr = inflate(z, Z_NO_FLUSH);
        if (zr == Z_DATA_ERROR && !r->z_raw_tried && z->total_out == 0) {
            /* "deflate" sent raw, as some servers do */
            r->z_raw_tried = 1;
            inflateReset2(z, -15);
            z->next_in = r->zin;
            z->avail_in = (uInt)r->zin_len;
            continue;
        }
        if (zr != Z_OK && zr != Z_STREAM_END && zr != Z_BUF_ERROR)
            return r->failed = AW_EPROTO;
        if (zr == Z_STREAM_END)
            r->z_done = 1;
        size_t out = len - z->avail_out;
        if (out)
            return (ssize_t)out;
    }
    /* what follows the compressed stream: read the message to its end */
    char scratch[512];
    ssize_t n;
    while ((n = aw__read_raw(r, scratch, sizeof scratch)) > 0)
        ;
    return n;
}

ssize_t aw_client_response_read(aw_client_response *r, void *buf, size_t len)
{
    if (r->failed)
        return r->failed;
    if (!len)
        return 0;
    return r->z ? aw__read_decoded(r, buf, len) : aw__read_raw(r, buf, len);
}

int aw_client_response_body(aw_client_response *r, const char **data, size_t *len)
{
    if (!r->body) {
        size_t cap = 4096, n = 0;
        const char *cl = aw_headers_get(&r->resp.headers, "Content-Length");
        if (cl && !r->z && strtoull(cl, NULL, 10) < r->max_body)
            cap = (size_t)strtoull(cl, NULL, 10) + 1;
        char *b = malloc(cap + 1);
        for (;;) {
            if (!b)
                return AW_ENOMEM;
            ssize_t got = aw_client_response_read(r, b + n, cap - n);
            if (got < 0) {
                free(b);
                return (int)got;
            }
            if (!got)
                break;
            n += (size_t)got;
            if (n > r->max_body) {
                free(b);
                r->failed = AW_EMSGSIZE;
                aw__response_release(r, 0); /* never reused with a body left in it */
                aw__stream_set_error("the response body is larger than %zu bytes", r->max_body);
                return AW_EMSGSIZE;
            }
            if (n == cap) {
                char *g = realloc(b, cap * 2 + 1);
                if (!g)
                    free(b);
                b = g;
                cap *= 2;
            }
        }
        b[n] = 0;
        r->body = b;
        r->body_len = n;
    }
    *data = r->body;
    *len = r->body_len;
    return 0;
}

int aw_client_response_json(aw_client_response *r, json_t **out)
{
    if (!r->json) {
        const char *data;
        size_t len;
        int rc = aw_client_response_body(r, &data, &len);
        if (rc)
            return rc;
        json_error_t e;
        if (!(r->json = aw__json_parse(data, len, &e))) { /* bounded nesting */
            aw__stream_set_error("bad JSON at line %d: %s", e.line, e.text);
            return AW_EINVAL;
        }
    }
    *out = r->json;
    return 0;
}

int aw_client_response_status(const aw_client_response *r) { return r->resp.status; }
const char *aw_client_response_reason(const aw_client_response *r) { return r->resp.reason; }
const aw_headers *aw_client_response_headers(const aw_client_response *r) { return &r->resp.headers; }
const char *aw_client_response_header(const aw_client_response *r, const char *name)
{
    return aw_headers_get(&r->resp.headers, name);
}
const char *aw_client_response_url(const aw_client_response *r) { return r->url_text; }
size_t aw_client_response_history(const aw_client_response *r) { return r->nhistory; }

int aw_client_response_history_at(const aw_client_response *r, size_t i, const char **url)
{
    if (i >= r->nhistory)
        return AW_EINVAL;
    /* stored as "STATUS URL" */
    *url = r->history[i] + 4;
    return atoi(r->history[i]);
}

void aw_client_response_free(aw_client_response *r)
{
    if (!r)
        return;
    aw__response_release(r, 1); /* pooled only if read to its end */
    if (r->z) {
        inflateEnd(r->z);
        free(r->z);
    }
    free(r->zin);
    free(r->body);
    json_decref(r->json);
    free(r->history);
    aw_arena_free(&r->arena);
    free(r);
}
