/* Error pages; see error_pages.h. */
#include "error_pages.h"

#include <stdlib.h>

#include "log.h"
#include "mw_int.h"
#include "request_id.h"

#define AW__EP_LOGGED "aw.error_logged"

struct aw_error_pages {
    int html_default;
    int hide_5xx;
    int log_5xx;
};

void aw_error_pages_opts_default(aw_error_pages_opts *o)
{
    *o = (aw_error_pages_opts){.default_type = "json", .hide_5xx = 1, .log_5xx = 1};
}

/* The q-value a media range in Accept gives to type/subtype (-1: none). */
static double aw__accept_q(const char *accept, const char *type, const char *subtype)
{
    double best = -1;
    int best_spec = -1;
    const char *p = accept;
    size_t tl = strlen(type), sl = strlen(subtype);
    while (*p) {
        while (*p == ' ' || *p == ',')
            p++;
        const char *r = p;
        while (*p && *p != ',' && *p != ';' && *p != ' ')
            p++;
        const char *slash = memchr(r, '/', (size_t)(p - r));
        double q = 1;
        while (*p && *p != ',') {
            if (*p == ';') {
                p++;
                while (*p == ' ')
                    p++;
                if ((p[0] == 'q' || p[0] == 'Q') && p[1] == '=')
                    q = strtod(p + 2, NULL);
            } else
                p++;
        }
        if (!slash)
            continue;
        size_t rt = (size_t)(slash - r), rs = 0;
        const char *s = slash + 1;
        while (s + rs < p && s[rs] != ';' && s[rs] != ',' && s[rs] != ' ')
            rs++;
        int spec = -1;
        if (rt == 1 && r[0] == '*' && rs == 1 && s[0] == '*')
            spec = 0;
        else if (rt == tl && !strncasecmp(r, type, tl)) {
            if (rs == 1 && s[0] == '*')
                spec = 1;
            else if (rs == sl && !strncasecmp(s, subtype, sl))
                spec = 2;
        }
        if (spec > best_spec) /* the most specific range decides */
            best_spec = spec, best = q;
    }
    return best;
}

/* 1 for HTML, 0 for JSON. */
static int aw__wants_html(const aw_error_pages *st, const char *accept)
{
    if (!accept || !*accept)
        return st->html_default;
    double j = aw__accept_q(accept, "application", "json");
    double h = aw__accept_q(accept, "text", "html");
    if (j <= 0 && h <= 0)
        return st->html_default;
    return h == j ? st->html_default : h > j;
}

/* Whether the body is empty or the server's own "404: Not Found\n". */
static int aw__bodyless(const aw_response *resp, int status)
{
    size_t len;
    const char *body = aw_response_body(resp, &len);
    if (!body || !len)
        return 1;
    char plain[96];
    int n = snprintf(plain, sizeof plain, "%d: %s\n", status, aw_http_reason(status));
    return n > 0 && (size_t)n == len && !memcmp(body, plain, len);
}

/* Ids come from request_id (safe characters); anything else is left out
 * rather than escaped. */
static const char *aw__page_id(const aw_request *req)
{
    const char *id = aw_request_id_of(req);
    if (!id)
        return NULL;
    for (const char *p = id; *p; p++)
        if (*p == '"' || *p == '\\' || *p == '<' || *p == '>' || *p == '&' || (unsigned char)*p < 0x20)
            return NULL;
    return id;
}

static void aw__fill(const aw_error_pages *st, aw_request *req, aw_response *resp, int status)
{
    const char *reason = aw_http_reason(status), *id = aw__page_id(req);
    char buf[512];
    int n;
    if (aw__wants_html(st, aw_request_header(req, "Accept"))) {
        n = snprintf(buf, sizeof buf,
                     "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>%d %s</title>"
                     "</head>\n<body><h1>%d %s</h1>%s%s%s</body></html>\n",
                     status, reason, status, reason, id ? "<p>Request id: <code>" : "",
                     id ? id : "", id ? "</code></p>" : "");
        aw_response_set_content_type(resp, "text/html; charset=utf-8");
    } else {
        n = snprintf(buf, sizeof buf, "{\"status\":%d,\"error\":\"%s\"%s%s%s}\n", status, reason,
                     id ? ",\"request_id\":\"" : "", id ? id : "", id ? "\"" : "");
        aw_response_set_content_type(resp, "application/json");
    }
    if (n > 0 && (size_t)n < sizeof buf)
        aw_response_set_body(resp, buf, (size_t)n);
    aw_response_add_header(resp, "Vary", "Accept");
}

