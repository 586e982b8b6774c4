/* The router; see router_int.h for the contract.
 *
 * Resolution follows registration order, as aiohttp's does: the first route
 * whose pattern matches the path and whose method matches wins, literal or
 * variable. A literal route added after a variable route that also matches
 * its path does not win over it.
 *
 * The hash table of literal paths gives the same answer as that linear scan
 * without touching a regex for `GET /`. A literal route's path is known when
 * it is added, so its entry lists, in order, every route up to the entry's
 * last literal route that matches the path: the literal routes and the
 * variable routes tested against the path then. Resolution scans that list,
 * then only the variable routes added after it (vars[var_next..]).
 *
 * Methods: "*" matches any method, HEAD included (it counts as an explicit
 * HEAD route). A HEAD request takes the first route that answers HEAD
 * explicitly; only when none matches does it fall back to the first GET route.
 *
 * Matching: a pattern whose {name} parameters each end at a '/' or at the end
 * (the usual `/users/{id}/posts`) is matched by hand. Any other variable
 * pattern is compiled into one anchored POSIX extended regex, each parameter
 * a group; a user regex may add groups of its own, so each parameter records
 * its capture index. User regexes must balance their parentheses (or they could
 * close the group they are wrapped in), may not use back-references (their
 * numbers would shift in the combined regex) nor escapes such as \d, which
 * POSIX reads silently as a plain 'd'.
 *
 * A path holding a NUL resolves to NOT_FOUND: no pattern can hold one, and a
 * value with one would be cut short by whoever makes it a C string. url_for
 * checks a {name:regex} value against its regex before encoding it, as the
 * router will see it decoded.
 *
 * Resolving only reads the router: threads may resolve concurrently once
 * building is over.
 */
#include "router_int.h"

#include <limits.h>
#include <regex.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"

/* Capture groups per route regex, the parameters' own and their regexes'. */
#define AW__ROUTE_MAX_GROUPS 64

typedef struct aw__piece {
    const char *lit; /* literal text (into the route's pattern) */
    size_t len;
    int param; /* index into params, or -1 for a literal piece */
} aw__piece;

typedef struct aw__rparam {
    const char *name;   /* the route's copy */
    const char *re_src; /* the user's regex, or NULL for the default [^/]+ */
    int group;          /* its capture index in the route's regex */
    regex_t check;      /* ^(re_src)$ for url_for, compiled when re_src is set */
} aw__rparam;

typedef struct aw__route {
    const char *method, *pattern, *name; /* into strs */
    void *target;
    int any_method;
    int simple; /* matched by hand, no regex */
    int has_re;
    size_t nparams, npieces;
    aw__rparam params[AW__ROUTE_MAX_PARAMS];
    aw__piece pieces[2 * AW__ROUTE_MAX_PARAMS + 1];
    regex_t re;
    char strs[]; /* method, pattern, name, then parameter names and regexes */
} aw__route;

/* Open-addressed string table (linear probing, at most half full). Keys are
 * the routes' strings, so they live as long as the router. */
typedef struct aw__slot {
    const char *key;
    size_t len, hash;
    void *val;
} aw__slot;

typedef struct aw__tab {
    aw__slot *slots;
    size_t cap, n;
} aw__tab;

/* A literal path's entry: every route that can match it, up to its last
 * literal route, in registration order (see the top comment). */
typedef struct aw__lit {
    aw__route **cands;
    size_t n, cap;
    size_t var_next; /* variable routes from here on were added after */
} aw__lit;

/* Each literal route is in one aw__lit, each variable route in vars: those
 * two own them. */
struct aw__router {
    aw__route **vars; /* variable routes, in order */
    size_t nvars, vcap;
    aw__tab lits;  /* path -> aw__lit */
    aw__tab names; /* name -> aw__route */
};

/* --- string table ------------------------------------------------------ */

static size_t aw__hash(const char *s, size_t len)
{
    uint64_t h = 14695981039346656037ull; /* FNV-1a */
    for (size_t i = 0; i < len; i++)
        h = (h ^ (unsigned char)s[i]) * 1099511628211ull;
    return (size_t)h;
}

