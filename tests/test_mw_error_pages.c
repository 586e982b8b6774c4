/* The error_pages middleware: JSON or HTML by Accept, nothing internal
 * leaked, failed handlers answered with the right status, 5xx logged with
 * the request id. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "middleware.h"
#include "testutil.h"

TestSuite(mw_error_pages, .timeout = 30, .fini = tu_fini);

static aw_response *h_fail(aw_request *req) { return aw_fail(req, AW_ECONNREFUSED); }
static aw_response *h_leak(aw_request *req)
{
    return aw_response_text(req, 500, "db at 10.0.0.5:5432 said: password wrong");
}
static aw_response *h_teapot(aw_request *req) { return aw_response_text(req, 418, "short and stout"); }
static aw_response *h_bare(aw_request *req) { return aw_response_new(req, 403); }
static aw_response *h_body(aw_request *req)
{
    const char *b;
    size_t n;
    int rc = aw_request_body(req, &b, &n);
    return rc ? aw_fail(req, rc) : aw_response_text(req, 200, "ok");
}

static aw_app *ep_app(const aw_error_pages_opts *o)
{
    aw_app *app = aw_app_new();
    cr_assert(aw_request_id_use(app, NULL));
    cr_assert(aw_error_pages_use(app, o));
    aw_app_route(app, "GET", "/fail", h_fail, NULL);
    aw_app_route(app, "GET", "/leak", h_leak, NULL);
    aw_app_route(app, "GET", "/teapot", h_teapot, NULL);
    aw_app_route(app, "GET", "/bare", h_bare, NULL);
    aw_app_route(app, "POST", "/body", h_body, NULL);
    return app;
}

static void check(aw_test_server *ts, const char *method, const char *path, const char *headers,
                  int status, const char *type, const char *body)
{
    aw_test_response r;
    cr_assert_eq(aw_test_request(ts, method, path, headers, NULL, 0, &r), 0);
    cr_assert_eq(r.status, status, "%s: %d", path, r.status);
    if (type)
        cr_assert_str_eq(aw_test_header(&r, "Content-Type"), type, "%s %s", path,
                         headers ? headers : "");
    if (body)
        cr_assert_str_eq(r.body, body, "%s", path);
    aw_test_response_free(&r);
}

static int accept_main(void *arg)
{
    (void)arg;
    aw_app *app = ep_app(NULL);
    aw_test_server *ts;
    cr_assert_eq(aw_test_server_start(app, NULL, &ts), 0);
    const char *json = "application/json", *html = "text/html; charset=utf-8";
    check(ts, "GET", "/nowhere", "X-Request-ID: r1\r\n", 404, json,
          "{\"status\":404,\"error\":\"Not Found\",\"request_id\":\"r1\"}\n");
    check(ts, "GET", "/nowhere", "Accept: application/json\r\n", 404, json, NULL);
    check(ts, "GET", "/nowhere", "Accept: text/html,application/xhtml+xml,*/*;q=0.8\r\nX-Request-ID: r2\r\n",
          404, html,
          "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>404 Not Found</title>"
          "</head>\n<body><h1>404 Not Found</h1><p>Request id: <code>r2</code></p></body></html>\n");
    check(ts, "GET", "/nowhere", "Accept: text/html;q=0.5, application/json\r\n", 404, json, NULL);
    check(ts, "GET", "/nowhere", "Accept: image/png\r\n", 404, json, NULL);
    check(ts, "POST", "/nowhere", "Accept: text/*\r\n", 404, html, NULL);
    check(ts, "DELETE", "/fail", NULL, 405, json, NULL);
    check(ts, "GET", "/bare", NULL, 403, json, NULL);
    /* a 4xx body of the handler's own is its message */
    check(ts, "GET", "/teapot", NULL, 418, NULL, "short and stout");
    aw_test_server_stop(ts);
    aw_app_free(app);
    return 0;
}

Test(mw_error_pages, bodies_follow_accept) { tu_run(accept_main, NULL); }

