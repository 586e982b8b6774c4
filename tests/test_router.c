/* The router: patterns, resolution order, 404/405, HEAD, url_for. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "error.h"
#include "router_int.h"
#include "testutil.h"

TestSuite(router, .timeout = 30, .fini = tu_fini);

static char err[256];

#define T(n) ((void *)(intptr_t)(n))

#define ADD(r, method, pattern, target, name)                                                      \
    cr_assert_eq(aw__router_add((r), (method), (pattern), T(target), (name), err, sizeof err), 0,  \
                 "%s %s: %s", (method), (pattern), err)

/* Adding must fail with AW_EINVAL and say why. */
static void refused(aw__router *r, const char *method, const char *pattern, const char *name)
{
    const char *what = pattern ? pattern : "NULL";
    err[0] = '\0';
    cr_assert_eq(aw__router_add(r, method, pattern, NULL, name, err, sizeof err), AW_EINVAL,
                 "%s was accepted", what);
    cr_assert(err[0], "no reason given for %s", what);
}

static int resolve(const aw__router *r, const char *method, const char *path, aw__match *m)
{
    char allow[128];
    return aw__router_resolve(r, method, path, strlen(path), m, allow, sizeof allow);
}

/* Resolves and asserts the target found. */
static aw__match found(const aw__router *r, const char *method, const char *path, int target)
{
    aw__match m;
    cr_assert_eq(resolve(r, method, path, &m), AW__ROUTE_FOUND, "%s %s not found", method, path);
    cr_assert_eq(m.target, T(target), "%s %s: target %d, expected %d", method, path,
                 (int)(intptr_t)m.target, target);
    return m;
}

static void not_found(const aw__router *r, const char *method, const char *path)
{
    aw__match m;
    cr_assert_eq(resolve(r, method, path, &m), AW__ROUTE_NOT_FOUND, "%s %s resolved", method, path);
}

static void not_allowed(const aw__router *r, const char *method, const char *path,
                        const char *allow_want)
{
    aw__match m;
    char allow[128];
    int rc = aw__router_resolve(r, method, path, strlen(path), &m, allow, sizeof allow);
    cr_assert_eq(rc, AW__ROUTE_NOT_ALLOWED, "%s %s: %d", method, path, rc);
    cr_assert_str_eq(allow, allow_want);
}

/* Asserts parameter i has the given name and value. */
static void param_is(const aw__match *m, size_t i, const char *name, const char *value)
{
    cr_assert_lt(i, m->nparams);
    cr_assert_str_eq(m->params[i].name, name);
    cr_assert_eq(m->params[i].len, strlen(value), "{%s} = \"%.*s\", expected \"%s\"", name,
                 (int)m->params[i].len, m->params[i].value, value);
    cr_assert(memcmp(m->params[i].value, value, m->params[i].len) == 0,
              "{%s} = \"%.*s\", expected \"%s\"", name, (int)m->params[i].len, m->params[i].value,
              value);
}

Test(router, literal_routes_match_exactly)
{
    aw__router *r = aw__router_new();
    ADD(r, "GET", "/", 1, "index");
    ADD(r, "GET", "/about", 2, NULL);
    ADD(r, "GET", "/about/team", 3, NULL);
    aw__match m = found(r, "GET", "/", 1);
    cr_assert_str_eq(m.name, "index");
    cr_assert_eq(m.nparams, 0);
    m = found(r, "GET", "/about", 2);
    cr_assert_null(m.name);
    found(r, "GET", "/about/team", 3);
    not_found(r, "GET", "/abou");
    not_found(r, "GET", "/about/teams");
    not_found(r, "GET", "");
    not_found(r, "GET", "//");
    aw__router_free(r);
}

Test(router, trailing_slash_makes_a_different_route)
{
    aw__router *r = aw__router_new();
    ADD(r, "GET", "/a", 1, NULL);
    ADD(r, "GET", "/a/", 2, NULL);
    ADD(r, "GET", "/u/{id}", 3, NULL);
    found(r, "GET", "/a", 1);
    found(r, "GET", "/a/", 2);
    found(r, "GET", "/u/7", 3);
    not_found(r, "GET", "/u/7/");
    not_found(r, "GET", "/u/");
    aw__router_free(r);
}