static aw__slot *aw__tab_slot(const aw__tab *t, const char *key, size_t len, size_t hash)
{
    size_t mask = t->cap - 1, i = hash & mask;
    while (t->slots[i].key && !(t->slots[i].hash == hash && t->slots[i].len == len &&
                                memcmp(t->slots[i].key, key, len) == 0))
        i = (i + 1) & mask;
    return &t->slots[i];
}

static void *aw__tab_get(const aw__tab *t, const char *key, size_t len)
{
    return t->n ? aw__tab_slot(t, key, len, aw__hash(key, len))->val : NULL;
}

/* Makes room for n entries, so that the next puts cannot fail. */
static int aw__tab_reserve(aw__tab *t, size_t n)
{
    if (2 * n <= t->cap)
        return 0;
    size_t cap = t->cap ? 2 * t->cap : 16;
    while (2 * n > cap)
        cap *= 2;
    aw__tab bigger = {calloc(cap, sizeof(aw__slot)), cap, t->n};
    if (!bigger.slots)
        return AW_ENOMEM;
    for (size_t i = 0; i < t->cap; i++)
        if (t->slots[i].key)
            *aw__tab_slot(&bigger, t->slots[i].key, t->slots[i].len, t->slots[i].hash) =
                t->slots[i];
    free(t->slots);
    *t = bigger;
    return 0;
}

static void aw__tab_put(aw__tab *t, const char *key, size_t len, void *val)
{
    size_t hash = aw__hash(key, len);
    aw__slot *s = aw__tab_slot(t, key, len, hash);
    if (!s->key)
        t->n++;
    *s = (aw__slot){key, len, hash, val};
}

static int aw__grow(void *arrp, size_t *cap, size_t need, size_t size)
{
    void **arr = arrp;
    if (need <= *cap)
        return 0;
    size_t n = *cap ? 2 * *cap : 8;
    while (n < need)
        n *= 2;
    void *p = realloc(*arr, n * size);
    if (!p)
        return AW_ENOMEM;
    *arr = p;
    *cap = n;
    return 0;
}

/* --- parsing patterns ------------------------------------------------- */

__attribute__((format(printf, 4, 5))) static int aw__fail(char *err, size_t errlen,
                                                          const char *pattern, const char *fmt, ...)
{
    if (err && errlen) {
        int n = snprintf(err, errlen, "pattern \"%s\": ", pattern);
        if (n >= 0 && (size_t)n < errlen) {
            va_list ap;
            va_start(ap, fmt);
            vsnprintf(err + n, errlen - (size_t)n, fmt, ap);
            va_end(ap);
        }
    }
    return AW_EINVAL;
}

/* Copies n bytes of s to *dst as a string and moves *dst past it. */
static const char *aw__put_str(char **dst, const char *s, size_t n)
{
    char *d = *dst;
    memcpy(d, s, n);
    d[n] = '\0';
    *dst += n + 1;
    return d;
}

static int aw__ident_start(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_';
}

static int aw__ident_char(char c) { return aw__ident_start(c) || (c >= '0' && c <= '9'); }

/* p is at '['; returns the ']' that closes the bracket expression, or NULL. A
 * ']' first in the list is literal, and [:class:] [.coll.] [=equiv=] nest. */
static const char *aw__bracket_end(const char *p)
{
    p++;
    if (*p == '^')
        p++;
    if (*p == ']')
        p++;
    for (; *p && *p != ']'; p++) {
        if (*p == '[' && (p[1] == ':' || p[1] == '.' || p[1] == '=')) {
            char kind = p[1];
            for (p += 2; *p && !(p[0] == kind && p[1] == ']'); p++)
                ;
            if (!*p)
                return NULL;
            p++;
        }
    }
    return *p ? p : NULL;
}

/* Finds the '}' that closes a {name:regex} parameter, p being just past the
 * ':'. Escapes and bracket expressions are skipped, so `[}]` and `\}` do not
 * close it, while a quantifier such as {2,3} nests. */