static int fail_main(void *arg)
{
    const char *log = arg;
    aw_log_set_file(log);
    aw_app *app = ep_app(NULL);
    aw_config cfg;
    char err[128];
    aw_config_init(&cfg);
    aw_config_set(&cfg, "limits", "client_max_size", "16", err, sizeof err);
    aw_test_server *ts;
    cr_assert_eq(aw_test_server_start(app, &cfg, &ts), 0);
    /* nothing of the failure reaches the client */
    check(ts, "GET", "/fail", "X-Request-ID: boom-1\r\n", 500, "application/json",
          "{\"status\":500,\"error\":\"Internal Server Error\",\"request_id\":\"boom-1\"}\n");
    check(ts, "GET", "/leak", "X-Request-ID: boom-2\r\n", 500, "application/json",
          "{\"status\":500,\"error\":\"Internal Server Error\",\"request_id\":\"boom-2\"}\n");
    /* a body error keeps its status */
    aw_test_response r;
    cr_assert_eq(aw_test_request(ts, "POST", "/body", NULL, "0123456789abcdefXYZ", 19, &r), 0);
    cr_assert_eq(r.status, 413);
    cr_assert(strstr(r.body, "\"status\":413"), "%s", r.body);
    aw_test_response_free(&r);
    aw_test_server_stop(ts);
    aw_config_free(&cfg);
    aw_app_free(app);
    aw_log_set_file("-");
    return 0;
}

Test(mw_error_pages, failures_are_hidden_from_clients_and_logged_with_the_id)
{
    char path[] = "/tmp/mw1_ep_log_XXXXXX";
    close(mkstemp(path));
    tu_run(fail_main, path);
    char buf[4096] = "";
    FILE *f = fopen(path, "r");
    buf[fread(buf, 1, sizeof buf - 1, f)] = 0;
    fclose(f);
    unlink(path);
    cr_assert(strstr(buf, "error [req boom-1] GET /fail: 500 Internal Server Error ("), "%s", buf);
    cr_assert(strstr(buf, "error [req boom-2] GET /leak: 500"), "%s", buf);
    cr_assert_null(strstr(buf, " 413 "), "4xx are not errors of ours: %s", buf);
}

static int opts_main(void *arg)
{
    (void)arg;
    aw_error_pages_opts o;
    aw_error_pages_opts_default(&o);
    o.hide_5xx = 0;
    o.log_5xx = 0;
    aw_app *app = ep_app(&o);
    aw_test_server *ts;
    cr_assert_eq(aw_test_server_start(app, NULL, &ts), 0);
    check(ts, "GET", "/leak", NULL, 500, "text/plain; charset=utf-8",
          "db at 10.0.0.5:5432 said: password wrong");
    aw_test_server_stop(ts);
    aw_app_free(app);
    /* default_type from the configuration */
    app = aw_app_new();
    aw_error_pages *ep = aw_error_pages_use(app, NULL);
    char err[128];
    cr_assert_eq(aw_error_pages_config(ep, "default_type", "html", err, sizeof err), 0);
    cr_assert_eq(aw_error_pages_config(ep, "default_type", "xml", err, sizeof err), AW_EINVAL);
    cr_assert(strstr(err, "json or html"), "%s", err);
    cr_assert_eq(aw_error_pages_config(ep, "hide_5xx", "maybe", err, sizeof err), AW_EINVAL);
    cr_assert_eq(aw_error_pages_config(ep, "colour", "on", err, sizeof err), AW_EINVAL);
    cr_assert_eq(aw_test_server_start(app, NULL, &ts), 0);
    check(ts, "GET", "/x", NULL, 404, "text/html; charset=utf-8", NULL);
    check(ts, "GET", "/x", "Accept: application/json\r\n", 404, "application/json", NULL);
    aw_test_server_stop(ts);
    aw_app_free(app);
    return 0;
}

Test(mw_error_pages, options_and_configuration) { tu_run(opts_main, NULL); }
