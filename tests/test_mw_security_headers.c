/* The security_headers hook: the default set, HSTS only over TLS, values
 * overridden and removed, handlers' own values kept. */
#include <stdio.h>
#include <string.h>

#include "certs.h"
#include "httpserver.h"
#include "middleware.h"
#include "testutil.h"

TestSuite(mw_security_headers, .timeout = 30, .fini = tu_fini);

static aw_response *h_ok(aw_request *req) { return aw_response_text(req, 200, "ok"); }
static aw_response *h_framed(aw_request *req)
{
    aw_response *r = aw_response_text(req, 200, "framed");
    aw_response_set_header(r, "X-Frame-Options", "SAMEORIGIN");
    return r;
}
static aw_response *h_stream(aw_request *req)
{
    aw_response *r = aw_response_stream(req, 200);
    aw_response_write(r, "s", 1);
    aw_response_write_eof(r);
    return r;
}

static aw_app *sh_app(const aw_security_headers_opts *o)
{
    aw_app *app = aw_app_new();
    cr_assert(aw_security_headers_use(app, o));
    aw_app_route(app, "GET", "/", h_ok, NULL);
    aw_app_route(app, "GET", "/framed", h_framed, NULL);
    aw_app_route(app, "GET", "/stream", h_stream, NULL);
    return app;
}

static int defaults_main(void *arg)
{
    (void)arg;
    aw_app *app = sh_app(NULL);
    aw_test_server *ts;
    cr_assert_eq(aw_test_server_start(app, NULL, &ts), 0);
    const char *paths[] = {"/", "/stream", "/nowhere", NULL};
    for (int i = 0; paths[i]; i++) {
        aw_test_response r;
        cr_assert_eq(aw_test_get(ts, paths[i], &r), 0);
        cr_assert_str_eq(aw_test_header(&r, "X-Content-Type-Options"), "nosniff", "%s", paths[i]);
        cr_assert_str_eq(aw_test_header(&r, "X-Frame-Options"), "DENY", "%s", paths[i]);
        cr_assert_str_eq(aw_test_header(&r, "Referrer-Policy"), "strict-origin-when-cross-origin");
        cr_assert_null(aw_test_header(&r, "Strict-Transport-Security"), "not over plain HTTP");
        cr_assert_null(aw_test_header(&r, "Content-Security-Policy"));
        aw_test_response_free(&r);
    }
    aw_test_response r;
    cr_assert_eq(aw_test_get(ts, "/framed", &r), 0);
    cr_assert_str_eq(aw_test_header(&r, "X-Frame-Options"), "SAMEORIGIN", "the handler's own");
    cr_assert_eq(aw_headers_get_all(&r.headers, "X-Frame-Options", NULL, 0), 1);
    aw_test_response_free(&r);
    aw_test_server_stop(ts);
    aw_app_free(app);
    return 0;
}

Test(mw_security_headers, default_set_on_every_response) { tu_run(defaults_main, NULL); }

static int override_main(void *arg)
{
    (void)arg;
    aw_security_headers_opts o;
    aw_security_headers_opts_default(&o);
    o.frame_options = NULL;
    o.content_security_policy = "default-src 'self'";
    aw_app *app = aw_app_new();
    aw_security_headers *sh = aw_security_headers_use(app, &o);
    cr_assert(sh);
    char err[128];
    cr_assert_eq(aw_security_headers_config(sh, "referrer_policy", "no-referrer", err, sizeof err), 0);
    cr_assert_eq(aw_security_headers_config(sh, "content_type_options", "", err, sizeof err), 0);
    cr_assert_eq(aw_security_headers_config(sh, "x_powered_by", "me", err, sizeof err), AW_EINVAL);
    aw_app_route(app, "GET", "/", h_ok, NULL);
    aw_test_server *ts;
    cr_assert_eq(aw_test_server_start(app, NULL, &ts), 0);
    aw_test_response r;
    cr_assert_eq(aw_test_get(ts, "/", &r), 0);
    cr_assert_null(aw_test_header(&r, "X-Frame-Options"));
    cr_assert_null(aw_test_header(&r, "X-Content-Type-Options"));
    cr_assert_str_eq(aw_test_header(&r, "Referrer-Policy"), "no-referrer");
    cr_assert_str_eq(aw_test_header(&r, "Content-Security-Policy"), "default-src 'self'");
    aw_test_response_free(&r);
    aw_test_server_stop(ts);
    aw_app_free(app);
    return 0;
}

Test(mw_security_headers, values_are_overridden_and_removed) { tu_run(override_main, NULL); }

static void use_tls(aw_config *c)
{
    const tu_certs *k = tu_certs_get();
    char err[256];
    aw_config_set(c, "tls", "certificate", k->self_cert, err, sizeof err);
    aw_config_set(c, "tls", "key", k->self_key, err, sizeof err);
}

Test(mw_security_headers, hsts_only_over_tls)
{
    tu_server s;
    tu_server_start(&s, sh_app(NULL), use_tls);
    char cmd[256], out[4096];
    snprintf(cmd, sizeof cmd, "curl -sk -D - -o /dev/null --max-time 5 https://127.0.0.1:%d/",
             s.port);
    int rc = tu_shell(cmd, out, sizeof out);
    tu_server_stop(&s);
    cr_assert_eq(rc, 0, "%s", out);
    cr_assert(strstr(out, "Strict-Transport-Security: max-age=31536000; includeSubDomains\r\n"),
              "%s", out);
    cr_assert(strstr(out, "X-Content-Type-Options: nosniff"), "%s", out);
}