Test(router, name_param_matches_one_nonempty_segment)
{
    aw__router *r = aw__router_new();
    ADD(r, "GET", "/users/{id}", 1, NULL);
    ADD(r, "GET", "/users/{id}/posts", 2, NULL);
    aw__match m = found(r, "GET", "/users/42", 1);
    cr_assert_eq(m.nparams, 1);
    param_is(&m, 0, "id", "42");
    m = found(r, "GET", "/users/a.b-c/posts", 2);
    param_is(&m, 0, "id", "a.b-c");
    not_found(r, "GET", "/users/");
    not_found(r, "GET", "/users/42/comments");
    not_found(r, "GET", "/users//posts");
    aw__router_free(r);
}

Test(router, name_param_inside_a_segment_takes_the_longest_match)
{
    aw__router *r = aw__router_new();
    ADD(r, "GET", "/file-{name}.txt", 1, NULL);
    ADD(r, "GET", "/{a}{b}", 2, NULL);
    aw__match m = found(r, "GET", "/file-a.b.txt", 1);
    param_is(&m, 0, "name", "a.b");
    not_found(r, "GET", "/file-.txt/x");
    m = found(r, "GET", "/xyz", 2);
    param_is(&m, 0, "a", "xy");
    param_is(&m, 1, "b", "z");
    aw__router_free(r);
}

Test(router, an_encoded_slash_stays_inside_one_segment)
{
    aw__router *r = aw__router_new();
    ADD(r, "GET", "/files/{name}", 1, NULL);
    ADD(r, "GET", "/raw/{name:[^/]+}/x", 2, NULL);
    aw__match m = found(r, "GET", "/files/a%2Fb", 1);
    param_is(&m, 0, "name", "a%2Fb");
    m = found(r, "GET", "/raw/a%2Fb/x", 2);
    param_is(&m, 0, "name", "a%2Fb");
    not_found(r, "GET", "/files/a/b");
    aw__router_free(r);
}

Test(router, regex_param_constrains_its_value)
{
    aw__router *r = aw__router_new();
    ADD(r, "GET", "/items/{id:[0-9]+}", 1, NULL);
    ADD(r, "GET", "/items/{slug}", 2, NULL);
    ADD(r, "GET", "/y/{year:[0-9]{4}}", 3, NULL);
    ADD(r, "GET", "/alt/{kind:cat|dog}/x", 4, NULL);
    aw__match m = found(r, "GET", "/items/123", 1);
    param_is(&m, 0, "id", "123");
    m = found(r, "GET", "/items/12a", 2);
    param_is(&m, 0, "slug", "12a");
    found(r, "GET", "/y/2024", 3);
    not_found(r, "GET", "/y/202");
    not_found(r, "GET", "/y/20245");
    found(r, "GET", "/alt/dog/x", 4);
    not_found(r, "GET", "/alt/cow/x");
    not_found(r, "GET", "/alt/cat");
    aw__router_free(r);
}

Test(router, groups_inside_a_regex_do_not_shift_later_params)
{
    aw__router *r = aw__router_new();
    ADD(r, "GET", "/d/{date:([0-9]{4})-(([0-9]{2}))}/{slug}/{n:(x|y)+}/{tail}", 1, NULL);
    aw__match m = found(r, "GET", "/d/2024-05/hello/xyx/end", 1);
    cr_assert_eq(m.nparams, 4);
    param_is(&m, 0, "date", "2024-05");
    param_is(&m, 1, "slug", "hello");
    param_is(&m, 2, "n", "xyx");
    param_is(&m, 3, "tail", "end");
    aw__router_free(r);
}

Test(router, several_params_in_one_route)
{
    aw__router *r = aw__router_new();
    ADD(r, "GET", "/orgs/{org}/repos/{repo}/issues/{num:[0-9]+}", 1, NULL);
    aw__match m = found(r, "GET", "/orgs/acme/repos/rocket/issues/17", 1);
    cr_assert_eq(m.nparams, 3);
    param_is(&m, 0, "org", "acme");
    param_is(&m, 1, "repo", "rocket");
    param_is(&m, 2, "num", "17");
    aw__router_free(r);
}

