/* The normalize_path middleware: merged slashes, trailing slash added or
 * removed with 308 when only the other form has a route, matched paths
 * untouched, no off-site redirects. */
#include <string.h>

#include "middleware.h"
#include "testutil.h"

TestSuite(mw_normalize_path, .timeout = 30, .fini = tu_fini);

static aw_response *h_ok(aw_request *req) { return aw_response_text(req, 200, aw_request_path(req)); }

static aw_app *np_app(const aw_normalize_path_opts *o)
{
    aw_app *app = aw_app_new();
    cr_assert(aw_normalize_path_use(app, o));
    aw_app_route(app, "GET", "/a/b", h_ok, NULL);
    aw_app_route(app, "GET", "/dir/", h_ok, NULL);
    aw_app_route(app, "POST", "/form/", h_ok, NULL);
    aw_app_route(app, "GET", "/file", h_ok, NULL);
    aw_app_route(app, "GET", "/evil.com/", h_ok, NULL);
    return app;
}

static void expect(aw_test_server *ts, const char *method, const char *path, int status,
                   const char *location)
{
    aw_test_response r;
    cr_assert_eq(aw_test_request(ts, method, path, NULL, NULL, 0, &r), 0);
    cr_assert_eq(r.status, status, "%s %s: %d", method, path, r.status);
    if (location)
        cr_assert_str_eq(aw_test_header(&r, "Location"), location, "%s", path);
    else
        cr_assert_null(aw_test_header(&r, "Location"), "%s", path);
    aw_test_response_free(&r);
}

static int defaults_main(void *arg)
{
    (void)arg;
    aw_app *app = np_app(NULL);
    aw_test_server *ts;
    cr_assert_eq(aw_test_server_start(app, NULL, &ts), 0);
    expect(ts, "GET", "/a/b", 200, NULL);
    expect(ts, "GET", "//a///b", 308, "/a/b");
    expect(ts, "GET", "/a//b?x=1&y=%2F", 308, "/a/b?x=1&y=%2F");
    expect(ts, "GET", "/dir", 308, "/dir/");
    expect(ts, "GET", "//dir?q", 308, "/dir/?q");
    expect(ts, "POST", "/form", 308, "/form/");
    expect(ts, "GET", "/file/", 404, NULL); /* remove_slash is off by default */
    expect(ts, "GET", "/nowhere", 404, NULL);
    expect(ts, "DELETE", "/a/b", 405, NULL); /* matched, another method: untouched */
    aw_test_server_stop(ts);
    aw_app_free(app);
    return 0;
}

Test(mw_normalize_path, slashes_merged_and_added) { tu_run(defaults_main, NULL); }

static int options_main(void *arg)
{
    (void)arg;
    aw_normalize_path_opts o;
    aw_normalize_path_opts_default(&o);
    o.merge_slashes = 0;
    o.append_slash = 1;
    o.remove_slash = 1;
    o.status = 301;
    aw_app *app = np_app(&o);
    aw_test_server *ts;
    cr_assert_eq(aw_test_server_start(app, NULL, &ts), 0);
    expect(ts, "GET", "/file/", 301, "/file");
    expect(ts, "GET", "/dir", 301, "/dir/");
    expect(ts, "GET", "/a//b", 404, NULL);
    /* "//evil.com" + "/" would be a protocol-relative, off-site Location */
    expect(ts, "GET", "//evil.com", 404, NULL);
    aw_test_server_stop(ts);
    aw_app_free(app);
    app = aw_app_new();
    aw_normalize_path *np = aw_normalize_path_use(app, NULL);
    char err[128];
    cr_assert_eq(aw_normalize_path_config(np, "status", "308", err, sizeof err), 0);
    cr_assert_eq(aw_normalize_path_config(np, "status", "200", err, sizeof err), AW_EINVAL);
    cr_assert_eq(aw_normalize_path_config(np, "remove_slash", "on", err, sizeof err), 0);
    cr_assert_eq(aw_normalize_path_config(np, "merge_slashes", "perhaps", err, sizeof err), AW_EINVAL);
    cr_assert_eq(aw_normalize_path_config(np, "lowercase", "on", err, sizeof err), AW_EINVAL);
    aw_app_free(app);
    return 0;
}

Test(mw_normalize_path, remove_slash_status_and_no_open_redirect) { tu_run(options_main, NULL); }
