/* Reading HTTP responses through llhttp; see resp_parse.h. Parsing pauses at
 * the end of the head, after each body span and at the end of the message,
 * so the body is pulled as the caller asks for it. */
#include "resp_parse.h"

#include <string.h>

#include "crlf_int.h"
#include "error.h"

int aw__headers_append(aw_headers *h, const char *name, size_t name_len, const char *value,
                       size_t value_len);

static int aw__grow(aw_arena *a, char **buf, size_t *len, const char *at, size_t n)
{
    char *b = aw_arena_grow(a, *buf, *len ? *len + 1 : 0, *len + n + 1);
    if (!b)
        return -1;
    memcpy(b + *len, at, n);
    *len += n;
    b[*len] = 0;
    *buf = b;
    return 0;
}

static int aw__rr_flush_header(aw__rr *rr)
{
    if (!rr->in_value)
        return 0;
    rr->in_value = 0;
    if (aw__headers_append(&rr->r->headers, rr->field, rr->field_len,
                           rr->value ? rr->value : "", rr->value_len))
        return -1;
    rr->field = rr->value = NULL;
    rr->field_len = rr->value_len = 0;
    return 0;
}

static int aw__rr_begin(llhttp_t *p)
{
    aw__rr *rr = p->data;
    aw_headers_init(&rr->r->headers, rr->arena);
    rr->field = rr->value = rr->reason = NULL;
    rr->field_len = rr->value_len = rr->reason_len = 0;
    rr->in_value = 0;
    return 0;
}

static int aw__rr_status(llhttp_t *p, const char *at, size_t n)
{
    aw__rr *rr = p->data;
    return rr->reason_len + n > 1024 || aw__grow(rr->arena, &rr->reason, &rr->reason_len, at, n)
               ? -1 : 0;
}

static int aw__rr_field(llhttp_t *p, const char *at, size_t n)
{
    aw__rr *rr = p->data;
    if (rr->head_done)
        return 0; /* trailers */
    if (aw__rr_flush_header(rr))
        return -1;
    return rr->field_len + n > 65536 || aw__grow(rr->arena, &rr->field, &rr->field_len, at, n)
               ? -1 : 0;
}

static int aw__rr_value(llhttp_t *p, const char *at, size_t n)
{
    aw__rr *rr = p->data;
    if (rr->head_done)
        return 0;
    rr->in_value = 1;
    return rr->value_len + n > 65536 || aw__grow(rr->arena, &rr->value, &rr->value_len, at, n)
               ? -1 : 0;
}

static int aw__rr_headers_done(llhttp_t *p)
{
    aw__rr *rr = p->data;
    if (aw__rr_flush_header(rr))
        return -1;
    if (p->status_code < 100)
        return -1; /* a status is three digits (RFC 9112); llhttp takes "HTTP/1.1 2" */
    if (p->status_code >= 100 && p->status_code < 200 && p->status_code != 101)
        return 1; /* interim: the real head follows. 1 says it has no body: llhttp
                   * would read one (chunked, or a length) for 104-199 */
    for (size_t i = 0; i < rr->reason_len; i++) {
        unsigned char ch = (unsigned char)rr->reason[i];
        if ((ch < 0x20 && ch != '\t') || ch == 0x7f)
            return -1; /* a reason is text (RFC 9112); llhttp takes NULs too */
    }
    aw__resp *r = rr->r;
    r->status = p->status_code;
    r->version = p->http_major * 10 + p->http_minor;
    r->reason = rr->reason ? rr->reason : "";
    rr->head_done = 1;
    if (p->status_code == 101) {
        rr->msg_done = 1; /* what follows is not HTTP */
        return HPE_PAUSED;
    }
    /* 1 tells llhttp there is no body: the answer to a HEAD, a 204, a 304
     * (llhttp 8.1 would read one for a 304 that says chunked) */
    if (rr->head_method || p->status_code == 204 || p->status_code == 304) {
        r->keep_alive = llhttp_should_keep_alive(p);
        return 1;
    }
    return HPE_PAUSED;
}

static int aw__rr_body(llhttp_t *p, const char *at, size_t n)
{
    aw__rr *rr = p->data;
    if (!n)
        return 0; /* llhttp flushes empty spans at the end of each execute */
    rr->body_at = at;
    rr->body_len = n;
    return HPE_PAUSED;
}

static int aw__rr_complete(llhttp_t *p)
{
    aw__rr *rr = p->data;
    if (!rr->head_done)
        return 0; /* the end of an interim response */
    rr->msg_done = 1;
    rr->r->keep_alive = llhttp_should_keep_alive(p);
    return HPE_PAUSED;
}

static const llhttp_settings_t *aw__rr_settings(void)
{
    static llhttp_settings_t st;
    static int ready;
    if (!ready) {
        llhttp_settings_init(&st);
        st.on_message_begin = aw__rr_begin;
        st.on_status = aw__rr_status;
        st.on_header_field = aw__rr_field;
        st.on_header_value = aw__rr_value;
        st.on_headers_complete = aw__rr_headers_done;
        st.on_body = aw__rr_body;
        st.on_message_complete = aw__rr_complete;
        ready = 1;
    }
    return &st;
}