Test(router, a_regex_param_may_span_slashes)
{
    aw__router *r = aw__router_new();
    ADD(r, "GET", "/static/{path:.*}", 1, NULL);
    aw__match m = found(r, "GET", "/static/css/site/main.css", 1);
    param_is(&m, 0, "path", "css/site/main.css");
    m = found(r, "GET", "/static/", 1);
    param_is(&m, 0, "path", "");
    not_found(r, "GET", "/static");
    aw__router_free(r);
}

Test(router, regex_specials_in_literal_parts_are_literal)
{
    aw__router *r = aw__router_new();
    ADD(r, "GET", "/a.b/(x)+[y]|$^*?\\/{v:[0-9]+}", 1, NULL);
    ADD(r, "GET", "/a.b", 2, NULL);
    found(r, "GET", "/a.b/(x)+[y]|$^*?\\/5", 1);
    not_found(r, "GET", "/aXb/(x)+[y]|$^*?\\/5");
    not_found(r, "GET", "/a.b/xx[y]|$^*?\\/5");
    not_found(r, "GET", "/aXb");
    aw__router_free(r);
}

Test(router, braces_and_brackets_inside_a_regex_are_its_own)
{
    aw__router *r = aw__router_new();
    ADD(r, "GET", "/b/{v:[}{]+}/{w:a\\}}", 1, "b");
    aw__match m = found(r, "GET", "/b/}{}/a}", 1);
    param_is(&m, 0, "v", "}{}");
    param_is(&m, 1, "w", "a}");
    ADD(r, "GET", "/c/{v:[[:digit:]]+}", 2, NULL);
    found(r, "GET", "/c/99", 2);
    aw__router_free(r);
}

Test(router, paths_need_no_terminating_nul)
{
    aw__router *r = aw__router_new();
    ADD(r, "GET", "/s/{a}", 1, NULL);
    ADD(r, "GET", "/r/{a:[a-z]+}", 2, NULL);
    ADD(r, "GET", "/lit", 3, NULL);
    const char *paths[] = {"/s/abc", "/r/abc", "/lit"};
    for (int i = 0; i < 3; i++) {
        size_t n = strlen(paths[i]);
        char *p = malloc(n); /* exactly the path: ASan sees any read past it */
        memcpy(p, paths[i], n);
        aw__match m;
        cr_assert_eq(aw__router_resolve(r, "GET", p, n, &m, NULL, 0), AW__ROUTE_FOUND);
        cr_assert_eq(m.target, T(i + 1));
        if (i < 2)
            cr_assert_eq(m.params[0].len, 3);
        /* a prefix of the buffer is a different path */
        cr_assert_eq(aw__router_resolve(r, "GET", p, n - 1, &m, NULL, 0),
                     i < 2 ? AW__ROUTE_FOUND : AW__ROUTE_NOT_FOUND);
        free(p);
    }
    aw__router_free(r);
}

Test(router, a_path_with_a_nul_matches_nothing)
{
    aw__router *r = aw__router_new();
    ADD(r, "GET", "/s/{a}", 1, NULL);
    ADD(r, "GET", "/r/{a:.*}", 2, NULL);
    aw__match m;
    cr_assert_eq(aw__router_resolve(r, "GET", "/s/a\0b", 6, &m, NULL, 0), AW__ROUTE_NOT_FOUND);
    cr_assert_eq(aw__router_resolve(r, "GET", "/r/a\0b", 6, &m, NULL, 0), AW__ROUTE_NOT_FOUND);
    aw__router_free(r);
}

