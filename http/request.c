/* Requests: accessors, per-request state, and reading the body.
 *
 * Body bytes are handed over without a second buffer: the parser stops after
 * each body span, whose bytes are then at the head of the stream's input
 * (body_pending of them) and are copied straight into the reader's buffer. */
#include <arpa/inet.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arena_int.h"
#include "error.h"
#include "http_int.h"
#include "json_int.h"
#include "runtime.h"
#include "stream_int.h"

aw_request *aw__request_new(aw__conn *c, aw__parse *ps)
{
    aw_arena a;
    aw_arena_init(&a);
    aw_request *req = aw_arena_calloc(&a, sizeof *req);
    if (!req) {
        aw_arena_free(&a);
        return NULL;
    }
    req->arena = a;
    req->conn = c;
    req->srv = c->srv;
    req->ps = ps;
    req->refs = 1;
    req->content_length = -1;
    req->start_ns = c->srv->alog ? uv_hrtime() : 0; /* only the access log reads it */
    aw_headers_init(&req->headers, &req->arena);
    ps->req = req;
    return req;
}

void aw__request_unref(aw_request *req)
{
    if (--req->refs > 0)
        return;
    aw_arena a = req->arena; /* the request lives in its own arena */
    aw_arena_free(&a);
}

/* --- the head -------------------------------------------------------------- */

const char *aw_request_method(const aw_request *r) { return r->method; }
int aw_request_version(const aw_request *r) { return r->version; }
const char *aw_request_path(const aw_request *r) { return r->path; }
const char *aw_request_raw_path(const aw_request *r) { return r->target; }
const char *aw_request_query_string(const aw_request *r) { return r->query; }
const aw_headers *aw_request_headers(const aw_request *r) { return &r->headers; }
int aw_request_keep_alive(const aw_request *r) { return r->keep_alive; }
aw_app *aw_request_app(const aw_request *r) { return r->app; }
int aw_request_is_tls(const aw_request *r) { return aw_stream_is_tls(r->conn->s); }
int64_t aw_request_content_length(const aw_request *r) { return r->content_length; }

const char *aw_request_header(const aw_request *r, const char *name)
{
    return aw_headers_get(&r->headers, name);
}

/* The connection's address, asked of the kernel once per connection: a
 * keep-alive connection's later requests format it from the copy. */
static void aw__conn_peer(aw__conn *c)
{
    struct sockaddr_storage a;
    socklen_t alen;
    if (c->peer_family || aw_stream_peer_addr(c->s, &a, &alen))
        return;
    if (a.ss_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)&a;
        memcpy(c->peer_addr, &in->sin_addr, 4);
        c->peer_port = ntohs(in->sin_port);
    } else if (a.ss_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)&a;
        memcpy(c->peer_addr, &in6->sin6_addr, 16);
        c->peer_port = ntohs(in6->sin6_port);
    }
    c->peer_family = (uint8_t)a.ss_family;
}

const char *aw_request_peer(aw_request *r)
{
    if (r->peer)
        return r->peer;
    aw__conn *c = r->conn;
    aw__conn_peer(c);
    /* formatted into the arena when first asked for: most requests never are */
    char host[INET6_ADDRSTRLEN], text[INET6_ADDRSTRLEN + 10];
    if (c->peer_family == AF_INET && inet_ntop(AF_INET, c->peer_addr, host, sizeof host))
        snprintf(text, sizeof text, "%s:%u", host, c->peer_port);
    else if (c->peer_family == AF_INET6 && inet_ntop(AF_INET6, c->peer_addr, host, sizeof host))
        snprintf(text, sizeof text, "[%s]:%u", host, c->peer_port);
    else
        snprintf(text, sizeof text, "%s", c->peer_family == AF_UNIX ? "unix:" : "?");
    r->peer = aw_arena_strdup(&r->arena, text);
    return r->peer ? r->peer : "?";
}

aw_response *aw_request_response(const aw_request *r) { return r->resp; }
uint64_t aw_request_start_ns(const aw_request *r) { return r->start_ns; }
int aw_request_error(const aw_request *r) { return r->fail_code; }
int aw_request_error_status(const aw_request *r)
{
    return r->pending_status ? r->pending_status : 500;
}
const char *aw_request_route_name(const aw_request *r) { return r->route ? r->match.name : NULL; }

