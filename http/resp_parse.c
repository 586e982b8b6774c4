/* Reading an HTTP response through llhttp; see resp_parse.h. */
#include "resp_parse.h"

#include <llhttp.h>
#include <string.h>

#include "error.h"

int aw__headers_append(aw_headers *h, const char *name, size_t name_len, const char *value,
                       size_t value_len);

typedef struct aw__rp {
    llhttp_t p;
    aw__resp *r;
    aw_arena *arena;
    size_t max_body, body_cap;
    char *field, *value;
    size_t field_len, value_len;
    int in_value;
    int head_method; /* a HEAD request: no body whatever the headers say */
    int done, too_big;
} aw__rp;

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

static int aw__rp_begin(llhttp_t *p)
{
    aw__rp *rp = p->data;
    aw_headers_init(&rp->r->headers, rp->arena);
    rp->r->body = NULL;
    rp->r->body_len = rp->body_cap = 0;
    rp->field = rp->value = NULL;
    rp->field_len = rp->value_len = 0;
    rp->in_value = 0;
    return 0;
}

static int aw__rp_field(llhttp_t *p, const char *at, size_t n)
{
    aw__rp *rp = p->data;
    if (rp->in_value) {
        if (aw__headers_append(&rp->r->headers, rp->field, rp->field_len,
                               rp->value ? rp->value : "", rp->value_len))
            return -1;
        rp->field = rp->value = NULL;
        rp->field_len = rp->value_len = 0;
        rp->in_value = 0;
    }
    return rp->field_len + n > 65536 || aw__grow(rp->arena, &rp->field, &rp->field_len, at, n)
               ? -1 : 0;
}

static int aw__rp_value(llhttp_t *p, const char *at, size_t n)
{
    aw__rp *rp = p->data;
    rp->in_value = 1;
    return rp->value_len + n > 65536 || aw__grow(rp->arena, &rp->value, &rp->value_len, at, n)
               ? -1 : 0;
}

static int aw__rp_headers_done(llhttp_t *p)
{
    aw__rp *rp = p->data;
    if (rp->in_value && aw__headers_append(&rp->r->headers, rp->field, rp->field_len,
                                           rp->value ? rp->value : "", rp->value_len))
        return -1;
    rp->in_value = 0;
    rp->r->status = p->status_code;
    rp->r->version = p->http_major * 10 + p->http_minor;
    if (p->status_code == 101) {
        /* switching protocols: what follows the head is not HTTP */
        rp->done = 1;
        return HPE_PAUSED;
    }
    /* 1 tells llhttp there is no body (a HEAD answer) */
    return rp->head_method && p->status_code >= 200 ? 1 : 0;
}

static int aw__rp_body(llhttp_t *p, const char *at, size_t n)
{
    aw__rp *rp = p->data;
    aw__resp *r = rp->r;
    if (r->body_len + n > rp->max_body) {
        rp->too_big = 1;
        return -1;
    }
    if (r->body_len + n + 1 > rp->body_cap) {
        size_t cap = rp->body_cap ? rp->body_cap * 2 : 4096;
        while (cap < r->body_len + n + 1)
            cap *= 2;
        char *b = aw_arena_grow(rp->arena, r->body, rp->body_cap, cap);
        if (!b)
            return -1;
        r->body = b;
        rp->body_cap = cap;
    }
    memcpy(r->body + r->body_len, at, n);
    r->body_len += n;
    r->body[r->body_len] = 0;
    return 0;
}

static int aw__rp_complete(llhttp_t *p)
{
    aw__rp *rp = p->data;
    if (p->status_code >= 100 && p->status_code < 200)
        return 0; /* an interim response: the real one follows */
    rp->done = 1;
    rp->r->keep_alive = llhttp_should_keep_alive(p);
    return HPE_PAUSED;
}

int aw__read_response(aw_stream *s, const char *method, aw_arena *arena, size_t max_body,
                      int64_t timeout_ms, aw__resp *out)
{
    llhttp_settings_t st;
    llhttp_settings_init(&st);
    st.on_message_begin = aw__rp_begin;
    st.on_header_field = aw__rp_field;
    st.on_header_value = aw__rp_value;
    st.on_headers_complete = aw__rp_headers_done;
    st.on_body = aw__rp_body;
    st.on_message_complete = aw__rp_complete;
    aw__rp rp = {.r = out, .arena = arena, .max_body = max_body,
                 .head_method = method && !strcmp(method, "HEAD")};
    memset(out, 0, sizeof *out);
    aw_headers_init(&out->headers, arena);
    llhttp_init(&rp.p, HTTP_RESPONSE, &st);
    rp.p.data = &rp;
    while (!rp.done) {
        const char *data;
        ssize_t n = aw_stream_peek(s, &data, timeout_ms);
        if (n == AW_EOF) {
            /* a body delimited by the connection's end is complete now */
            if (llhttp_finish(&rp.p) == HPE_OK && rp.done)
                break;
            if (llhttp_message_needs_eof(&rp.p) && rp.r->status) {
                rp.done = 1;
                break;
            }
            return rp.r->status ? AW_EPROTO : AW_EOF;
        }
        if (n < 0)
            return (int)n;
        llhttp_errno_t e = llhttp_execute(&rp.p, data, (size_t)n);
        if (e == HPE_PAUSED) {
            aw_stream_consume(s, (size_t)(llhttp_get_error_pos(&rp.p) - data));
            break;
        }
        if (e != HPE_OK)
            return rp.too_big ? AW_EMSGSIZE : AW_EPROTO;
        aw_stream_consume(s, (size_t)n);
    }
    if (!out->body) {
        out->body = aw_arena_strdup(arena, "");
        out->body_len = 0;
    }
    return 0;
}