static const char *aw__regex_end(const char *p, const char **why)
{
    int braces = 0, parens = 0;
    for (; *p; p++) {
        switch (*p) {
        case '\\':
            if (p[1] >= '1' && p[1] <= '9')
                return *why = "back-references are not supported", NULL;
            if (aw__ident_char(p[1]) && !strchr("wWsSbB", p[1]))
                return *why = "an escape that POSIX regexes do not have (\\d: use [0-9])", NULL;
            if (p[1])
                p++;
            break;
        case '[':
            if (!(p = aw__bracket_end(p)))
                return *why = "unbalanced '['", NULL;
            break;
        case '(': parens++; break;
        case ')':
            if (--parens < 0)
                return *why = "unbalanced ')' in a regex", NULL;
            break;
        case '{': braces++; break;
        case '}':
            if (braces-- > 0)
                break;
            if (parens)
                return *why = "unbalanced '(' in a regex", NULL;
            return p;
        }
    }
    return *why = "unbalanced '{'", NULL;
}

static int aw__param_compile(aw__rparam *pa, const char *pattern, char *err, size_t errlen)
{
    char *src = malloc(strlen(pa->re_src) + 5);
    if (!src)
        return AW_ENOMEM;
    sprintf(src, "^(%s)$", pa->re_src);
    int rc = regcomp(&pa->check, src, REG_EXTENDED);
    free(src);
    if (rc == 0)
        return 0;
    char msg[128];
    regerror(rc, &pa->check, msg, sizeof msg);
    return aw__fail(err, errlen, pattern, "bad regex for {%s}: %s", pa->name, msg);
}

/* Parses the parameter at *pp (a '{'), copying its strings to *dst. */
static int aw__param_parse(aw__route *rt, const char **pp, char **dst, char *err, size_t errlen)
{
    const char *s = *pp + 1, *name = s, *why = NULL, *end;
    while (aw__ident_char(*s))
        s++;
    size_t nlen = (size_t)(s - name);
    if (!*s)
        return aw__fail(err, errlen, rt->pattern, "unbalanced '{'");
    if (!nlen || !aw__ident_start(*name) || (*s != '}' && *s != ':'))
        return aw__fail(err, errlen, rt->pattern, "invalid parameter name at offset %zu",
                        (size_t)(name - rt->pattern));
    aw__rparam *pa = &rt->params[rt->nparams];
    pa->name = aw__put_str(dst, name, nlen);
    for (size_t i = 0; i < rt->nparams; i++)
        if (strcmp(rt->params[i].name, pa->name) == 0)
            return aw__fail(err, errlen, rt->pattern, "parameter {%s} named twice", pa->name);
    pa->re_src = NULL;
    if (*s == ':') {
        if (!(end = aw__regex_end(s + 1, &why)))
            return aw__fail(err, errlen, rt->pattern, "%s", why);
        if (end == s + 1)
            return aw__fail(err, errlen, rt->pattern, "empty regex for {%s}", pa->name);
        pa->re_src = aw__put_str(dst, s + 1, (size_t)(end - s - 1));
        int rc = aw__param_compile(pa, rt->pattern, err, errlen);
        if (rc)
            return rc;
        s = end;
    }
    rt->pieces[rt->npieces++] = (aw__piece){NULL, 0, (int)rt->nparams++};
    *pp = s + 1;
    return 0;
}

static int aw__route_parse(aw__route *rt, char *dst, char *err, size_t errlen)
{
    const char *p = rt->pattern;
    if (*p != '/')
        return aw__fail(err, errlen, rt->pattern, "must start with '/'");
    while (*p) {
        if (*p == '}')
            return aw__fail(err, errlen, rt->pattern, "unbalanced '}'");
        if (*p != '{') {
            size_t n = strcspn(p, "{}");
            rt->pieces[rt->npieces++] = (aw__piece){p, n, -1};
            p += n;
            continue;
        }
        if (rt->nparams == AW__ROUTE_MAX_PARAMS)
            return aw__fail(err, errlen, rt->pattern, "more than %d parameters",
                            AW__ROUTE_MAX_PARAMS);
        int rc = aw__param_parse(rt, &p, &dst, err, errlen);
        if (rc)
            return rc;
    }
    return 0;
}

/* A trailing {name:.*} takes the rest of the path (the static files' route):
 * no regex is needed for it either. */
