/* The rate_limit middleware: bursts, 429 with Retry-After, refilling, keys
 * from a callback, and the bounded table. */
#include <string.h>

#include "middleware.h"
#include "testutil.h"

TestSuite(mw_rate_limit, .timeout = 30, .fini = tu_fini);

static aw_response *h_ok(aw_request *req) { return aw_response_text(req, 200, "ok"); }

static int hit(aw_test_server *ts, const char *headers, char *retry, size_t cap)
{
    aw_test_response r;
    cr_assert_eq(aw_test_request(ts, "GET", "/", headers, NULL, 0, &r), 0);
    int s = r.status;
    const char *ra = aw_test_header(&r, "Retry-After");
    if (retry)
        snprintf(retry, cap, "%s", ra ? ra : "");
    aw_test_response_free(&r);
    return s;
}

static int burst_main(void *arg)
{
    (void)arg;
    aw_app *app = aw_app_new();
    aw_rate_limit *rl = aw_rate_limit_use(app, &(aw_rate_limit_opts){.rate = 0.5, .burst = 3, .max_clients = 100});
    cr_assert(rl);
    aw_app_route(app, "GET", "/", h_ok, NULL);
    aw_test_server *ts;
    cr_assert_eq(aw_test_server_start(app, NULL, &ts), 0);
    char retry[16];
    for (int i = 0; i < 3; i++)
        cr_assert_eq(hit(ts, NULL, NULL, 0), 200, "request %d is within the burst", i);
    cr_assert_eq(hit(ts, NULL, retry, sizeof retry), 429);
    cr_assert_str_eq(retry, "2", "a token every 2 s");
    cr_assert_eq(aw_rate_limit_buckets(rl), 1, "one client address");
    aw_test_server_stop(ts);
    aw_app_free(app);

    /* refilling: 20 tokens a second, a bucket of one */
    app = aw_app_new();
    rl = aw_rate_limit_use(app, NULL);
    char err[128];
    cr_assert_eq(aw_rate_limit_config(rl, "rate", "1200/m", err, sizeof err), 0);
    cr_assert_eq(aw_rate_limit_config(rl, "burst", "1", err, sizeof err), 0);
    cr_assert_eq(aw_rate_limit_config(rl, "rate", "fast", err, sizeof err), AW_EINVAL);
    cr_assert_eq(aw_rate_limit_config(rl, "rate", "5/d", err, sizeof err), AW_EINVAL);
    cr_assert_eq(aw_rate_limit_config(rl, "burst", "0.5", err, sizeof err), AW_EINVAL);
    cr_assert_eq(aw_rate_limit_config(rl, "max_clients", "0", err, sizeof err), AW_EINVAL);
    aw_app_route(app, "GET", "/", h_ok, NULL);
    cr_assert_eq(aw_test_server_start(app, NULL, &ts), 0);
    cr_assert_eq(hit(ts, NULL, NULL, 0), 200);
    cr_assert_eq(hit(ts, NULL, retry, sizeof retry), 429);
    cr_assert_str_eq(retry, "1");
    aw_sleep(80);
    cr_assert_eq(hit(ts, NULL, NULL, 0), 200, "a token came back after 50 ms");
    aw_test_server_stop(ts);
    aw_app_free(app);
    return 0;
}

Test(mw_rate_limit, burst_then_429_then_refill) { tu_run(burst_main, NULL); }

static const char *key_of(aw_request *req, void *arg)
{
    (void)arg;
    return aw_request_header(req, "X-Key"); /* no key: not limited */
}

static int keys_main(void *arg)
{
    (void)arg;
    aw_app *app = aw_app_new();
    aw_rate_limit *rl = aw_rate_limit_use(
        app, &(aw_rate_limit_opts){.rate = 0.001, .burst = 1, .max_clients = 4, .key = key_of});
    cr_assert(rl);
    aw_app_route(app, "GET", "/", h_ok, NULL);
    aw_test_server *ts;
    cr_assert_eq(aw_test_server_start(app, NULL, &ts), 0);
    cr_assert_eq(hit(ts, "X-Key: a\r\n", NULL, 0), 200);
    cr_assert_eq(hit(ts, "X-Key: a\r\n", NULL, 0), 429);
    cr_assert_eq(hit(ts, "X-Key: b\r\n", NULL, 0), 200, "keys are separate");
    for (int i = 0; i < 5; i++)
        cr_assert_eq(hit(ts, NULL, NULL, 0), 200, "unkeyed requests are not limited");
    /* the table holds 4: c, d, e push out a and b, the least recently seen */
    char h[32];
    for (char k = 'c'; k <= 'f'; k++) {
        snprintf(h, sizeof h, "X-Key: %c\r\n", k);
        cr_assert_eq(hit(ts, h, NULL, 0), 200);
    }
    cr_assert_eq(aw_rate_limit_buckets(rl), 4, "bounded");
    cr_assert_eq(hit(ts, "X-Key: f\r\n", NULL, 0), 429, "f is still remembered");
    cr_assert_eq(hit(ts, "X-Key: a\r\n", NULL, 0), 200, "a was evicted: a full bucket again");
    cr_assert_eq(hit(ts, "X-Key: c\r\n", NULL, 0), 200, "c was evicted to make room for a");
    cr_assert_eq(hit(ts, "X-Key: f\r\n", NULL, 0), 429, "f, seen recently, stays");
    cr_assert_eq(aw_rate_limit_buckets(rl), 4);
    aw_test_server_stop(ts);
    aw_app_free(app);
    return 0;
}

Test(mw_rate_limit, keys_from_a_callback_and_a_bounded_table) { tu_run(keys_main, NULL); }
