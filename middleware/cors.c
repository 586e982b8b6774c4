/* CORS; see cors.h. */
#include "cors.h"

#include "mw_int.h"

#define AW__CORS_KEY "aw.cors" /* the allowed origin, or "" when not allowed */

struct aw_cors {
    char *origins, *methods, *headers, *expose;
    int any_origin, any_header;
    int credentials;
    char max_age[24]; /* seconds, ready for the header; "" for none */
};

void aw_cors_opts_default(aw_cors_opts *o)
{
    *o = (aw_cors_opts){.origins = "",
                        .methods = "GET, HEAD, POST, PUT, PATCH, DELETE",
                        .headers = "*",
                        .expose_headers = ""};
}

static int aw__cors_origin_ok(const aw_cors *st, const char *origin)
{
    return st->any_origin || aw__mw_list_has(st->origins, origin, strlen(origin), 1);
}

/* Whether every header named in Access-Control-Request-Headers is allowed. */
static int aw__cors_headers_ok(const aw_cors *st, const char *asked)
{
    if (st->any_header || !asked)
        return 1;
    const char *p = asked, *name;
    size_t n;
    while ((n = aw__mw_list_next(&p, &name)))
        if (!aw__mw_list_has(st->headers, name, n, 1))
            return 0;
    return 1;
}

/* Whether the answer depends on the origin (so caches must vary on it). */
static int aw__cors_varies(const aw_cors *st) { return !st->any_origin || st->credentials; }

static void aw__cors_vary(aw_response *resp)
{
    if (!aw_headers_has_token(aw_response_headers(resp), "Vary", "Origin"))
        aw_response_add_header(resp, "Vary", "Origin");
}

static void aw__cors_allow(const aw_cors *st, aw_response *resp, const char *origin)
{
    aw_response_set_header(resp, "Access-Control-Allow-Origin",
                           st->any_origin && !st->credentials ? "*" : origin);
    if (st->credentials)
        aw_response_set_header(resp, "Access-Control-Allow-Credentials", "true");
}

static aw_response *aw__cors_preflight(aw_cors *st, aw_request *req, const char *origin,
                                       const char *method)
{
    const char *asked = aw_request_header(req, "Access-Control-Request-Headers");
    if (!aw__cors_origin_ok(st, origin) ||
        !aw__mw_list_has(st->methods, method, strlen(method), 0) ||
        !aw__cors_headers_ok(st, asked)) {
        aw_response *r = aw_http_error(req, 403, NULL);
        if (r && aw__cors_varies(st))
            aw__cors_vary(r);
        return r;
    }
    aw_response *r = aw_response_new(req, 204);
    if (!r)
        return NULL;
    aw__cors_allow(st, r, origin);
    aw_response_set_header(r, "Access-Control-Allow-Methods", st->methods);
    if (asked && *asked)
        aw_response_set_header(r, "Access-Control-Allow-Headers",
                               st->any_header ? asked : st->headers);
    if (st->max_age[0])
        aw_response_set_header(r, "Access-Control-Max-Age", st->max_age);
    if (aw__cors_varies(st))
        aw__cors_vary(r);
    return r;
}

static aw_response *aw__cors_mw(aw_request *req, aw_next *next, void *arg)
{
    aw_cors *st = arg;
    const char *origin = aw_request_header(req, "Origin");
    const char *method = aw_request_header(req, "Access-Control-Request-Method");
    if (origin && method && !strcmp(aw_request_method(req), "OPTIONS"))
        return aw__cors_preflight(st, req, origin, method);
    /* the hook adds the headers to whatever response this request gets */
    aw_request_set(req, AW__CORS_KEY, origin && aw__cors_origin_ok(st, origin) ? (void *)origin : "");
    return aw_next_call(next, req);
}

static void aw__cors_prepare(aw_request *req, aw_response *resp, void *arg)
{
    aw_cors *st = arg;
    const char *origin = aw_request_get(req, AW__CORS_KEY);
    if (!origin || aw_response_status(resp) == 101)
        return; /* a preflight (done), a request the middleware did not see, or a
                 * WebSocket handshake (CORS does not govern those: Origin is
                 * the handler's to check) */
    if (aw__cors_varies(st))
        aw__cors_vary(resp);
    if (!*origin)
        return;
    aw__cors_allow(st, resp, origin);
    if (*st->expose)
        aw_response_set_header(resp, "Access-Control-Expose-Headers", st->expose);
}