static int aw__is_tail(const aw__route *rt, size_t i)
{
    const char *re = rt->params[rt->pieces[i].param].re_src;
    return i + 1 == rt->npieces && re && !strcmp(re, ".*");
}

/* A pattern can skip the regex when each parameter is a plain {name} that
 * runs to a '/' or to the end: [^/]+ then has only one way to match. */
static int aw__route_is_simple(const aw__route *rt)
{
    for (size_t i = 0; i < rt->npieces; i++) {
        const aw__piece *pc = &rt->pieces[i];
        if (pc->param < 0 || aw__is_tail(rt, i))
            continue;
        if (rt->params[pc->param].re_src)
            return 0;
        if (i + 1 < rt->npieces && (pc[1].param >= 0 || pc[1].lit[0] != '/'))
            return 0;
    }
    return 1;
}

/* Appends the route's regex to out; returns the number of groups. */
static size_t aw__route_regex(aw__route *rt, char *out)
{
    size_t groups = 0;
    *out++ = '^';
    for (size_t i = 0; i < rt->npieces; i++) {
        const aw__piece *pc = &rt->pieces[i];
        if (pc->param < 0) {
            for (size_t j = 0; j < pc->len; j++) {
                if (strchr(".[\\()*+?|^$", pc->lit[j]))
                    *out++ = '\\';
                *out++ = pc->lit[j];
            }
            continue;
        }
        aw__rparam *pa = &rt->params[pc->param];
        const char *re = pa->re_src ? pa->re_src : "[^/]+";
        pa->group = (int)++groups;
        if (pa->re_src)
            groups += pa->check.re_nsub - 1; /* check is ^(re)$: one group is ours */
        out += sprintf(out, "(%s)", re);
    }
    strcpy(out, "$");
    return groups;
}

static int aw__route_compile(aw__route *rt, char *err, size_t errlen)
{
    if ((rt->simple = aw__route_is_simple(rt)))
        return 0;
    char *src = malloc(2 * strlen(rt->pattern) + 8 * rt->nparams + 3);
    if (!src)
        return AW_ENOMEM;
    size_t groups = aw__route_regex(rt, src);
    int rc = 0;
    if (groups > AW__ROUTE_MAX_GROUPS)
        rc = aw__fail(err, errlen, rt->pattern, "more than %d regex groups", AW__ROUTE_MAX_GROUPS);
    else if ((rc = regcomp(&rt->re, src, REG_EXTENDED)) != 0) {
        char msg[128];
        regerror(rc, &rt->re, msg, sizeof msg);
        rc = aw__fail(err, errlen, rt->pattern, "bad regex: %s", msg);
    } else
        rt->has_re = 1;
    free(src);
    return rc;
}

static void aw__route_free(aw__route *rt)
{
    for (size_t i = 0; i < rt->nparams; i++)
        if (rt->params[i].re_src)
            regfree(&rt->params[i].check);
    if (rt->has_re)
        regfree(&rt->re);
    free(rt);
}

static int aw__route_new(const char *method, const char *pattern, const char *name, void *target,
                         aw__route **out, char *err, size_t errlen)
{
    size_t mlen = strlen(method), plen = strlen(pattern), nlen = name ? strlen(name) : 0;
    /* parameter names and regexes are disjoint parts of the pattern, each
     * shorter than its part, so another plen + 1 bytes holds them */
    aw__route *rt = calloc(1, sizeof *rt + mlen + 2 * plen + nlen + 4);
    if (!rt)
        return AW_ENOMEM;
    char *s = rt->strs;
    rt->method = aw__put_str(&s, method, mlen);
    rt->pattern = aw__put_str(&s, pattern, plen);
    rt->name = name ? aw__put_str(&s, name, nlen) : NULL;
    rt->target = target;
    rt->any_method = strcmp(method, "*") == 0;
    int rc = aw__route_parse(rt, s, err, errlen);
    if (!rc)
        rc = aw__route_compile(rt, err, errlen);
    if (rc) {
        aw__route_free(rt);
        return rc;
    }
    *out = rt;
    return 0;
}

/* --- matching --------------------------------------------------------- */