int aw_request_match_status(const aw_request *r)
{
    return r->route ? 200 : aw_request_get(r, "aw.allow") ? 405 : 404;
}

const char *aw_request_remote(aw_request *r)
{
    const char *peer = aw_request_peer(r);
    if (peer[0] == '[') {
        const char *end = strchr(peer, ']');
        return end ? aw_arena_strndup(&r->arena, peer + 1, (size_t)(end - peer - 1)) : peer;
    }
    const char *colon = strrchr(peer, ':');
    return colon && strncmp(peer, "unix:", 5) ? aw_arena_strndup(&r->arena, peer, (size_t)(colon - peer))
                                              : "unix";
}

const char *aw_request_match(const aw_request *r, const char *name)
{
    for (size_t i = 0; i < r->match.nparams; i++)
        if (strcmp(r->match.params[i].name, name) == 0)
            return r->match.params[i].value;
    return NULL;
}

static void *aw__req_alloc(void *ctx, size_t size) { return aw_arena_alloc(ctx, size); }

#define AW__MAX_PAIRS 1000

const char *aw_request_query(aw_request *r, const char *name)
{
    const char *v = NULL;
    aw_request_query_all(r, name, &v, 1);
    return v;
}

size_t aw_request_query_all(aw_request *r, const char *name, const char **out, size_t cap)
{
    if (!r->query_kv) {
        aw__kvlist *l = aw_arena_calloc(&r->arena, sizeof *l);
        if (!l || aw__parse_urlencoded(r->query, strlen(r->query), aw__req_alloc, &r->arena,
                                       AW__MAX_PAIRS, l))
            return 0; /* a malformed query has no parameters */
        r->query_kv = l;
    }
    return aw__kv_get_all(r->query_kv, name, out, cap);
}

const char *aw_request_cookie(aw_request *r, const char *name)
{
    if (!r->cookies) {
        aw__kvlist *l = aw_arena_calloc(&r->arena, sizeof *l);
        if (!l)
            return NULL;
        const char *vals[32];
        size_t n = aw_headers_get_all(&r->headers, "Cookie", vals, 32);
        for (size_t i = 0; i < n && i < 32; i++) {
            aw__kvlist part = {0};
            if (aw__parse_cookies(vals[i], strlen(vals[i]), aw__req_alloc, &r->arena,
                                  AW__MAX_PAIRS, &part) == 0) {
                /* several Cookie headers (HTTP/1.1 forbids, clients do it) */
                aw__kv *items = aw_arena_alloc(&r->arena, (l->n + part.n) * sizeof *items + 1);
                if (!items)
                    break;
                if (l->n)
                    memcpy(items, l->items, l->n * sizeof *items);
                if (part.n)
                    memcpy(items + l->n, part.items, part.n * sizeof *items);
                l->items = items;
                l->n += part.n;
            }
        }
        r->cookies = l;
    }
    return aw__kv_get(r->cookies, name);
}

int aw_request_set(aw_request *r, const char *key, void *value)
{
    void **kv = r->state.items;
    for (size_t i = 0; i < r->state.n; i += 2)
        if (strcmp(kv[i], key) == 0) {
            kv[i + 1] = value;
            return 0;
        }
    size_t cap = r->state.cap ? r->state.cap * 2 : 8;
    if (r->state.n + 2 > r->state.cap) {
        void **items = aw_arena_grow(&r->arena, r->state.items, r->state.cap * sizeof *kv,
                                     cap * sizeof *kv);
        if (!items)
            return AW_ENOMEM;
        r->state.items = items;
        r->state.cap = cap;
    }
    kv = r->state.items;
    kv[r->state.n++] = (void *)key;
    kv[r->state.n++] = value;
    return 0;
}

void *aw_request_get(const aw_request *r, const char *key)
{
    void **kv = r->state.items;
    for (size_t i = 0; i < r->state.n; i += 2)
        if (strcmp(kv[i], key) == 0)
            return kv[i + 1];
    return NULL;
}

