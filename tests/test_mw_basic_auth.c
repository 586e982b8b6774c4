/* The basic_auth middleware: 401 with the realm, good and bad logins, the
 * user handed to the handler, digests, prefixes, configuration. */
#include <string.h>

#include "middleware.h"
#include "testutil.h"

TestSuite(mw_basic_auth, .timeout = 30, .fini = tu_fini);

static aw_response *h_who(aw_request *req)
{
    const char *u = aw_basic_auth_user(req);
    return aw_response_textf(req, 200, "user=%s", u ? u : "-");
}

static int status_of(aw_test_server *ts, const char *path, const char *auth, char *body,
                     size_t cap)
{
    aw_test_response r;
    char h[256] = "";
    if (auth)
        snprintf(h, sizeof h, "Authorization: %s\r\n", auth);
    cr_assert_eq(aw_test_request(ts, "GET", path, h, NULL, 0, &r), 0);
    int s = r.status;
    if (body)
        snprintf(body, cap, "%s", r.body);
    if (s == 401)
        cr_assert_str_eq(aw_test_header(&r, "WWW-Authenticate"),
                         "Basic realm=\"staff\", charset=\"UTF-8\"");
    aw_test_response_free(&r);
    return s;
}

static int auth_main(void *arg)
{
    (void)arg;
    aw_app *app = aw_app_new();
    aw_basic_auth *ba = aw_basic_auth_use(app, &(aw_basic_auth_opts){.realm = "staff", .prefix = "/admin"});
    cr_assert(ba);
    cr_assert_eq(aw_basic_auth_add_user(ba, "alice", "wonder land"), 0);
    cr_assert_eq(aw_basic_auth_add_user(ba, "bob", "builder"), 0);
    cr_assert_eq(aw_basic_auth_add_user(ba, "a:b", "x"), AW_EINVAL);
    cr_assert_eq(aw_basic_auth_add_user(ba, "eve", "sha256:12"), AW_EINVAL);
    /* carol's password "secret", given as its digest */
    char err[128];
    cr_assert_eq(aw_basic_auth_config(ba, "user",
                                      "carol:sha256:2bb80d537b1da3e38bd30361aa855686bde0eacd7162fef6a25fe97bf527a25b",
                                      err, sizeof err),
                 0, "%s", err);
    cr_assert_eq(aw_basic_auth_config(ba, "user", "nocolon", err, sizeof err), AW_EINVAL);
    cr_assert_eq(aw_basic_auth_config(ba, "realm", "a\"b", err, sizeof err), AW_EINVAL);
    cr_assert_eq(aw_basic_auth_config(ba, "prefix", "admin", err, sizeof err), AW_EINVAL);
    aw_app_route(app, "GET", "/admin/{x:.*}", h_who, NULL);
    aw_app_route(app, "GET", "/administrator", h_who, NULL);
    aw_app_route(app, "GET", "/public", h_who, NULL);
    aw_test_server *ts;
    cr_assert_eq(aw_test_server_start(app, NULL, &ts), 0);
    char body[128];
    cr_assert_eq(status_of(ts, "/admin/x", NULL, NULL, 0), 401);
    cr_assert_eq(status_of(ts, "/admin/x", "Bearer abc", NULL, 0), 401);
    cr_assert_eq(status_of(ts, "/admin/x", "Basic !!!!", NULL, 0), 401);
    cr_assert_eq(status_of(ts, "/admin/x", "Basic YWxpY2U=", NULL, 0), 401); /* "alice" */
    /* alice:wonder lan (one short), alice:wonder land! (one more), bob:wonder land */
    cr_assert_eq(status_of(ts, "/admin/x", "Basic YWxpY2U6d29uZGVyIGxhbg==", NULL, 0), 401);
    cr_assert_eq(status_of(ts, "/admin/x", "Basic YWxpY2U6d29uZGVyIGxhbmQh", NULL, 0), 401);
    cr_assert_eq(status_of(ts, "/admin/x", "Basic Ym9iOndvbmRlciBsYW5k", NULL, 0), 401);
    cr_assert_eq(status_of(ts, "/admin/x", "Basic YWxpY2U6d29uZGVyIGxhbmQ=", body, sizeof body), 200);
    cr_assert_str_eq(body, "user=alice");
    cr_assert_eq(status_of(ts, "/admin/x", "basic Ym9iOmJ1aWxkZXI=", body, sizeof body), 200);
    cr_assert_str_eq(body, "user=bob");
    cr_assert_eq(status_of(ts, "/admin/x", "Basic Y2Fyb2w6c2VjcmV0", body, sizeof body), 200);
    cr_assert_str_eq(body, "user=carol");
    /* outside the prefix */
    cr_assert_eq(status_of(ts, "/public", NULL, body, sizeof body), 200);
    cr_assert_str_eq(body, "user=-");
    cr_assert_eq(status_of(ts, "/administrator", NULL, NULL, 0), 200);
    aw_test_server_stop(ts);
    aw_app_free(app);
    return 0;
}

Test(mw_basic_auth, logins_checked_and_user_handed_on) { tu_run(auth_main, NULL); }
