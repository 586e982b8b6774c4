/* The cors middleware: allowed and disallowed origins, preflights answered
 * without an OPTIONS route, credentials, wildcards, streamed responses. */
#include <string.h>

#include "middleware.h"
#include "testutil.h"

TestSuite(mw_cors, .timeout = 30, .fini = tu_fini);

static int calls;
static aw_response *h_data(aw_request *req)
{
    calls++;
    return aw_response_text(req, 200, "data");
}
static aw_response *h_events(aw_request *req)
{
    aw_response *r = aw_response_stream(req, 200);
    aw_sse_send(r, NULL, "tick", NULL);
    aw_response_write_eof(r);
    return r;
}

static aw_app *cors_app(const aw_cors_opts *o)
{
    aw_app *app = aw_app_new();
    cr_assert(aw_cors_use(app, o));
    aw_app_route(app, "GET", "/data", h_data, NULL);
    aw_app_route(app, "POST", "/data", h_data, NULL);
    aw_app_route(app, "GET", "/events", h_events, NULL);
    return app;
}

static void req(aw_test_server *ts, const char *method, const char *path, const char *headers,
                aw_test_response *r)
{
    cr_assert_eq(aw_test_request(ts, method, path, headers, NULL, 0, r), 0);
}

static int no_cors_headers(const aw_test_response *r)
{
    for (size_t i = 0; i < aw_headers_count(&r->headers); i++)
        if (!strncasecmp(aw_headers_at(&r->headers, i)->name, "Access-Control-", 15))
            return 0;
    return 1;
}

static int list_main(void *arg)
{
    (void)arg;
    aw_cors_opts o;
    aw_cors_opts_default(&o);
    o.origins = "http://example.com, https://app.example.org";
    o.expose_headers = "X-Total";
    o.headers = "Content-Type, X-Token";
    o.credentials = 1;
    o.max_age_ms = 600000;
    aw_app *app = cors_app(&o);
    aw_test_server *ts;
    cr_assert_eq(aw_test_server_start(app, NULL, &ts), 0);
    aw_test_response r;
    req(ts, "GET", "/data", "Origin: http://example.com\r\n", &r);
    cr_assert_eq(r.status, 200);
    cr_assert_str_eq(aw_test_header(&r, "Access-Control-Allow-Origin"), "http://example.com");
    cr_assert_str_eq(aw_test_header(&r, "Access-Control-Allow-Credentials"), "true");
    cr_assert_str_eq(aw_test_header(&r, "Access-Control-Expose-Headers"), "X-Total");
    cr_assert_str_eq(aw_test_header(&r, "Vary"), "Origin");
    aw_test_response_free(&r);
    /* a disallowed origin: no CORS header at all, but caches must vary */
    req(ts, "GET", "/data", "Origin: http://evil.example\r\n", &r);
    cr_assert_eq(r.status, 200);
    cr_assert(no_cors_headers(&r));
    cr_assert_str_eq(aw_test_header(&r, "Vary"), "Origin");
    aw_test_response_free(&r);
    req(ts, "GET", "/data", NULL, &r);
    cr_assert(no_cors_headers(&r));
    aw_test_response_free(&r);
    /* a preflight, answered though no OPTIONS route exists */
    calls = 0;
    req(ts, "OPTIONS", "/data",
        "Origin: https://app.example.org\r\nAccess-Control-Request-Method: POST\r\n"
        "Access-Control-Request-Headers: x-token, content-type\r\n",
        &r);
    cr_assert_eq(r.status, 204);
    cr_assert_str_eq(aw_test_header(&r, "Access-Control-Allow-Origin"), "https://app.example.org");
    cr_assert_str_eq(aw_test_header(&r, "Access-Control-Allow-Methods"),
                     "GET, HEAD, POST, PUT, PATCH, DELETE");
    cr_assert_str_eq(aw_test_header(&r, "Access-Control-Allow-Headers"), "Content-Type, X-Token");
    cr_assert_str_eq(aw_test_header(&r, "Access-Control-Max-Age"), "600");
    cr_assert_str_eq(aw_test_header(&r, "Access-Control-Allow-Credentials"), "true");
    aw_test_response_free(&r);
    cr_assert_eq(calls, 0, "a preflight never reaches the handler");
    /* refused preflights: origin, method, header */
    const char *bad[] = {
        "Origin: http://evil.example\r\nAccess-Control-Request-Method: GET\r\n",
        "Origin: http://example.com\r\nAccess-Control-Request-Method: TRACE\r\n",
        "Origin: http://example.com\r\nAccess-Control-Request-Method: GET\r\n"
        "Access-Control-Request-Headers: X-Other\r\n",
        NULL};
    for (int i = 0; bad[i]; i++) {
        req(ts, "OPTIONS", "/data", bad[i], &r);
        cr_assert_eq(r.status, 403, "%s", bad[i]);
        cr_assert(no_cors_headers(&r), "%s", bad[i]);
        aw_test_response_free(&r);
    }
    /* a plain OPTIONS (no preflight) goes to the router: 405 */
    req(ts, "OPTIONS", "/data", "Origin: http://example.com\r\n", &r);
    cr_assert_eq(r.status, 405);
    aw_test_response_free(&r);
    /* streamed and server-made responses carry the headers too */
    req(ts, "GET", "/events", "Origin: http://example.com\r\n", &r);
    cr_assert_str_eq(aw_test_header(&r, "Access-Control-Allow-Origin"), "http://example.com");
    cr_assert(strstr(r.body, "data: tick"));
    aw_test_response_free(&r);
    req(ts, "GET", "/nowhere", "Origin: http://example.com\r\n", &r);
    cr_assert_eq(r.status, 404);
    cr_assert_str_eq(aw_test_header(&r, "Access-Control-Allow-Origin"), "http://example.com");
    aw_test_response_free(&r);
    aw_test_server_stop(ts);
    aw_app_free(app);
    return 0;
}