aw_stream *aw_request_upgrade(aw_request *r, aw_response *resp)
{
    if (r->resp)
        return NULL;
    r->conn->close_after = 1; /* the stream is the handler's now */
    aw__conn_peer(r->conn); /* while it is open: the access log asks after */
    r->upgrade = 1;
    r->keep_alive = 0;
    int rc = aw_response_prepare(resp);
    if (!rc)
        rc = aw__conn_flush(r->conn);
    /* the upgraded protocol writes to the stream itself: the batching
     * buffer goes back now rather than sit for the socket's whole life */
    aw__out_put(r->conn->srv, r->conn->out);
    r->conn->out = NULL;
    resp->finished = 1;
    return rc ? NULL : r->conn->s;
}

/* For the upgraded protocol's own state (ws/): the rest of the request's
 * current arena chunk, which the request holds for the connection's life
 * anyway, or NULL when too little is left (never a new chunk). */
void *aw__request_alloc_spare(aw_request *r, size_t n)
{
    return aw__arena_alloc_spare(&r->arena, n);
}

int aw_request_on_shutdown(aw_request *r, void (*fn)(void *arg), void *arg)
{
    r->on_shutdown = fn;
    r->on_shutdown_arg = arg;
    if (fn && r->srv->draining)
        fn(arg); /* already shutting down */
    return 0;
}

void *aw_request_alloc(aw_request *r, size_t n) { return aw_arena_alloc(&r->arena, n); }
char *aw_request_strdup(aw_request *r, const char *s) { return aw_arena_strdup(&r->arena, s); }

/* --- the body -------------------------------------------------------------- */

int aw__send_continue(aw_request *req)
{
    if (!req->expect_continue || req->continue_sent || req->version < 11)
        return 0;
    req->continue_sent = 1;
    static const char msg[] = "HTTP/1.1 100 Continue\r\n\r\n";
    aw_iovec v = {msg, sizeof msg - 1};
    return aw__conn_write(req->conn, &v, 1, 1);
}

/* Records what went wrong with the body: the code for the reader, the status
 * the client gets if the handler gives up because of it. */
static int aw__body_fail(aw_request *req, int code, int status)
{
    req->body_error = code;
    if (!req->pending_status)
        req->pending_status = status;
    req->conn->close_after = 1;
    return code;
}

/* How long the next wait for body bytes may take: body_ms, and within the
 * body's whole budget (body_ms plus a second per body_min_rate bytes, minus
 * what was waited already). Only time spent waiting on the client counts, so
 * a handler slow to read is never held against it. */
static int64_t aw__body_wait_ms(const aw_request *r)
{
    const aw_config *cfg = r->srv->cfg;
    if (!cfg->body_min_rate)
        return cfg->body_ms;
    int64_t budget = cfg->body_ms + (int64_t)(r->body_read * 1000 / cfg->body_min_rate) -
                     r->body_waited_ms;
    return budget < cfg->body_ms ? budget : cfg->body_ms;
}

