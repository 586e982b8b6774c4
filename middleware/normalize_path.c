/* Path normalisation; see normalize_path.h.
 *
 * Each candidate form is made twice, from the decoded path (what the router
 * matches) and from the raw one (what the Location repeats): the decoded
 * path keeps %2F encoded, so the slashes of the two correspond one to one. */
#include "normalize_path.h"

#include "mw_int.h"

struct aw_normalize_path {
    int merge, append, remove, status;
};

void aw_normalize_path_opts_default(aw_normalize_path_opts *o)
{
    *o = (aw_normalize_path_opts){.merge_slashes = 1, .append_slash = 1, .status = 308};
}

enum { AW__NP_MERGE = 1, AW__NP_APPEND = 2, AW__NP_REMOVE = 4 };

/* Writes path (len bytes) transformed by how into out (room for len + 2). */
static size_t aw__np_form(const char *path, size_t len, int how, char *out)
{
    size_t n = 0;
    for (size_t i = 0; i < len; i++) {
        if ((how & AW__NP_MERGE) && path[i] == '/' && n && out[n - 1] == '/')
            continue;
        out[n++] = path[i];
    }
    if ((how & AW__NP_APPEND) && (!n || out[n - 1] != '/'))
        out[n++] = '/';
    if (how & AW__NP_REMOVE)
        while (n > 1 && out[n - 1] == '/')
            n--;
    out[n] = 0;
    return n;
}

static aw_response *aw__np_mw(aw_request *req, aw_next *next, void *arg)
{
    aw_normalize_path *st = arg;
    if (aw_request_match_status(req) != 404)
        return aw_next_call(next, req);
    const char *path = aw_request_path(req), *raw = aw_request_raw_path(req);
    const char *q = strchr(raw, '?');
    size_t plen = strlen(path), rlen = q ? (size_t)(q - raw) : strlen(raw);
    int forms[5], nf = 0;
    if (st->merge)
        forms[nf++] = AW__NP_MERGE;
    if (st->append) {
        forms[nf++] = AW__NP_APPEND;
        if (st->merge)
            forms[nf++] = AW__NP_MERGE | AW__NP_APPEND;
    }
    if (st->remove) {
        forms[nf++] = AW__NP_REMOVE;
        if (st->merge)
            forms[nf++] = AW__NP_MERGE | AW__NP_REMOVE;
    }
    char *cand = aw_request_alloc(req, plen + 2), *loc = aw_request_alloc(req, rlen + 2 + (q ? strlen(q) : 0));
    if (!cand || !loc)
        return aw_next_call(next, req);
    for (int i = 0; i < nf; i++) {
        size_t n = aw__np_form(path, plen, forms[i], cand);
        if ((n == plen && !memcmp(cand, path, plen)) ||
            aw_app_match(aw_request_app(req), aw_request_method(req), cand) != 200)
            continue;
        size_t m = aw__np_form(raw, rlen, forms[i], loc);
        if (loc[0] != '/' || loc[1] == '/' || loc[1] == '\\')
            break; /* would leave the site: //host, /\host */
        if (q)
            strcpy(loc + m, q);
        return aw_response_redirect(req, st->status, loc);
    }
    return aw_next_call(next, req);
}

int aw_normalize_path_config(void *state, const char *key, const char *value, char *err,
                             size_t errlen)
{
    aw_normalize_path *st = state;
    if (!strcmp(key, "status")) {
        char *end;
        long s = strtol(value, &end, 10);
        if (*end || (s != 301 && s != 302 && s != 307 && s != 308))
            return aw__mw_refuse(err, errlen, "status: 301, 302, 307 or 308, not %s", value);
        st->status = (int)s;
        return 0;
    }
    int *flag = !strcmp(key, "merge_slashes")  ? &st->merge
                : !strcmp(key, "append_slash") ? &st->append
                : !strcmp(key, "remove_slash") ? &st->remove
                                               : NULL;
    if (!flag)
        return aw__mw_refuse(err, errlen, "unknown key %s", key);
    if (aw_parse_bool(value, flag))
        return aw__mw_refuse(err, errlen, "%s: on or off, not %s", key, value);
    return 0;
}

aw_normalize_path *aw_normalize_path_use(aw_app *app, const aw_normalize_path_opts *o)
{
    aw_normalize_path_opts d;
    if (!o)
        aw_normalize_path_opts_default(&d), o = &d;
    int s = o->status ? o->status : 308;
    if (s != 301 && s != 302 && s != 307 && s != 308)
        return NULL;
    aw_normalize_path *st = calloc(1, sizeof *st);
    if (!st)
        return NULL;
    if (aw_app_on_free(app, free, st)) {
        free(st);
        return NULL;
    }
    *st = (aw_normalize_path){o->merge_slashes, o->append_slash, o->remove_slash, s};
    if (aw_app_use(app, aw__np_mw, st) ||
        aw_app_config_section(app, "normalize_path", aw_normalize_path_config, st))
        return NULL;
    return st;
}
