/* Client requests: the body in its forms, the head, Expect: 100-continue,
 * one retry on a pooled connection the server had closed, and redirects. */
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "client_int.h"
#include "error.h"
#include "forms_int.h"
#include "runtime.h"
#include "stream_int.h"
#include "timeout.h"

/* What goes on the wire after the head. */
typedef struct aw__cbody {
    const char *data; /* NULL with a stream */
    size_t len;
    const char *ctype;
    aw_client_body_fn stream;
    void *arg;
    int present;
} aw__cbody;

/* --- bodies ------------------------------------------------------------------- */

static int aw__form_body(aw_arena *a, const char *const *kv, aw__cbody *b)
{
    size_t cap = 1;
    for (size_t i = 0; kv[i] && kv[i + 1]; i += 2)
        cap += 3 * (strlen(kv[i]) + strlen(kv[i + 1])) + 2;
    char *out = aw_arena_alloc(a, cap);
    size_t n = 0;
    if (!out)
        return AW_ENOMEM;
    for (size_t i = 0; kv[i] && kv[i + 1]; i += 2) {
        if (i)
            out[n++] = '&';
        n += aw__pct_encode(out + n, cap - n, kv[i], strlen(kv[i]), 0);
        out[n++] = '=';
        n += aw__pct_encode(out + n, cap - n, kv[i + 1], strlen(kv[i + 1]), 0);
    }
    out[n] = 0;
    *b = (aw__cbody){out, n, "application/x-www-form-urlencoded", NULL, NULL, 1};
    return 0;
}

static int aw__multipart_body(aw_arena *a, const aw_client_part *p, size_t np, aw__cbody *b)
{
    unsigned char rnd[12];
    char boundary[48];
    RAND_bytes(rnd, sizeof rnd);
    int bl = snprintf(boundary, sizeof boundary, "aweb-");
    for (size_t i = 0; i < sizeof rnd; i++)
        bl += snprintf(boundary + bl, sizeof boundary - (size_t)bl, "%02x", rnd[i]);
    size_t cap = 64;
    for (size_t i = 0; i < np; i++)
        cap += p[i].len + strlen(p[i].name) + (p[i].filename ? strlen(p[i].filename) : 0) +
               (p[i].content_type ? strlen(p[i].content_type) : 0) + 200;
    char *out = aw_arena_alloc(a, cap);
    size_t n = 0;
    if (!out)
        return AW_ENOMEM;
    for (size_t i = 0; i < np; i++) {
        if (strpbrk(p[i].name, "\"\r\n") || (p[i].filename && strpbrk(p[i].filename, "\"\r\n")) ||
            (p[i].content_type && strpbrk(p[i].content_type, "\r\n")))
            return AW_EINVAL; /* no way to smuggle a header into a part */
        n += (size_t)snprintf(out + n, cap - n,
                              "--%s\r\nContent-Disposition: form-data; name=\"%s\"", boundary,
                              p[i].name);
        if (p[i].filename)
            n += (size_t)snprintf(out + n, cap - n, "; filename=\"%s\"", p[i].filename);
        if (p[i].content_type)
            n += (size_t)snprintf(out + n, cap - n, "\r\nContent-Type: %s", p[i].content_type);
        n += (size_t)snprintf(out + n, cap - n, "\r\n\r\n");
        memcpy(out + n, p[i].data, p[i].len);
        n += p[i].len;
        n += (size_t)snprintf(out + n, cap - n, "\r\n");
    }
    n += (size_t)snprintf(out + n, cap - n, "--%s--\r\n", boundary);
    *b = (aw__cbody){out, n, aw_arena_printf(a, "multipart/form-data; boundary=%s", boundary),
                     NULL, NULL, 1};
    return 0;
}

static int aw__make_body(aw_arena *a, const aw_client_request *q, aw__cbody *b)
{
    memset(b, 0, sizeof *b);
    if (q->json) {
        char *s = json_dumps(q->json, JSON_COMPACT | JSON_ENCODE_ANY);
        if (!s)
            return AW_EINVAL;
        *b = (aw__cbody){aw_arena_strdup(a, s), strlen(s), "application/json", NULL, NULL, 1};
        free(s);
        return 0;
    }
    if (q->form)
        return aw__form_body(a, q->form, b);
    if (q->parts)
        return aw__multipart_body(a, q->parts, q->nparts, b);
    if (q->stream) {
        *b = (aw__cbody){NULL, 0, q->content_type, q->stream, q->stream_arg, 1};
        return 0;
    }
    if (q->body)
        *b = (aw__cbody){q->body, q->body_len, q->content_type, NULL, NULL, 1};
    return 0;
}

/* --- the wire ------------------------------------------------------------------ */

/* Copies header lines, leaving out Authorization (a redirect to another
 * host must not carry the credentials along). */