/* Feeds what is buffered (or waits for more when the last feed had nothing
 * to give). Returns 0 or an error; sets body_at/body_len, head_done, msg_done. */
static int aw__rr_feed(aw__rr *rr)
{
    const char *data = "";
    ssize_t n = (ssize_t)aw_stream_buffered(rr->s);
    if (n > 0)
        n = aw_stream_peek(rr->s, &data, 0);
    else if (rr->need_input) {
        n = aw_stream_peek(rr->s, &data, rr->timeout_ms);
        if (n == AW_EOF) {
            /* a body that ends with the connection is complete now */
            if (rr->head_done && llhttp_message_needs_eof(&rr->p)) {
                llhttp_finish(&rr->p);
                rr->msg_done = 1;
                rr->r->keep_alive = 0;
                return 0;
            }
            return rr->head_done ? AW_EPROTO : AW_EOF;
        }
        if (n < 0)
            return (int)n;
    }
    rr->body_at = NULL;
    rr->body_len = 0;
    int in_head = !rr->head_done;
    llhttp_errno_t e = llhttp_execute(&rr->p, data, (size_t)n);
    size_t used = (size_t)n;
    if (e == HPE_PAUSED || e == HPE_PAUSED_UPGRADE) {
        used = (size_t)(llhttp_get_error_pos(&rr->p) - data);
        if (!rr->msg_done)
            llhttp_resume(&rr->p);
    } else if (e != HPE_OK)
        return AW_EPROTO;
    /* what llhttp took as head: every CR in it before an LF */
    if (in_head && aw__bare_cr(data, rr->body_at ? (size_t)(rr->body_at - data) : used,
                               &rr->last_cr))
        return AW_EPROTO;
    if (rr->body_at) {
        aw_stream_consume(rr->s, (size_t)(rr->body_at - data)); /* framing */
        rr->body_pending = rr->body_len;
    } else
        aw_stream_consume(rr->s, used);
    /* more input is needed only when llhttp took everything without pausing:
     * after a pause, the same (or no) input can take it further */
    rr->need_input = e == HPE_OK;
    return 0;
}

int aw__rr_head(aw__rr *rr, aw_stream *s, const char *method, aw_arena *arena,
                int64_t timeout_ms, aw__resp *out)
{
    memset(rr, 0, sizeof *rr);
    memset(out, 0, sizeof *out);
    rr->s = s;
    rr->arena = arena;
    rr->r = out;
    rr->timeout_ms = timeout_ms;
    rr->head_method = method && !strcmp(method, "HEAD");
    aw_headers_init(&out->headers, arena);
    llhttp_init(&rr->p, HTTP_RESPONSE, aw__rr_settings());
    rr->p.data = rr;
    rr->need_input = 1;
    while (!rr->head_done) {
        int rc = aw__rr_feed(rr);
        if (rc)
            return rr->failed = rc;
    }
    return 0;
}

ssize_t aw__rr_read(aw__rr *rr, void *buf, size_t len)
{
    if (rr->failed)
        return rr->failed;
    while (!rr->body_pending) {
        if (rr->msg_done)
            return 0;
        int rc = aw__rr_feed(rr);
        if (rc)
            return rr->failed = rc;
    }
    const char *p;
    ssize_t a = aw_stream_peek(rr->s, &p, 0);
    if (a <= 0)
        return rr->failed = a < 0 ? (int)a : AW_EPROTO;
    size_t n = len < rr->body_pending ? len : rr->body_pending;
    if (n > (size_t)a)
        n = (size_t)a;
    memcpy(buf, p, n);
    aw_stream_consume(rr->s, n);
    rr->body_pending -= n;
    return (ssize_t)n;
}

int aw__rr_done(const aw__rr *rr) { return rr->msg_done && !rr->body_pending && !rr->failed; }

int aw__read_response(aw_stream *s, const char *method, aw_arena *arena, size_t max_body,
                      int64_t timeout_ms, aw__resp *out)
{
    aw__rr rr;
    int rc = aw__rr_head(&rr, s, method, arena, timeout_ms, out);
    if (rc)
        return rc;
    size_t cap = 4096, n = 0;
    char *body = aw_arena_alloc(arena, cap + 1);
    for (;;) {
        if (!body)
            return AW_ENOMEM;
        ssize_t got = out->status == 101 ? 0 : aw__rr_read(&rr, body + n, cap - n);
        if (got < 0)
            return (int)got;
        if (!got)
            break;
        n += (size_t)got;
        if (n > max_body)
            return AW_EMSGSIZE;
        if (n == cap) {
            body = aw_arena_grow(arena, body, cap + 1, cap * 2 + 1);
            cap *= 2;
        }
    }
    body[n] = 0;
    out->body = body;
    out->body_len = n;
    return 0;
}