static void aw__log_5xx(aw_request *req, int status, int err)
{
    const char *m = aw_request_method(req), *t = aw_request_raw_path(req);
    if (err)
        aw_log(AW_LOG_ERROR, "%s %s: %d %s (%s)", m, t ? t : "-", status, aw_http_reason(status),
               aw_strerror(err));
    else
        aw_log(AW_LOG_ERROR, "%s %s: %d %s", m, t ? t : "-", status, aw_http_reason(status));
}

static aw_response *aw__ep_mw(aw_request *req, aw_next *next, void *arg)
{
    aw_error_pages *st = arg;
    aw_response *resp = aw_next_call(next, req);
    int status, err = 0;
    if (resp)
        status = aw_response_status(resp);
    else if (aw_request_response(req))
        return NULL; /* it streamed, then failed: nothing more can be said */
    else {
        status = aw_request_error_status(req);
        err = aw_request_error(req);
        resp = aw_response_new(req, status);
    }
    if (status >= 500 && st->log_5xx) {
        aw__log_5xx(req, status, err);
        aw_request_set(req, AW__EP_LOGGED, "");
    }
    return resp;
}

static void aw__ep_prepare(aw_request *req, aw_response *resp, void *arg)
{
    aw_error_pages *st = arg;
    int status = aw_response_status(resp);
    if (status < 400)
        return;
    if (status >= 500 && st->log_5xx && !aw_request_get(req, AW__EP_LOGGED)) {
        /* made outside the chain: log with the id the middleware would have */
        const char *id = aw_request_id_of(req);
        int swap = id && !aw_ctxvar_get(&aw_log_request_id);
        if (swap)
            aw_ctxvar_set(&aw_log_request_id, (void *)id);
        aw__log_5xx(req, status, 0);
        if (swap)
            aw_ctxvar_set(&aw_log_request_id, NULL);
    }
    if (aw__bodyless(resp, status) || (status >= 500 && st->hide_5xx))
        aw__fill(st, req, resp, status);
}

int aw_error_pages_config(void *state, const char *key, const char *value, char *err,
                          size_t errlen)
{
    aw_error_pages *st = state;
    if (!strcmp(key, "default_type")) {
        if (strcmp(value, "json") && strcmp(value, "html"))
            return aw__mw_refuse(err, errlen, "default_type: json or html, not %s", value);
        st->html_default = !strcmp(value, "html");
        return 0;
    }
    int *flag = !strcmp(key, "hide_5xx") ? &st->hide_5xx : !strcmp(key, "log_5xx") ? &st->log_5xx
                                                                                   : NULL;
    if (!flag)
        return aw__mw_refuse(err, errlen, "unknown key %s", key);
    if (aw_parse_bool(value, flag))
        return aw__mw_refuse(err, errlen, "%s: on or off, not %s", key, value);
    return 0;
}

aw_error_pages *aw_error_pages_use(aw_app *app, const aw_error_pages_opts *o)
{
    aw_error_pages_opts d;
    if (!o)
        aw_error_pages_opts_default(&d), o = &d;
    if (o->default_type && strcmp(o->default_type, "json") && strcmp(o->default_type, "html"))
        return NULL;
    aw_error_pages *st = calloc(1, sizeof *st);
    if (!st || aw_app_on_free(app, free, st)) {
        free(st);
        return NULL;
    }
    st->html_default = o->default_type && !strcmp(o->default_type, "html");
    st->hide_5xx = o->hide_5xx;
    st->log_5xx = o->log_5xx;
    if (aw_app_use(app, aw__ep_mw, st) || aw_app_on_response_prepare(app, aw__ep_prepare, st) ||
        aw_app_config_section(app, "error_pages", aw_error_pages_config, st))
        return NULL;
    return st;
}