static int aw__match_simple(const aw__route *rt, const char *path, size_t len, aw__match *m)
{
    size_t at = 0;
    for (size_t i = 0; i < rt->npieces; i++) {
        const aw__piece *pc = &rt->pieces[i];
        if (pc->param < 0) {
            if (len - at < pc->len || memcmp(path + at, pc->lit, pc->len) != 0)
                return 0;
            at += pc->len;
            continue;
        }
        size_t end = at;
        if (rt->params[pc->param].re_src) { /* the tail: anything, even nothing */
            m->params[pc->param] = (aw__param){rt->params[pc->param].name, path + at, len - at};
            return 1;
        }
        while (end < len && path[end] != '/')
            end++;
        if (end == at)
            return 0;
        m->params[pc->param] = (aw__param){rt->params[pc->param].name, path + at, end - at};
        at = end;
    }
    return at == len;
}

/* regexec gets a NUL-terminated copy of the path: REG_STARTEND would spare it,
 * but ASan's regexec interceptor ignores the flag and runs strlen past the
 * path, and musl lacks it. A long path that cannot be copied matches nothing. */
static int aw__match_regex(const aw__route *rt, const char *path, size_t len, aw__match *m)
{
    regmatch_t pm[AW__ROUTE_MAX_GROUPS + 1];
    const aw__piece *pre = &rt->pieces[0]; /* literal: patterns start with '/' */
    if (len < pre->len || memcmp(path, pre->lit, pre->len) != 0)
        return 0; /* spares a regexec (~100 ns each) for most routes */
    char local[512], *s = len < sizeof local ? local : malloc(len + 1);
    if (!s)
        return 0;
    memcpy(s, path, len);
    s[len] = '\0';
    int rc = regexec(&rt->re, s, rt->re.re_nsub + 1, pm, 0);
    if (s != local)
        free(s);
    if (rc != 0)
        return 0;
    for (size_t i = 0; i < rt->nparams; i++) {
        const regmatch_t *g = &pm[rt->params[i].group];
        m->params[i] =
            (aw__param){rt->params[i].name, path + g->rm_so, (size_t)(g->rm_eo - g->rm_so)};
    }
    return 1;
}

/* Fills all of m when the path matches; m's contents are undefined if not. */
static int aw__route_match(const aw__route *rt, const char *path, size_t len, aw__match *m)
{
    if (!(rt->simple ? aw__match_simple(rt, path, len, m) : aw__match_regex(rt, path, len, m)))
        return 0;
    m->target = rt->target;
    m->name = rt->name;
    m->nparams = rt->nparams;
    return 1;
}

/* --- building ------------------------------------------------------------ */

aw__router *aw__router_new(void) { return calloc(1, sizeof(aw__router)); }

void aw__router_free(aw__router *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < r->lits.cap; i++) {
        aw__lit *e = r->lits.slots[i].val;
        for (size_t j = 0; e && j < e->n; j++)
            if (!e->cands[j]->nparams)
                aw__route_free(e->cands[j]);
        if (e)
            free(e->cands);
        free(e);
    }
    for (size_t i = 0; i < r->nvars; i++)
        aw__route_free(r->vars[i]);
    free(r->lits.slots);
    free(r->names.slots);
    free(r->vars);
    free(r);
}

static int aw__method_ok(const char *m)
{
    if (strcmp(m, "*") == 0)
        return 1;
    for (const char *p = m; *p; p++)
        if (!aw__ident_char(*p) && !strchr("!#$%&'*+-.^`|~", *p))
            return 0;
    return *m != '\0';
}

/* Adds a literal route to its path's entry, with the variable routes added
 * since the entry was last extended that match the path. Either everything
 * is added or nothing is. */
static int aw__router_add_lit(aw__router *r, aw__route *rt)
{
    size_t len = strlen(rt->pattern);
    aw__lit *e = aw__tab_get(&r->lits, rt->pattern, len), *fresh = NULL;
    if (!e) {
        if (aw__tab_reserve(&r->lits, r->lits.n + 1) || !(e = fresh = calloc(1, sizeof *e)))
            return AW_ENOMEM;
    }
    if (aw__grow(&e->cands, &e->cap, e->n + r->nvars - e->var_next + 1, sizeof *e->cands)) {
        free(fresh);
        return AW_ENOMEM;
    }
    aw__match scratch;
    for (size_t i = e->var_next; i < r->nvars; i++)
        if (aw__route_match(r->vars[i], rt->pattern, len, &scratch))
            e->cands[e->n++] = r->vars[i];
    e->cands[e->n++] = rt;
    e->var_next = r->nvars;
    if (fresh)
        aw__tab_put(&r->lits, rt->pattern, len, fresh);
    return 0;
}

