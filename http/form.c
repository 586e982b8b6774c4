/* Request bodies as forms: urlencoded, or multipart with streamed parts.
 * The parsing itself is forms.c's and multipart.c's; this file connects them
 * to a request's body and arena. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "error.h"
#include "http_int.h"

struct aw_multipart {
    aw__multipart *m;
    aw_request *req;
};

static ssize_t aw__body_read(void *ctx, void *buf, size_t len)
{
    return aw_request_read(ctx, buf, len);
}

static void aw__multipart_release(void *m) { aw__multipart_free(m); }

static int aw__is_type(const char *ctype, const char *type)
{
    size_t n = strlen(type);
    return ctype && strncasecmp(ctype, type, n) == 0 && (!ctype[n] || ctype[n] == ';' ||
                                                          ctype[n] == ' ');
}

aw_multipart *aw_request_multipart(aw_request *r)
{
    char boundary[80];
    const char *ctype = aw_headers_get(&r->headers, "Content-Type");
    if (!aw__is_type(ctype, "multipart/form-data") ||
        aw__multipart_boundary(ctype, boundary, sizeof boundary) < 0) {
        r->body_error = r->body_error ? r->body_error : AW_EINVAL;
        return NULL;
    }
    aw_multipart *mp = aw_arena_calloc(&r->arena, sizeof *mp);
    if (!mp || !(mp->m = aw__multipart_new(boundary, aw__body_read, r)))
        return NULL;
    mp->req = r;
    aw_arena_on_free(&r->arena, aw__multipart_release, mp->m);
    return mp;
}

int aw_multipart_next(aw_multipart *m)
{
    int rc = aw__multipart_next(m->m);
    if (rc == AW_EINVAL && !m->req->pending_status)
        m->req->pending_status = 400;
    return rc;
}

const char *aw_multipart_name(const aw_multipart *m) { return aw__multipart_name(m->m); }
const char *aw_multipart_filename(const aw_multipart *m) { return aw__multipart_filename(m->m); }
const char *aw_multipart_header(const aw_multipart *m, const char *name)
{
    return aw__multipart_header(m->m, name);
}

ssize_t aw_multipart_read(aw_multipart *m, void *buf, size_t len)
{
    return aw__multipart_read(m->m, buf, len);
}

static void *aw__req_alloc(void *ctx, size_t size) { return aw_arena_alloc(ctx, size); }

/* Fields of a multipart body (file parts skipped), bounded by client_max_size. */
static int aw__form_multipart(aw_request *r, aw__kvlist *l)
{
    aw_multipart *mp = aw_request_multipart(r);
    size_t max = r->srv->cfg->client_max_size, total = 0, cap = 0;
    int rc;
    if (!mp)
        return AW_EINVAL;
    while ((rc = aw_multipart_next(mp)) == 1) {
        if (aw_multipart_filename(mp))
            continue; /* skipped by next() */
        char *val = NULL;
        size_t n = 0, vcap = 256;
        val = aw_arena_alloc(&r->arena, vcap + 1);
        for (;;) {
            if (!val)
                return AW_ENOMEM;
            ssize_t got = aw_multipart_read(mp, val + n, vcap - n);
            if (got < 0)
                return (int)got;
            if (!got)
                break;
            n += (size_t)got;
            if ((total += (size_t)got) > max) {
                r->pending_status = 413;
                return AW_EMSGSIZE;
            }
            if (n == vcap) {
                val = aw_arena_grow(&r->arena, val, vcap + 1, vcap * 2 + 1);
                vcap *= 2;
            }
        }
        val[n] = 0;
        if (l->n == cap) {
            cap = cap ? cap * 2 : 8;
            aw__kv *items = aw_arena_grow(&r->arena, l->items, l->n * sizeof *items,
                                          cap * sizeof *items);
            if (!items)
                return AW_ENOMEM;
            l->items = items;
        }
        l->items[l->n++] = (aw__kv){aw_arena_strdup(&r->arena, aw_multipart_name(mp)), val};
    }
    return rc;
}

static int aw__form_load(aw_request *r)
{
    if (r->form)
        return 0;
    aw__kvlist *l = aw_arena_calloc(&r->arena, sizeof *l);
    if (!l)
        return AW_ENOMEM;
    const char *ctype = aw_headers_get(&r->headers, "Content-Type");
    int rc;
    if (aw__is_type(ctype, "application/x-www-form-urlencoded")) {
        const char *body;
        size_t len;
        rc = aw_request_body(r, &body, &len);
        if (!rc)
            rc = aw__parse_urlencoded(body, len, aw__req_alloc, &r->arena, 10000, l);
    } else if (aw__is_type(ctype, "multipart/form-data"))
        rc = aw__form_multipart(r, l);
    else
        rc = AW_EINVAL;
    if (rc == AW_EINVAL && !r->pending_status)
        r->pending_status = 400;
    if (rc) {
        if (!r->body_error)
            r->body_error = rc;
        return rc;
    }
    r->form = l;
    return 0;
}

const char *aw_request_form(aw_request *r, const char *name)
{
    return aw__form_load(r) ? NULL : aw__kv_get(r->form, name);
}

size_t aw_request_form_all(aw_request *r, const char *name, const char **out, size_t cap)
{
    return aw__form_load(r) ? 0 : aw__kv_get_all(r->form, name, out, cap);
}

int aw_request_form_error(aw_request *r)
{
    if (r->form)
        return 0;
    return r->body_error ? r->body_error : aw__form_load(r);
}