Test(mw_cors, listed_origins_preflights_and_refusals) { tu_run(list_main, NULL); }

static int star_main(void *arg)
{
    (void)arg;
    aw_cors_opts o;
    aw_cors_opts_default(&o);
    o.origins = "*";
    aw_app *app = cors_app(&o);
    aw_test_server *ts;
    cr_assert_eq(aw_test_server_start(app, NULL, &ts), 0);
    aw_test_response r;
    req(ts, "GET", "/data", "Origin: http://anywhere.example\r\n", &r);
    cr_assert_str_eq(aw_test_header(&r, "Access-Control-Allow-Origin"), "*");
    cr_assert_null(aw_test_header(&r, "Vary"), "the same answer for every origin");
    cr_assert_null(aw_test_header(&r, "Access-Control-Allow-Credentials"));
    aw_test_response_free(&r);
    /* any requested header is allowed, and reflected */
    req(ts, "OPTIONS", "/data",
        "Origin: http://a.example\r\nAccess-Control-Request-Method: GET\r\n"
        "Access-Control-Request-Headers: X-Anything\r\n",
        &r);
    cr_assert_eq(r.status, 204);
    cr_assert_str_eq(aw_test_header(&r, "Access-Control-Allow-Headers"), "X-Anything");
    cr_assert_null(aw_test_header(&r, "Access-Control-Max-Age"));
    aw_test_response_free(&r);
    aw_test_server_stop(ts);
    aw_app_free(app);
    /* with credentials, "*" echoes the origin (a literal * would be refused) */
    app = aw_app_new();
    aw_cors *c = aw_cors_use(app, NULL);
    char err[128];
    cr_assert_eq(aw_cors_config(c, "origins", "*", err, sizeof err), 0);
    cr_assert_eq(aw_cors_config(c, "credentials", "on", err, sizeof err), 0);
    cr_assert_eq(aw_cors_config(c, "max_age", "1m", err, sizeof err), 0);
    cr_assert_eq(aw_cors_config(c, "methods", "GET, bad method", err, sizeof err), AW_EINVAL);
    cr_assert_eq(aw_cors_config(c, "max_age", "soon", err, sizeof err), AW_EINVAL);
    cr_assert_eq(aw_cors_config(c, "credentials", "sure", err, sizeof err), AW_EINVAL);
    cr_assert_eq(aw_cors_config(c, "colour", "red", err, sizeof err), AW_EINVAL);
    aw_app_route(app, "GET", "/data", h_data, NULL);
    cr_assert_eq(aw_test_server_start(app, NULL, &ts), 0);
    req(ts, "GET", "/data", "Origin: http://b.example\r\n", &r);
    cr_assert_str_eq(aw_test_header(&r, "Access-Control-Allow-Origin"), "http://b.example");
    cr_assert_str_eq(aw_test_header(&r, "Vary"), "Origin");
    aw_test_response_free(&r);
    req(ts, "OPTIONS", "/data", "Origin: http://b.example\r\nAccess-Control-Request-Method: GET\r\n", &r);
    cr_assert_str_eq(aw_test_header(&r, "Access-Control-Max-Age"), "60");
    aw_test_response_free(&r);
    aw_test_server_stop(ts);
    aw_app_free(app);
    return 0;
}

Test(mw_cors, wildcards_credentials_and_configuration) { tu_run(star_main, NULL); }

static int default_main(void *arg)
{
    (void)arg;
    aw_app *app = cors_app(NULL);
    aw_test_server *ts;
    cr_assert_eq(aw_test_server_start(app, NULL, &ts), 0);
    aw_test_response r;
    req(ts, "GET", "/data", "Origin: http://example.com\r\n", &r);
    cr_assert(no_cors_headers(&r), "no origin is allowed until one is listed");
    aw_test_response_free(&r);
    aw_test_server_stop(ts);
    aw_app_free(app);
    return 0;
}

Test(mw_cors, defaults_allow_no_origin) { tu_run(default_main, NULL); }