int aw__router_add(aw__router *r, const char *method, const char *pattern, void *target,
                   const char *name, char *err, size_t errlen)
{
    const char *pat = pattern ? pattern : "(null)";
    if (!r || !method || !pattern)
        return aw__fail(err, errlen, pat, "a router, a method and a pattern are needed");
    if (!aw__method_ok(method))
        return aw__fail(err, errlen, pat, "invalid method \"%s\"", method);
    if (name && !*name)
        return aw__fail(err, errlen, pat, "empty route name");
    if (name && aw__tab_get(&r->names, name, strlen(name)))
        return aw__fail(err, errlen, pat, "duplicate route name \"%s\"", name);
    aw__route *rt;
    int rc = aw__route_new(method, pattern, name, target, &rt, err, errlen);
    if (rc)
        return rc;
    if ((name && aw__tab_reserve(&r->names, r->names.n + 1)) ||
        aw__grow(&r->vars, &r->vcap, r->nvars + 1, sizeof *r->vars) ||
        (!rt->nparams && aw__router_add_lit(r, rt))) {
        aw__route_free(rt);
        return AW_ENOMEM;
    }
    if (rt->nparams)
        r->vars[r->nvars++] = rt;
    if (name)
        aw__tab_put(&r->names, rt->name, strlen(rt->name), rt);
    return 0;
}

/* --- resolving ------------------------------------------------------------ */

typedef struct aw__lookup {
    const char *method, *path;
    size_t len;
    int head;
    aw__match *m;
    const aw__route *fallback; /* the first GET route matching a HEAD request */
} aw__lookup;

/* Returns 1 when rt is the answer; remembers a GET route for a HEAD request. */
static int aw__lookup_try(aw__lookup *lk, const aw__route *rt)
{
    int direct = rt->any_method || strcmp(rt->method, lk->method) == 0;
    if (!direct && !(lk->head && !lk->fallback && strcmp(rt->method, "GET") == 0))
        return 0;
    if (!aw__route_match(rt, lk->path, lk->len, lk->m))
        return 0;
    if (!direct)
        lk->fallback = rt;
    return direct;
}

static int aw__allow_has(const char *allow, const char *method)
{
    size_t n = strlen(method);
    for (const char *p = allow; *p; p += strspn(p, ", ")) {
        size_t t = strcspn(p, ",");
        if (t == n && memcmp(p, method, n) == 0)
            return 1;
        p += t;
    }
    return 0;
}

/* Appends method unless listed; once one does not fit, the list stops there. */
static void aw__allow_add(char *allow, size_t cap, size_t *at, const char *method)
{
    size_t n = strlen(method), sep = *at ? 2 : 0;
    if (*at == SIZE_MAX || aw__allow_has(allow, method))
        return;
    if (*at + sep + n >= cap) {
        *at = SIZE_MAX;
        return;
    }
    memcpy(allow + *at, ", ", sep);
    memcpy(allow + *at + sep, method, n + 1);
    *at += sep + n;
    if (strcmp(method, "GET") == 0)
        aw__allow_add(allow, cap, at, "HEAD");
}

/* Lists the methods of the routes matching the path; returns how many match. */
static size_t aw__router_allow(const aw__router *r, const aw__lit *e, const char *path, size_t len,
                               char *allow, size_t cap)
{
    char none[1];
    size_t at = 0, n = 0;
    aw__match scratch;
    if (!allow || !cap) {
        allow = none;
        cap = 1;
    }
    allow[0] = '\0';
    for (size_t i = 0; e && i < e->n; i++, n++)
        aw__allow_add(allow, cap, &at, e->cands[i]->method);
    for (size_t i = e ? e->var_next : 0; i < r->nvars; i++)
        if (aw__route_match(r->vars[i], path, len, &scratch)) {
            aw__allow_add(allow, cap, &at, r->vars[i]->method);
            n++;
        }
    return n;
}

