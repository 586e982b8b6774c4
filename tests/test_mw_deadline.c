/* The deadline middleware: a handler over its deadline is cancelled (its
 * waits fail) and the client gets 503, or 504 for proxy routes; rules by
 * route name and path; upgrades exempt from the app-wide deadline. */
#include <string.h>

#include "middleware.h"
#include "testutil.h"

TestSuite(mw_deadline, .timeout = 30, .fini = tu_fini);

static int slept_rc;
static aw_response *h_slow(aw_request *req)
{
    slept_rc = aw_sleep(3000);
    if (slept_rc)
        return aw_fail(req, slept_rc);
    return aw_response_text(req, 200, "late");
}
static aw_response *h_nap(aw_request *req)
{
    aw_sleep(120);
    return aw_response_text(req, 200, "rested");
}
static aw_response *h_fast(aw_request *req) { return aw_response_text(req, 200, "fast"); }

static int timed(aw_test_server *ts, const char *path, const char *headers, int64_t *ms)
{
    aw_test_response r;
    int64_t t0 = tu_ms();
    cr_assert_eq(aw_test_request(ts, "GET", path, headers, NULL, 0, &r), 0);
    *ms = tu_ms() - t0;
    int s = r.status;
    aw_test_response_free(&r);
    return s;
}

static int deadline_main(void *arg)
{
    (void)arg;
    aw_app *app = aw_app_new();
    aw_deadline *d = aw_deadline_use(app, &(aw_deadline_opts){.timeout_ms = 100});
    cr_assert(d);
    cr_assert_eq(aw_deadline_route(d, "upstream", 60, 1), 0);
    cr_assert_eq(aw_deadline_path(d, "/reports/", 300, 0), 0);
    char err[128];
    cr_assert_eq(aw_deadline_config(d, "route", "napper 50ms", err, sizeof err), 0, "%s", err);
    cr_assert_eq(aw_deadline_config(d, "route", "x 5s maybe", err, sizeof err), AW_EINVAL);
    cr_assert_eq(aw_deadline_config(d, "path", "nope 5s", err, sizeof err), AW_EINVAL);
    cr_assert_eq(aw_deadline_config(d, "status", "404", err, sizeof err), AW_EINVAL);
    cr_assert_eq(aw_deadline_config(d, "timeout", "soon", err, sizeof err), AW_EINVAL);
    aw_app_route(app, "GET", "/slow", h_slow, NULL);
    aw_app_route(app, "GET", "/proxy", h_slow, &(aw_route_opts){.name = "upstream"});
    aw_app_route(app, "GET", "/reports/nap", h_nap, NULL);
    aw_app_route(app, "GET", "/nap", h_nap, &(aw_route_opts){.name = "napper"});
    aw_app_route(app, "GET", "/upgrade", h_nap, NULL);
    aw_app_route(app, "GET", "/fast", h_fast, NULL);
    aw_test_server *ts;
    cr_assert_eq(aw_test_server_start(app, NULL, &ts), 0);
    int64_t ms;
    cr_assert_eq(timed(ts, "/slow", NULL, &ms), 503);
    tu_assert_between(ms, 90, 1000);
    cr_assert_eq(slept_rc, AW_ETIMEDOUT, "the handler's wait was cut short");
    cr_assert_eq(timed(ts, "/proxy", NULL, &ms), 504);
    tu_assert_between(ms, 50, 1000);
    cr_assert_eq(timed(ts, "/reports/nap", NULL, &ms), 200, "the path rule gives it 300 ms");
    cr_assert_eq(timed(ts, "/nap", NULL, &ms), 503, "the route rule gives it 50 ms");
    cr_assert_eq(timed(ts, "/upgrade", "Upgrade: something\r\nConnection: Upgrade\r\n", &ms), 200,
                 "no app-wide deadline for upgrades");
    cr_assert_eq(timed(ts, "/fast", NULL, &ms), 200);
    aw_test_server_stop(ts);
    aw_app_free(app);
    return 0;
}

Test(mw_deadline, handlers_over_their_deadline_get_503_or_504) { tu_run(deadline_main, NULL); }

static int status_main(void *arg)
{
    (void)arg;
    aw_app *app = aw_app_new();
    aw_deadline *d = aw_deadline_use(app, NULL);
    char err[128];
    cr_assert_eq(aw_deadline_config(d, "timeout", "80ms", err, sizeof err), 0);
    cr_assert_eq(aw_deadline_config(d, "status", "500", err, sizeof err), 0);
    aw_app_route(app, "GET", "/slow", h_slow, NULL);
    aw_test_server *ts;
    cr_assert_eq(aw_test_server_start(app, NULL, &ts), 0);
    int64_t ms;
    cr_assert_eq(timed(ts, "/slow", NULL, &ms), 500);
    aw_test_server_stop(ts);
    aw_app_free(app);
    /* no deadline unless asked for */
    app = aw_app_new();
    cr_assert(aw_deadline_use(app, NULL));
    aw_app_route(app, "GET", "/nap", h_nap, NULL);
    cr_assert_eq(aw_test_server_start(app, NULL, &ts), 0);
    cr_assert_eq(timed(ts, "/nap", NULL, &ms), 200);
    aw_test_server_stop(ts);
    aw_app_free(app);
    return 0;
}

Test(mw_deadline, configured_status_and_off_by_default) { tu_run(status_main, NULL); }