Test(router, long_paths_match_regex_routes)
{
    aw__router *r = aw__router_new();
    ADD(r, "GET", "/static/{path:.*}/{name:[a-z]+}", 1, NULL);
    size_t n = 5000;
    char *p = malloc(n);
    memset(p, 'x', n);
    memcpy(p, "/static/", 8);
    p[n - 4] = '/';
    aw__match m;
    cr_assert_eq(aw__router_resolve(r, "GET", p, n, &m, NULL, 0), AW__ROUTE_FOUND);
    cr_assert_eq(m.params[0].value, p + 8);
    cr_assert_eq(m.params[0].len, n - 12);
    cr_assert_eq(m.params[1].value, p + n - 3);
    cr_assert_eq(m.params[1].len, 3);
    free(p);
    aw__router_free(r);
}

Test(router, wrong_method_is_not_allowed_with_the_allow_list)
{
    aw__router *r = aw__router_new();
    ADD(r, "POST", "/a", 1, NULL);
    ADD(r, "GET", "/a", 2, NULL);
    ADD(r, "PUT", "/{x}", 3, NULL);
    ADD(r, "DELETE", "/b/{x}", 4, NULL);
    ADD(r, "HEAD", "/c", 5, NULL);
    ADD(r, "GET", "/c", 6, NULL);
    ADD(r, "PATCH", "/c", 7, NULL);
    ADD(r, "GET", "/c", 8, NULL);
    not_allowed(r, "DELETE", "/a", "POST, GET, HEAD, PUT");
    not_allowed(r, "GET", "/b/1", "DELETE");
    not_allowed(r, "POST", "/c", "PUT, HEAD, GET, PATCH"); /* PUT /{x} came first */
    not_allowed(r, "get", "/a", "POST, GET, HEAD, PUT");
    not_allowed(r, "POST", "/zz", "PUT");
    not_found(r, "POST", "/b/1/2");
    aw__router_free(r);
}

Test(router, allow_list_stops_at_a_method_that_does_not_fit)
{
    aw__router *r = aw__router_new();
    ADD(r, "GET", "/a", 1, NULL);
    ADD(r, "POST", "/a", 2, NULL);
    aw__match m;
    char allow[10];
    cr_assert_eq(aw__router_resolve(r, "PUT", "/a", 2, &m, allow, sizeof allow),
                 AW__ROUTE_NOT_ALLOWED);
    cr_assert_str_eq(allow, "GET, HEAD");
    cr_assert_eq(aw__router_resolve(r, "PUT", "/a", 2, &m, NULL, 0), AW__ROUTE_NOT_ALLOWED);
    aw__router_free(r);
}

Test(router, head_is_answered_by_a_get_route)
{
    aw__router *r = aw__router_new();
    ADD(r, "GET", "/a", 1, NULL);
    ADD(r, "GET", "/v/{x}", 2, NULL);
    aw__match m = found(r, "HEAD", "/a", 1);
    m = found(r, "HEAD", "/v/9", 2);
    param_is(&m, 0, "x", "9");
    aw__router_free(r);
}

Test(router, an_explicit_head_route_wins_over_an_earlier_get_route)
{
    aw__router *r = aw__router_new();
    ADD(r, "GET", "/a", 1, NULL);
    ADD(r, "GET", "/{x}", 2, NULL);
    ADD(r, "HEAD", "/{y}", 3, NULL);
    aw__match m = found(r, "HEAD", "/a", 3);
    param_is(&m, 0, "y", "a"); /* the GET route's match was not left behind */
    found(r, "GET", "/a", 1);
    not_allowed(r, "POST", "/a", "GET, HEAD");
    aw__router_free(r);
}

Test(router, a_star_route_answers_any_method)
{
    aw__router *r = aw__router_new();
    ADD(r, "GET", "/a", 1, NULL);
    ADD(r, "*", "/a", 2, NULL);
    ADD(r, "*", "/any/{x}", 3, NULL);
    ADD(r, "GET", "/h", 4, NULL);
    ADD(r, "*", "/h", 5, NULL);
    found(r, "GET", "/a", 1);
    found(r, "POST", "/a", 2);
    found(r, "BREW", "/a", 2);
    found(r, "DELETE", "/any/1", 3);
    found(r, "HEAD", "/any/1", 3);
    found(r, "HEAD", "/h", 5); /* "*" answers HEAD explicitly */
    aw__router_free(r);
}

