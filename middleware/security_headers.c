/* Security headers; see security_headers.h. */
#include "security_headers.h"

#include "mw_int.h"

enum { AW__SH_CTO, AW__SH_XFO, AW__SH_REF, AW__SH_HSTS, AW__SH_CSP, AW__SH_N };

static const struct {
    const char *key, *header;
} aw__sh_names[AW__SH_N] = {
    {"content_type_options", "X-Content-Type-Options"},
    {"frame_options", "X-Frame-Options"},
    {"referrer_policy", "Referrer-Policy"},
    {"hsts", "Strict-Transport-Security"},
    {"content_security_policy", "Content-Security-Policy"},
};

struct aw_security_headers {
    char *value[AW__SH_N]; /* NULL: not sent */
};

void aw_security_headers_opts_default(aw_security_headers_opts *o)
{
    *o = (aw_security_headers_opts){.content_type_options = "nosniff",
                                     .frame_options = "DENY",
                                     .referrer_policy = "strict-origin-when-cross-origin",
                                     .hsts = "max-age=31536000; includeSubDomains"};
}

static void aw__sh_prepare(aw_request *req, aw_response *resp, void *arg)
{
    aw_security_headers *st = arg;
    if (aw_response_status(resp) == 101)
        return; /* a WebSocket handshake: no page to frame or sniff */
    aw_headers *h = aw_response_headers(resp);
    for (int i = 0; i < AW__SH_N; i++) {
        if (!st->value[i] || (i == AW__SH_HSTS && !aw_request_is_tls(req)))
            continue; /* HSTS over plain HTTP is ignored by browsers, and misleading */
        if (!aw_headers_get(h, aw__sh_names[i].header))
            aw_headers_add(h, aw__sh_names[i].header, st->value[i]);
    }
}

int aw_security_headers_config(void *state, const char *key, const char *value, char *err,
                               size_t errlen)
{
    aw_security_headers *st = state;
    for (int i = 0; i < AW__SH_N; i++) {
        if (strcmp(key, aw__sh_names[i].key))
            continue;
        if (value && strpbrk(value, "\r\n"))
            return aw__mw_refuse(err, errlen, "%s: a header value cannot hold a line break", key);
        return aw__mw_set_str(&st->value[i], value && *value ? value : NULL);
    }
    return aw__mw_refuse(err, errlen, "unknown key %s", key);
}

static void aw__sh_free(void *arg)
{
    aw_security_headers *st = arg;
    for (int i = 0; i < AW__SH_N; i++)
        free(st->value[i]);
    free(st);
}

aw_security_headers *aw_security_headers_use(aw_app *app, const aw_security_headers_opts *o)
{
    aw_security_headers_opts d;
    if (!o)
        aw_security_headers_opts_default(&d), o = &d;
    aw_security_headers *st = calloc(1, sizeof *st);
    if (!st)
        return NULL;
    if (aw_app_on_free(app, aw__sh_free, st)) {
        free(st);
        return NULL;
    }
    const char *v[AW__SH_N] = {o->content_type_options, o->frame_options, o->referrer_policy,
                               o->hsts, o->content_security_policy};
    char err[128];
    for (int i = 0; i < AW__SH_N; i++)
        if (aw_security_headers_config(st, aw__sh_names[i].key, v[i], err, sizeof err))
            return NULL;
    if (aw_app_on_response_prepare(app, aw__sh_prepare, st) ||
        aw_app_config_section(app, "security_headers", aw_security_headers_config, st))
        return NULL;
    return st;
}