static char *aw__user_headers(aw_arena *a, const char *h, int drop_auth)
{
    if (!h)
        return "";
    if (!drop_auth)
        return aw_arena_strdup(a, h);
    char *out = aw_arena_alloc(a, strlen(h) + 1);
    size_t n = 0;
    while (out && *h) {
        size_t line = strcspn(h, "\n") + (h[strcspn(h, "\n")] == '\n');
        if (strncasecmp(h, "Authorization:", 14)) {
            memcpy(out + n, h, line);
            n += line;
        }
        h += line;
    }
    if (out)
        out[n] = 0;
    return out;
}

static int aw__send_stream_body(aw_stream *s, const aw__cbody *b)
{
    char buf[16384], size[24];
    for (;;) {
        ssize_t n = b->stream(b->arg, buf, sizeof buf);
        if (n < 0)
            return (int)n;
        if (n == 0)
            return aw_stream_write(s, "0\r\n\r\n", 5, AW_DEFAULT);
        int k = snprintf(size, sizeof size, "%zx\r\n", (size_t)n);
        aw_iovec v[3] = {{size, (size_t)k}, {buf, (size_t)n}, {"\r\n", 2}};
        int rc = aw_stream_writev(s, v, 3, AW_DEFAULT);
        if (rc)
            return rc;
    }
}

/* Waits up to 1 s for the server's answer to Expect: 100-continue: 1 to send
 * the body (a 1xx status came, or nothing did), 0 if a final answer came
 * instead (the body is then not sent), or an error. Only the status line's
 * first 12 bytes ("HTTP/1.1 100") are looked at and nothing is consumed: the
 * response reader skips interim heads itself. */
static int aw__await_continue(aw_stream *s)
{
    const char *p;
    ssize_t n = aw_stream_peek_more(s, 11, &p, 1000);
    if (n == AW_ETIMEDOUT)
        return 1;
    if (n < 0)
        return (int)n;
    return p[9] == '1';
}

/* The pieces joined, NUL-terminated, in the arena: the request head is built
 * for every request, and printf's format walking was a tenth of a keep-alive
 * GET's user time. */
static char *aw__concat(aw_arena *a, const char *const *parts, size_t n)
{
    size_t lens[24], total = 1;
    if (n > 24)
        return NULL;
    for (size_t i = 0; i < n; i++)
        total += lens[i] = strlen(parts[i]);
    char *out = aw_arena_alloc(a, total), *p = out;
    if (!out)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        memcpy(p, parts[i], lens[i]);
        p += lens[i];
    }
    *p = 0;
    return out;
}

/* Sends the request on cc and reads the head of the answer. */
static int aw__exchange(aw_client *c, aw_client_response *r, const char *method, const char *uh,
                        const aw__cbody *b, int expect)
{
    aw_stream *s = r->conn->s;
    char auth[300], cookies[4096];
    aw__url_authority(&r->url, auth, sizeof auth);
    aw__cookies_header(c, &r->url, cookies, sizeof cookies);
    const char *len = b->present && !b->stream
                          ? aw_arena_printf(&r->arena, "Content-Length: %zu\r\n", b->len)
                      : b->stream ? "Transfer-Encoding: chunked\r\n"
                      /* a POST without a body still says so (some servers want 411 else) */
                      : !strcmp(method, "POST") || !strcmp(method, "PUT") || !strcmp(method, "PATCH")
                          ? "Content-Length: 0\r\n"
                          : "";
    const char *parts[] = {method, " ", r->url.target, " HTTP/1.1\r\nHost: ", auth,
                           "\r\nUser-Agent: ", c->user_agent,
                           "\r\nAccept: */*\r\nAccept-Encoding: gzip, deflate\r\n", c->headers,
                           *cookies ? "Cookie: " : "", cookies, *cookies ? "\r\n" : "", uh,
                           b->present && b->ctype ? "Content-Type: " : "",
                           b->present && b->ctype ? b->ctype : "",
                           b->present && b->ctype ? "\r\n" : "", len, "\r\n"};
    char *head = aw__concat(&r->arena, parts, sizeof parts / sizeof *parts);
    if (!head)
        return AW_ENOMEM;
    if (expect && b->present) {
        size_t hl = strlen(head);
        head = aw_arena_grow(&r->arena, head, hl + 1, hl + 32);
        memcpy(head + hl - 2, "Expect: 100-continue\r\n\r\n", 25);
    }
    int rc = aw_stream_write(s, head, strlen(head), AW_DEFAULT);
    int send_body = b->present;
    if (!rc && expect && b->present && (rc = aw__await_continue(s)) >= 0) {
        send_body = rc;
        rc = 0;
    }
    if (!rc && send_body)
        rc = b->stream ? aw__send_stream_body(s, b) : aw_stream_write(s, b->data, b->len, AW_DEFAULT);
    if (!rc)
        rc = aw__response_head(r, method);
    if (!rc && b->present && !send_body)
        r->resp.keep_alive = 0; /* the body was never sent: the connection is spent */
    return rc;
}