int aw__router_resolve(const aw__router *r, const char *method, const char *path, size_t path_len,
                       aw__match *m, char *allow, size_t allow_len)
{
    aw__lookup lk = {method, path, path_len, strcmp(method, "HEAD") == 0, m, NULL};
    if (memchr(path, '\0', path_len))
        return AW__ROUTE_NOT_FOUND;
    const aw__lit *e = aw__tab_get(&r->lits, path, path_len);
    for (size_t i = 0; e && i < e->n; i++)
        if (aw__lookup_try(&lk, e->cands[i]))
            return AW__ROUTE_FOUND;
    for (size_t i = e ? e->var_next : 0; i < r->nvars; i++)
        if (aw__lookup_try(&lk, r->vars[i]))
            return AW__ROUTE_FOUND;
    if (lk.fallback && aw__route_match(lk.fallback, path, path_len, m)) /* m was overwritten */
        return AW__ROUTE_FOUND;
    if (aw__router_allow(r, e, path, path_len, allow, allow_len))
        return AW__ROUTE_NOT_ALLOWED;
    return AW__ROUTE_NOT_FOUND;
}

/* --- building URLs ------------------------------------------------------- */

typedef struct aw__out {
    char *buf;
    size_t cap, n; /* n counts on past cap, so overflow shows at the end */
} aw__out;

static void aw__out_put(aw__out *o, const char *s, size_t len)
{
    if (o->n + len < o->cap)
        memcpy(o->buf + o->n, s, len);
    o->n += len;
}

static void aw__out_quote(aw__out *o, const char *v, int keep_slash)
{
    static const char hex[] = "0123456789ABCDEF";
    for (; *v; v++) {
        unsigned char c = (unsigned char)*v;
        if (aw__ident_char((char)c) || strchr("-.~", c) || (keep_slash && c == '/')) {
            aw__out_put(o, v, 1);
        } else {
            char pct[3] = {'%', hex[c >> 4], hex[c & 15]};
            aw__out_put(o, pct, 3);
        }
    }
}

/* Pairs the given values with the route's parameters and checks them. */
static int aw__url_values(const aw__route *rt, const char *const *params, const char **vals)
{
    for (; params && params[0]; params += 2) {
        size_t k = 0;
        while (k < rt->nparams && strcmp(rt->params[k].name, params[0]) != 0)
            k++;
        if (!params[1] || k == rt->nparams || vals[k])
            return AW_EINVAL; /* no value, no such parameter, or given twice */
        vals[k] = params[1];
    }
    for (size_t k = 0; k < rt->nparams; k++) {
        const aw__rparam *pa = &rt->params[k];
        if (!vals[k])
            return AW_EINVAL;
        if (pa->re_src ? regexec(&pa->check, vals[k], 0, NULL, 0) != 0 : !*vals[k])
            return AW_EINVAL;
    }
    return 0;
}

int aw__router_url_for(const aw__router *r, const char *name, const char *const *params, char *buf,
                       size_t len)
{
    const aw__route *rt = name ? aw__tab_get(&r->names, name, strlen(name)) : NULL;
    const char *vals[AW__ROUTE_MAX_PARAMS] = {0};
    aw__out o = {buf, len, 0};
    int rc = !rt ? AW_ENOENT : aw__url_values(rt, params, vals);
    for (size_t i = 0; !rc && i < rt->npieces; i++) {
        const aw__piece *pc = &rt->pieces[i];
        if (pc->param < 0)
            aw__out_put(&o, pc->lit, pc->len);
        else
            aw__out_quote(&o, vals[pc->param], rt->params[pc->param].re_src != NULL);
    }
    if (!rc && (o.n >= len || o.n > INT_MAX))
        rc = AW_ENOBUFS;
    if (len)
        buf[rc ? 0 : o.n] = '\0';
    return rc ? rc : (int)o.n;
}

const char *aw__router_pattern(const aw__router *r, const char *name)
{
    const aw__route *rt = name ? aw__tab_get(&r->names, name, strlen(name)) : NULL;
    return rt ? rt->pattern : NULL;
}
