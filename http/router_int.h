/* The router (internal to http/): method + path pattern -> target.
 *
 * Patterns are aiohttp's: literal segments, `{name}` (one path segment,
 * [^/]+), and `{name:regex}` (a POSIX extended regex, which may span
 * slashes: `/static/{path:.*}`). User regexes must balance their
 * parentheses, may not use back-references, nor escapes POSIX lacks (\d:
 * write [0-9]); a route has at most 64 capture groups. Methods are tokens,
 * case-sensitive.
 *
 * Resolution follows registration order across all routes, like aiohttp: a
 * literal route added after a variable route that also matches does not win.
 * Literal routes are still found through a hash (GET / never runs a regex).
 *
 * Paths are matched as given by the caller (the server passes the
 * percent-decoded path, with %2F and %25 left encoded); a path containing a
 * NUL is NOT_FOUND. A path that matches routes but none with the request's
 * method resolves to AW__ROUTE_NOT_ALLOWED, with the methods that would have
 * matched listed for the Allow header. HEAD takes the first route that
 * answers HEAD itself (a HEAD or "*" route), else the first GET route (the
 * server omits the body).
 *
 * Lifetime: routes are added while building (not thread-safe, not while
 * resolving); the router owns copies of every string; targets are the
 * caller's.
 */
#ifndef AW_ROUTER_INT_H
#define AW_ROUTER_INT_H

#include <stddef.h>

#define AW__ROUTE_MAX_PARAMS 16

typedef struct aw__router aw__router;

typedef struct aw__param {
    const char *name;  /* the router's string */
    const char *value; /* points into the resolved path (not NUL-terminated) */
    size_t len;
} aw__param;

typedef struct aw__match {
    void *target;
    const char *name; /* the route's name or NULL */
    size_t nparams;
    aw__param params[AW__ROUTE_MAX_PARAMS];
} aw__match;

enum {
    AW__ROUTE_FOUND = 0,
    AW__ROUTE_NOT_FOUND = 1,   /* 404 */
    AW__ROUTE_NOT_ALLOWED = 2, /* 405: allow holds "GET, HEAD, POST" */
};

aw__router *aw__router_new(void);
void aw__router_free(aw__router *r);

/* Adds a route. method: "GET", "POST", ... or "*" for any. name may be NULL;
 * names are unique. Returns 0, or AW_EINVAL with the reason in err (a bad
 * pattern or regex, a duplicate name, a parameter named twice, more than
 * AW__ROUTE_MAX_PARAMS parameters), or AW_ENOMEM. */
int aw__router_add(aw__router *r, const char *method, const char *pattern, void *target,
                   const char *name, char *err, size_t errlen);

/* Resolves method + path (path_len bytes, not necessarily NUL-terminated).
 * Returns AW__ROUTE_FOUND and fills m (undefined otherwise), or NOT_FOUND, or
 * NOT_ALLOWED and fills allow (may be NULL; a NUL-terminated, comma-separated
 * list in the order the methods were first added, with HEAD after GET when
 * GET is there, cut at a method boundary if it does not fit). */
int aw__router_resolve(const aw__router *r, const char *method, const char *path,
                       size_t path_len, aw__match *m, char *allow, size_t allow_len);

/* Builds the URL of the named route: params is a NULL-terminated list of
 * name, value, name, value..., NULL. Values are percent-encoded for {name}
 * parameters (so "a/b" becomes "a%2Fb"); for {name:regex} parameters they are
 * encoded except '/', and must match the regex. Returns the length written
 * (NUL-terminated), or AW_ENOENT (no such name), AW_EINVAL (a missing or extra
 * parameter, an empty {name} value, a value not matching its regex),
 * AW_ENOBUFS (too long); on any error buf is "". */
int aw__router_url_for(const aw__router *r, const char *name, const char *const *params,
                       char *buf, size_t len);

/* The pattern of a named route, or NULL. */
const char *aw__router_pattern(const aw__router *r, const char *name);

#endif