ssize_t aw_request_read(aw_request *r, void *buf, size_t len)
{
    aw_stream *s = r->conn->s;
    aw__parse *ps = r->ps;
    if (r->body_error)
        return r->body_error;
    if (r->body_state != AW__BODY_PENDING || !len)
        return 0;
    if (aw__send_continue(r))
        return aw__body_fail(r, AW_ECONNRESET, 400);
    for (;;) {
        const char *p;
        if (r->body_pending) {
            ssize_t a = aw_stream_peek(s, &p, 0);
            if (a < 0)
                return aw__body_fail(r, AW_ECONNRESET, 400);
            size_t n = len < r->body_pending ? len : r->body_pending;
            if (n > (size_t)a)
                n = (size_t)a;
            memcpy(buf, p, n);
            aw_stream_consume(s, n);
            r->body_pending -= n;
            r->body_read += n;
            return (ssize_t)n;
        }
        if (ps->msg_done) {
            r->body_state = AW__BODY_DONE;
            return 0;
        }
        /* Parse what is buffered (even nothing: after a body's last byte,
         * llhttp reaches the message's end without input). Wait for bytes
         * only when that gave neither body nor an end. */
        ssize_t a = (ssize_t)aw_stream_buffered(s);
        p = "";
        if (a > 0)
            a = aw_stream_peek(s, &p, 0);
        else if (r->need_input) {
            int64_t wait = aw__body_wait_ms(r);
            uint64_t t0 = aw_now();
            a = wait > 0 ? aw_stream_peek(s, &p, wait) : AW_ETIMEDOUT;
            r->body_waited_ms += (int64_t)(aw_now() - t0);
            if (a == AW_ETIMEDOUT)
                return aw__body_fail(r, AW_ETIMEDOUT, 408);
            if (a < 0)
                return aw__body_fail(r, a == AW_EOF ? AW_ECONNRESET : (int)a, 400);
        }
        size_t used = 0;
        int st = aw__parse_body(ps, p, (size_t)a, &used);
        if (st) /* 413 and 431 (chunk extensions, trailers) keep their status */
            return aw__body_fail(r, st == 413 ? AW_EMSGSIZE : AW_EPROTO, st);
        if (ps->body_at) {
            aw_stream_consume(s, (size_t)(ps->body_at - p)); /* chunk framing */
            r->body_pending = ps->body_len;
        } else
            aw_stream_consume(s, used);
        r->need_input = !ps->body_at && !ps->msg_done;
    }
}

int aw_request_body(aw_request *r, const char **data, size_t *len)
{
    size_t max = r->srv->cfg->client_max_size;
    if (r->body) {
        *data = r->body;
        *len = r->body_len;
        return 0;
    }
    if (r->body_error)
        return r->body_error;
    /* refused before a byte is read, and before any 100 Continue */
    if (r->content_length > 0 && (uint64_t)r->content_length > max)
        return aw__body_fail(r, AW_EMSGSIZE, 413);
    size_t cap = r->content_length > 0 ? (size_t)r->content_length : 4096, n = 0;
    char *buf = aw_arena_alloc(&r->arena, cap + 1);
    for (;;) {
        if (!buf)
            return AW_ENOMEM;
        ssize_t got = aw_request_read(r, buf + n, cap - n);
        if (got < 0)
            return (int)got;
        if (got == 0 && r->body_state != AW__BODY_PENDING)
            break;
        n += (size_t)got;
        if (n > max)
            return aw__body_fail(r, AW_EMSGSIZE, 413);
        if (n == cap) {
            size_t ncap = cap * 2 < max + 1 ? cap * 2 : max + 1;
            buf = aw_arena_grow(&r->arena, buf, cap + 1, ncap + 1);
            cap = ncap;
        }
    }
    buf[n] = 0;
    r->body = buf;
    r->body_len = n;
    *data = buf;
    *len = n;
    return 0;
}

/* Reads and drops whatever body the handler left, within limits. Returns 0,
 * or an error when the connection cannot be reused. */
int aw__request_finish_body(aw_request *req)
{
    char scratch[4096];
    uint64_t limit = req->srv->cfg->client_max_size + (1u << 20);
    uint64_t start = req->body_read;
    while (req->body_state == AW__BODY_PENDING) {
        ssize_t n = aw_request_read(req, scratch, sizeof scratch);
        if (n < 0)
            return (int)n;
        if (req->body_read - start > limit)
            return AW_EMSGSIZE;
    }
    return 0;
}

static void aw__json_release(void *j) { json_decref(j); }

int aw_request_json(aw_request *r, json_t **out)
{
    if (r->json) {
        *out = r->json;
        return 0;
    }
    const char *data;
    size_t len;
    int rc = aw_request_body(r, &data, &len);
    if (rc)
        return rc;
    json_error_t e;
    json_t *j = aw__json_parse(data, len, &e);
    if (!j) {
        aw__stream_set_error("bad JSON at line %d, column %d: %s", e.line, e.column, e.text);
        if (!r->pending_status)
            r->pending_status = 400;
        return AW_EINVAL;
    }
    aw_arena_on_free(&r->arena, aw__json_release, j);
    r->json = *out = j;
    return 0;
}