/* --- options ------------------------------------------------------------------ */

/* A list of tokens (methods, header names), or "*" where star is allowed. */
static int aw__cors_list_ok(const char *v, int star)
{
    const char *p = v, *e;
    size_t n;
    char tok[128];
    while ((n = aw__mw_list_next(&p, &e))) {
        if (n >= sizeof tok)
            return 0;
        memcpy(tok, e, n);
        tok[n] = 0;
        if (!(star && !strcmp(tok, "*")) && !aw__mw_is_token(tok))
            return 0;
    }
    return 1;
}

static int aw__cors_origins_ok(const char *v)
{
    for (const char *p = v; *p; p++)
        if ((unsigned char)*p <= 0x20 && *p != ' ')
            return 0;
    return 1;
}

int aw_cors_config(void *state, const char *key, const char *value, char *err, size_t errlen)
{
    aw_cors *st = state;
    char **slot = NULL;
    if (!strcmp(key, "origins")) {
        if (!aw__cors_origins_ok(value))
            return aw__mw_refuse(err, errlen, "origins: a list of origins or *, not %s", value);
        slot = &st->origins;
    } else if (!strcmp(key, "methods") || !strcmp(key, "headers") ||
               !strcmp(key, "expose_headers")) {
        if (!aw__cors_list_ok(value, strcmp(key, "headers") == 0))
            return aw__mw_refuse(err, errlen, "%s: a comma-separated list of names, not %s", key,
                                 value);
        slot = key[0] == 'm' ? &st->methods : key[0] == 'h' ? &st->headers : &st->expose;
    } else if (!strcmp(key, "credentials")) {
        if (aw_parse_bool(value, &st->credentials))
            return aw__mw_refuse(err, errlen, "credentials: on or off, not %s", value);
        return 0;
    } else if (!strcmp(key, "max_age")) {
        int64_t ms;
        if (aw_parse_duration(value, &ms) || ms < 0)
            return aw__mw_refuse(err, errlen, "max_age: a duration (10m), not %s", value);
        if (ms)
            snprintf(st->max_age, sizeof st->max_age, "%lld", (long long)((ms + 999) / 1000));
        else
            st->max_age[0] = 0;
        return 0;
    } else
        return aw__mw_refuse(err, errlen, "unknown key %s", key);
    if (aw__mw_set_str(slot, value))
        return AW_ENOMEM;
    st->any_origin = aw__mw_list_has(st->origins, "*", 1, 0);
    st->any_header = aw__mw_list_has(st->headers, "*", 1, 0);
    return 0;
}

static void aw__cors_free(void *arg)
{
    aw_cors *st = arg;
    free(st->origins), free(st->methods), free(st->headers), free(st->expose);
    free(st);
}

aw_cors *aw_cors_use(aw_app *app, const aw_cors_opts *o)
{
    aw_cors_opts d;
    aw_cors_opts_default(&d);
    if (!o)
        o = &d;
    aw_cors *st = calloc(1, sizeof *st);
    if (!st)
        return NULL;
    if (aw_app_on_free(app, aw__cors_free, st)) {
        free(st);
        return NULL;
    }
    char err[256], age[32];
    snprintf(age, sizeof age, "%lldms", (long long)(o->max_age_ms > 0 ? o->max_age_ms : 0));
    const char *keys[][2] = {{"origins", o->origins ? o->origins : ""},
                             {"methods", o->methods ? o->methods : d.methods},
                             {"headers", o->headers ? o->headers : d.headers},
                             {"expose_headers", o->expose_headers ? o->expose_headers : ""},
                             {"credentials", o->credentials ? "on" : "off"},
                             {"max_age", age}};
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
        if (aw_cors_config(st, keys[i][0], keys[i][1], err, sizeof err))
            return NULL;
    if (aw_app_use(app, aw__cors_mw, st) || aw_app_on_response_prepare(app, aw__cors_prepare, st) ||
        aw_app_config_section(app, "cors", aw_cors_config, st))
        return NULL;
    return st;
}