Test(router, resolution_follows_registration_order)
{
    aw__router *r = aw__router_new();
    ADD(r, "GET", "/users/{id}", 1, NULL);
    ADD(r, "GET", "/users/me", 2, NULL); /* shadowed by the earlier variable route */
    ADD(r, "POST", "/users/me", 3, NULL);
    ADD(r, "GET", "/posts/new", 4, NULL);
    ADD(r, "GET", "/posts/{id}", 5, NULL); /* later: /posts/new stays literal */
    ADD(r, "PUT", "/posts/{id}", 6, NULL);
    ADD(r, "PUT", "/posts/new", 7, NULL); /* shadowed by 6 */
    ADD(r, "DELETE", "/{any:.*}", 8, NULL);
    aw__match m = found(r, "GET", "/users/me", 1);
    param_is(&m, 0, "id", "me");
    found(r, "POST", "/users/me", 3);
    found(r, "GET", "/posts/new", 4);
    found(r, "GET", "/posts/7", 5);
    found(r, "PUT", "/posts/new", 6);
    found(r, "DELETE", "/posts/new", 8);
    not_allowed(r, "PATCH", "/posts/new", "GET, HEAD, PUT, DELETE");
    not_allowed(r, "PATCH", "/users/me", "GET, HEAD, POST, DELETE");
    aw__router_free(r);
}