/* --- requests and redirects ---------------------------------------------------------- */

static int aw__retryable(int rc) { return rc == AW_EOF || rc == AW_ECONNRESET || rc == AW_EPIPE; }

int aw_client_send(aw_client *c, const aw_client_request *q, aw_client_response **out)
{
    if (!aw_current_task())
        return AW_ENOTASK;
    aw_client_response *r = aw__response_new(c);
    if (!r)
        return AW_ENOMEM;
    const char *method = q->method ? q->method : "GET";
    int rc = aw__url_parse(q->url ? q->url : "", &r->url);
    /* query parameters, encoded, after any the URL has */
    for (size_t i = 0; !rc && q->query && q->query[i] && q->query[i + 1]; i += 2) {
        char k[1024], v[3072];
        aw__pct_encode(k, sizeof k, q->query[i], strlen(q->query[i]), 0);
        aw__pct_encode(v, sizeof v, q->query[i + 1], strlen(q->query[i + 1]), 0);
        size_t t = strlen(r->url.target);
        snprintf(r->url.target + t, sizeof r->url.target - t, "%s%s=%s",
                 strchr(r->url.target, '?') ? "&" : "?", k, v);
    }
    aw__cbody body;
    if (!rc)
        rc = aw__make_body(&r->arena, q, &body);
    int64_t total = q->timeout_ms > 0 ? q->timeout_ms : c->o.total_timeout_ms;
    r->deadline = aw_now() + (uint64_t)total;
    r->max_body = q->max_body ? q->max_body : c->o.max_body;
    int max_redirects = q->max_redirects ? q->max_redirects : c->o.max_redirects;
    char first_host[256];
    snprintf(first_host, sizeof first_host, "%s", r->url.host);
    int pushed = 0;
    if (!rc)
        pushed = !(rc = aw_timeout_push(total));
    for (int hops = 0; !rc; hops++) {
        int drop_auth = strcasecmp(first_host, r->url.host) != 0;
        const char *uh = aw__user_headers(&r->arena, q->headers, drop_auth);
        for (int attempt = 0;; attempt++) {
            int reused = 0;
            rc = aw__pool_acquire(c, &r->url, r->deadline, &r->conn, &reused);
            if (rc)
                break;
            rc = aw__exchange(c, r, method, uh, &body, q->expect_continue);
            if (!rc)
                break;
            aw__response_release(r, 0);
            /* a pooled connection the server closed just as we wrote: once more,
             * on a new one, if the body can be sent again */
            if (!reused || attempt || !aw__retryable(rc) || body.stream)
                break;
        }
        if (rc)
            break;
        aw__cookies_store(c, &r->url, &r->resp.headers);
        aw__url_format(&r->url, r->url_text, sizeof r->url_text);
        int st = r->resp.status;
        const char *loc = aw_headers_get(&r->resp.headers, "Location");
        if (!loc || (st != 301 && st != 302 && st != 303 && st != 307 && st != 308) ||
            max_redirects < 0)
            break;
        if (hops >= max_redirects) {
            aw__stream_set_error("more than %d redirects, the last to %s", max_redirects, loc);
            rc = AW_EPROTO;
            break;
        }
        /* the redirect's own body is read and dropped (the connection stays good) */
        char scratch[4096];
        ssize_t n;
        size_t dropped = 0;
        while ((n = aw_client_response_read(r, scratch, sizeof scratch)) > 0 && dropped < 65536)
            dropped += (size_t)n;
        aw__response_release(r, n == 0);
        r->failed = 0;
        char *hist = aw_arena_printf(&r->arena, "%03d %s", st, r->url_text);
        const char **h = realloc(r->history, (r->nhistory + 1) * sizeof *h);
        if (!h || !hist) {
            rc = AW_ENOMEM;
            break;
        }
        r->history = h;
        r->history[r->nhistory++] = hist;
        aw__url next;
        if ((rc = aw__url_join(&r->url, loc, &next)))
            break;
        r->url = next;
        /* 303 (and 301/302 after a POST, as browsers do) turn into a GET
         * without a body; 307 and 308 repeat the request as it was */
        if (st == 303 || ((st == 301 || st == 302) && !strcmp(method, "POST"))) {
            if (strcmp(method, "HEAD"))
                method = "GET";
            memset(&body, 0, sizeof body);
        } else if (body.stream) {
            aw__stream_set_error("a streamed body cannot follow a %d redirect", st);
            rc = AW_EPROTO;
            break;
        }
        if (r->z) {
            inflateEnd(r->z);
            free(r->z);
            r->z = NULL;
        }
    }
    if (pushed)
        aw_timeout_pop();
    if (rc) {
        aw_client_response_free(r);
        return rc;
    }
    *out = r;
    return 0;
}

int aw_client_get(aw_client *c, const char *url, aw_client_response **out)
{
    aw_client_request q = {.url = url};
    return aw_client_send(c, &q, out);
}
