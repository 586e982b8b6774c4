/* Deadlines; see deadline.h. */
#include "deadline.h"

#include "log.h"
#include "mw_int.h"
#include "runtime.h"
#include "timeout.h"

typedef struct aw__dl_rule {
    char *match; /* a route name, or a path prefix */
    size_t len;
    int64_t ms;
    int proxy;
} aw__dl_rule;

struct aw_deadline {
    int64_t timeout_ms;
    int status, proxy_status;
    aw__dl_rule *routes, *paths;
    size_t nroutes, npaths, cap_routes, cap_paths;
};

void aw_deadline_opts_default(aw_deadline_opts *o)
{
    *o = (aw_deadline_opts){.timeout_ms = 0, .status = 503, .proxy_status = 504};
}

static int aw__dl_add(aw__dl_rule **v, size_t *n, size_t *cap, const char *match, int64_t ms,
                      int proxy)
{
    for (size_t i = 0; i < *n; i++)
        if (!strcmp((*v)[i].match, match)) {
            (*v)[i].ms = ms;
            (*v)[i].proxy = proxy;
            return 0;
        }
    if (*n == *cap) {
        size_t c = *cap ? *cap * 2 : 4;
        aw__dl_rule *r = realloc(*v, c * sizeof *r);
        if (!r)
            return AW_ENOMEM;
        *v = r;
        *cap = c;
    }
    char *m = strdup(match);
    if (!m)
        return AW_ENOMEM;
    (*v)[(*n)++] = (aw__dl_rule){m, strlen(m), ms, proxy};
    return 0;
}

int aw_deadline_route(aw_deadline *d, const char *name, int64_t ms, int proxy)
{
    if (!name || !*name || ms < 0)
        return AW_EINVAL;
    return aw__dl_add(&d->routes, &d->nroutes, &d->cap_routes, name, ms, proxy);
}

int aw_deadline_path(aw_deadline *d, const char *prefix, int64_t ms, int proxy)
{
    if (!prefix || prefix[0] != '/' || ms < 0)
        return AW_EINVAL;
    return aw__dl_add(&d->paths, &d->npaths, &d->cap_paths, prefix, ms, proxy);
}

/* The rule for a request: a route name, the longest prefix, or NULL. */
static const aw__dl_rule *aw__dl_rule_for(const aw_deadline *d, aw_request *req)
{
    const char *name = aw_request_route_name(req);
    if (name)
        for (size_t i = 0; i < d->nroutes; i++)
            if (!strcmp(d->routes[i].match, name))
                return &d->routes[i];
    const aw__dl_rule *best = NULL;
    const char *path = aw_request_path(req);
    for (size_t i = 0; i < d->npaths; i++)
        if (!strncmp(path, d->paths[i].match, d->paths[i].len) &&
            (!best || d->paths[i].len > best->len))
            best = &d->paths[i];
    return best;
}

static aw_response *aw__dl_mw(aw_request *req, aw_next *next, void *arg)
{
    aw_deadline *d = arg;
    const aw__dl_rule *rule = d->nroutes || d->npaths ? aw__dl_rule_for(d, req) : NULL;
    int64_t ms = rule ? rule->ms : d->timeout_ms;
    if (!rule && aw_request_header(req, "Upgrade"))
        ms = 0;
    if (ms <= 0 || aw_timeout_push(ms))
        return aw_next_call(next, req);
    uint64_t due = aw_now() + (uint64_t)ms;
    aw_response *resp = aw_next_call(next, req);
    aw_timeout_pop();
    if (aw_now() < due || aw_request_response(req))
        return resp; /* in time, or already on its way */
    int status = rule && rule->proxy ? d->proxy_status : d->status;
    aw_log(AW_LOG_WARNING, "%s %s: over its %lld ms deadline: %d", aw_request_method(req),
           aw_request_raw_path(req), (long long)ms, status);
    return aw_http_error(req, status, NULL);
}

/* "NAME DURATION [proxy]" */
static int aw__dl_parse_rule(aw_deadline *d, int path, const char *v, char *err, size_t errlen)
{
    char what[256], dur[32], flag[16] = "";
    int n = sscanf(v, "%255s %31s %15s", what, dur, flag);
    int64_t ms;
    if (n < 2 || aw_parse_duration(dur, &ms) || ms < 0 || (n == 3 && strcmp(flag, "proxy")))
        return aw__mw_refuse(err, errlen, "%s: %s DURATION [proxy], not %s", path ? "path" : "route",
                             path ? "/PREFIX" : "NAME", v);
    int rc = path ? aw_deadline_path(d, what, ms, n == 3) : aw_deadline_route(d, what, ms, n == 3);
    if (rc == AW_EINVAL)
        return aw__mw_refuse(err, errlen, "path: a prefix starts with /, not %s", what);
    return rc;
}

int aw_deadline_config(void *state, const char *key, const char *value, char *err,
                       size_t errlen)
{
    aw_deadline *d = state;
    if (!strcmp(key, "timeout")) {
        if (aw_parse_duration(value, &d->timeout_ms) || d->timeout_ms < 0)
            return aw__mw_refuse(err, errlen, "timeout: a duration (30s; 0 for none), not %s",
                                 value);
        return 0;
    }
    if (!strcmp(key, "status") || !strcmp(key, "proxy_status")) {
        char *end;
        long s = strtol(value, &end, 10);
        if (*end || end == value || s < 500 || s > 599)
            return aw__mw_refuse(err, errlen, "%s: a 5xx status, not %s", key, value);
        *(key[0] == 's' ? &d->status : &d->proxy_status) = (int)s;
        return 0;
    }
    if (!strcmp(key, "route") || !strcmp(key, "path"))
        return aw__dl_parse_rule(d, key[0] == 'p', value, err, errlen);
    return aw__mw_refuse(err, errlen, "unknown key %s", key);
}

static void aw__dl_free(void *arg)
{
    aw_deadline *d = arg;
    for (size_t i = 0; i < d->nroutes; i++)
        free(d->routes[i].match);
    for (size_t i = 0; i < d->npaths; i++)
        free(d->paths[i].match);
    free(d->routes), free(d->paths);
    free(d);
}

aw_deadline *aw_deadline_use(aw_app *app, const aw_deadline_opts *o)
{
    aw_deadline_opts def;
    if (!o)
        aw_deadline_opts_default(&def), o = &def;
    aw_deadline *d = calloc(1, sizeof *d);
    if (!d)
        return NULL;
    if (aw_app_on_free(app, aw__dl_free, d)) {
        free(d);
        return NULL;
    }
    d->timeout_ms = o->timeout_ms > 0 ? o->timeout_ms : 0;
    d->status = o->status ? o->status : 503;
    d->proxy_status = o->proxy_status ? o->proxy_status : 504;
    if (d->status < 500 || d->status > 599 || d->proxy_status < 500 || d->proxy_status > 599 ||
        aw_app_use(app, aw__dl_mw, d) ||
        aw_app_config_section(app, "deadline", aw_deadline_config, d))
        return NULL;
    return d;
}