Test(router, bad_patterns_are_refused_with_a_reason)
{
    aw__router *r = aw__router_new();
    const char *bad[] = {
        "",           "a",       "users/{id}", "/a{",        "/a}",
        "/{a}}",      "/{a",     "/{a:[0-9]",  "/{}",        "/{1a}",
        "/{a-b}",     "/{ a}",   "/{a:}",      "/{a:[}",     "/{a}/{a}",
        "/{a}/{a:x}", "/{a:(x}", "/{a:x)}",    "/{a:x)|(y}", "/{a:(x)\\1}",
        "/{a:\\d+}",  "/{a:*}",  "/{a:x{1}",   "/{a:x{1,}",  "/{a:[[:nope:]]}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        refused(r, "GET", bad[i], NULL);
    refused(r, "GET", NULL, NULL);
    refused(r, NULL, "/a", NULL);
    refused(r, "", "/a", NULL);
    refused(r, "GE T", "/a", NULL);
    refused(r, "GET", "/a", "");
    char many[256] = "";
    for (int i = 0; i <= AW__ROUTE_MAX_PARAMS; i++)
        sprintf(many + strlen(many), "/{p%d}", i);
    refused(r, "GET", many, NULL);
    *strrchr(many, '/') = '\0';
    ADD(r, "GET", many, 1, NULL); /* exactly the maximum is fine */
    char groups[512] = "/{a:";
    for (int i = 0; i < 70; i++)
        strcat(groups, "(x)");
    strcat(groups, "}");
    refused(r, "GET", groups, NULL);
    /* nothing refused was half added */
    not_found(r, "GET", "/a");
    cr_assert_null(aw__router_pattern(r, ""));
    aw__router_free(r);
}

Test(router, route_names_are_unique)
{
    aw__router *r = aw__router_new();
    ADD(r, "GET", "/a", 1, "a");
    ADD(r, "POST", "/a", 2, NULL);
    ADD(r, "PUT", "/a", 3, NULL); /* unnamed routes never clash */
    refused(r, "GET", "/b", "a");
    ADD(r, "GET", "/b", 4, "b");
    cr_assert_str_eq(aw__router_pattern(r, "a"), "/a");
    cr_assert_str_eq(aw__router_pattern(r, "b"), "/b");
    cr_assert_null(aw__router_pattern(r, "c"));
    found(r, "GET", "/b", 4);
    aw__router_free(r);
}

Test(router, url_for_builds_and_encodes)
{
    aw__router *r = aw__router_new();
    ADD(r, "GET", "/", 1, "index");
    ADD(r, "GET", "/users/{id}/files/{name}", 2, "file");
    ADD(r, "GET", "/static/{path:.*}", 3, "static");
    ADD(r, "GET", "/n/{num:[0-9]+}.json", 4, "num");
    char buf[128];
    cr_assert_eq(aw__router_url_for(r, "index", NULL, buf, sizeof buf), 1);
    cr_assert_str_eq(buf, "/");
    const char *p1[] = {"name", "a/b c%~_.-é", "id", "7", NULL};
    int n = aw__router_url_for(r, "file", p1, buf, sizeof buf);
    cr_assert_str_eq(buf, "/users/7/files/a%2Fb%20c%25~_.-%C3%A9");
    cr_assert_eq(n, (int)strlen(buf));
    const char *p2[] = {"path", "css/a b.css", NULL};
    aw__router_url_for(r, "static", p2, buf, sizeof buf);
    cr_assert_str_eq(buf, "/static/css/a%20b.css");
    const char *p3[] = {"num", "42", NULL};
    aw__router_url_for(r, "num", p3, buf, sizeof buf);
    cr_assert_str_eq(buf, "/n/42.json");
    aw__router_free(r);
}

Test(router, url_for_refuses_wrong_params)
{
    aw__router *r = aw__router_new();
    ADD(r, "GET", "/u/{id}/{n:[0-9]+}", 1, "u");
    ADD(r, "GET", "/plain", 2, "plain");
    char buf[64] = "junk";
    const char *ok[] = {"id", "x", "n", "1", NULL};
    cr_assert_eq(aw__router_url_for(r, "nope", ok, buf, sizeof buf), AW_ENOENT);
    cr_assert_str_eq(buf, "");
    cr_assert_eq(aw__router_url_for(r, NULL, ok, buf, sizeof buf), AW_ENOENT);
    const char *missing[] = {"id", "x", NULL};
    const char *extra[] = {"id", "x", "n", "1", "q", "2", NULL};
    const char *twice[] = {"id", "x", "n", "1", "id", "y", NULL};
    const char *no_value[] = {"id", "x", "n", NULL};
    const char *no_match[] = {"id", "x", "n", "1a", NULL};
    const char *empty[] = {"id", "", "n", "1", NULL};
    const char *const *wrong[] = {missing, extra, twice, no_value, no_match, empty, NULL};
    for (int i = 0; wrong[i]; i++)
        cr_assert_eq(aw__router_url_for(r, "u", wrong[i], buf, sizeof buf), AW_EINVAL, "#%d", i);
    cr_assert_eq(aw__router_url_for(r, "u", NULL, buf, sizeof buf), AW_EINVAL);
    cr_assert_eq(aw__router_url_for(r, "plain", ok, buf, sizeof buf), AW_EINVAL);
    /* "/u/x/1" is 6 bytes and needs 7 with its NUL */
    cr_assert_eq(aw__router_url_for(r, "u", ok, buf, 6), AW_ENOBUFS);
    cr_assert_eq(aw__router_url_for(r, "u", ok, buf, 0), AW_ENOBUFS);
    cr_assert_eq(aw__router_url_for(r, "u", ok, buf, 7), 6);
    cr_assert_str_eq(buf, "/u/x/1");
    aw__router_free(r);
}

Test(router, url_for_output_resolves_back_to_its_route)
{
    aw__router *r = aw__router_new();
    ADD(r, "GET", "/a/{x}/{rest:.+}", 1, "a");
    char buf[64];
    const char *p[] = {"x", "one", "rest", "t/w/o", NULL};
    int n = aw__router_url_for(r, "a", p, buf, sizeof buf);
    cr_assert_gt(n, 0);
    aw__match m = found(r, "GET", buf, 1);
    param_is(&m, 0, "x", "one");
    param_is(&m, 1, "rest", "t/w/o");
    aw__router_free(r);
}

/* The hash table's shortcut must answer as a plain scan in registration order
 * would: compare against one such scan, using one-route routers as the oracle
 * for "does route i match this path". */
static int scan_resolve(aw__router *const *one, const char *const *methods, int n,
                        const char *method, const char *path, int *target)
{
    aw__match m;
    int fallback = -1, matched = 0;
    for (int i = 0; i < n; i++) {
        if (aw__router_resolve(one[i], "*", path, strlen(path), &m, NULL, 0) != AW__ROUTE_FOUND)
            continue;
        matched = 1;
        if (strcmp(methods[i], "*") == 0 || strcmp(methods[i], method) == 0) {
            *target = i;
            return AW__ROUTE_FOUND;
        }
        if (fallback < 0 && strcmp(method, "HEAD") == 0 && strcmp(methods[i], "GET") == 0)
            fallback = i;
    }
    *target = fallback;
    return fallback >= 0 ? AW__ROUTE_FOUND : matched ? AW__ROUTE_NOT_ALLOWED : AW__ROUTE_NOT_FOUND;
}

Test(router, the_literal_shortcut_answers_as_a_scan_in_order_would)
{
    static const char *segs[] = {"a", "b", "{p%d}", "{q%d:[ab]}", "{r%d:.*}", "a{s%d}"};
    static const char *verbs[] = {"GET", "POST", "HEAD", "*"};
    static const char *paths[] = {"/a",  "/b",     "/c",     "/a/",    "/a/a", "/a/b", "/b/a",
                                  "/ab", "/a/b/c", "/c/a/b", "/a/a/a", "/b/",  "/",    "//"};
    unsigned seed = 12345;
    for (int round = 0; round < 50; round++) {
        enum { N = 24 };
        aw__router *r = aw__router_new(), *one[N];
        const char *methods[N];
        for (int i = 0; i < N; i++) {
            char pat[64] = "";
            int nseg = 1 + (int)((seed = seed * 1103515245 + 12345) >> 16) % 3;
            for (int k = 0; k < nseg; k++) {
                strcat(pat, "/");
                seed = seed * 1103515245 + 12345;
                sprintf(pat + strlen(pat), segs[(seed >> 16) % 6], k);
            }
            seed = seed * 1103515245 + 12345;
            methods[i] = verbs[(seed >> 16) % 4];
            ADD(r, methods[i], pat, i, NULL);
            one[i] = aw__router_new();
            ADD(one[i], "*", pat, i, NULL);
        }
        for (size_t p = 0; p < sizeof paths / sizeof *paths; p++)
            for (int v = 0; v < 3; v++) {
                aw__match m;
                int want_target,
                    want = scan_resolve(one, methods, N, verbs[v], paths[p], &want_target);
                int got = resolve(r, verbs[v], paths[p], &m);
                cr_assert_eq(got, want, "round %d: %s %s", round, verbs[v], paths[p]);
                if (got == AW__ROUTE_FOUND)
                    cr_assert_eq(m.target, T(want_target), "round %d: %s %s", round, verbs[v],
                                 paths[p]);
            }
        for (int i = 0; i < N; i++)
            aw__router_free(one[i]);
        aw__router_free(r);
    }
}

static double seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

Test(router, a_literal_route_resolves_a_million_times_well_under_a_second)
{
    aw__router *r = aw__router_new();
    char pat[64];
    for (int i = 0; i < 100; i++) {
        snprintf(pat, sizeof pat, "/api/v%d/{thing}/{id:[0-9]+}", i);
        ADD(r, "GET", pat, 100 + i, NULL);
        snprintf(pat, sizeof pat, "/page/%d", i);
        ADD(r, "GET", pat, 200 + i, NULL);
    }
    ADD(r, "GET", "/", 1, NULL); /* after 100 regex routes, none of which match "/" */
    aw__match m;
    double t0 = seconds();
    int hits = 0;
    for (int i = 0; i < 1000000; i++)
        hits += aw__router_resolve(r, "GET", "/", 1, &m, NULL, 0) == AW__ROUTE_FOUND;
    double dt = seconds() - t0;
    cr_assert_eq(hits, 1000000);
    cr_assert_eq(m.target, T(1));
    cr_assert_lt(dt, 0.5, "1,000,000 resolves of GET / took %.3f s", dt);
    found(r, "GET", "/api/v99/x/5", 199);
    found(r, "GET", "/page/42", 242);
    aw__router_free(r);
}
