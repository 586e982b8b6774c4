/* JSON bodies: nesting too deep for a task's stack is refused with 400, not a
 * crash (found by tests/fuzz/fuzz_server), and the limit leaves room to
 * answer with what was parsed. */
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

TestSuite(json, .timeout = 30, .fini = tu_fini);

static aw_response *h_echo_json(aw_request *req)
{
    json_t *j;
    int rc = aw_request_json(req, &j);
    if (rc)
        return rc == AW_EINVAL ? aw_http_error(req, 400, "bad JSON") : aw_fail(req, rc);
    return aw_response_json(req, 200, json_incref(j));
}

/* depth '[' or '{"a":' levels around 1. */
static char *nested(int depth, int objects, size_t *len)
{
    const char *open = objects ? "{\"a\":" : "[", *close = objects ? "}" : "]";
    size_t ol = strlen(open);
    char *b = malloc((size_t)depth * (ol + 1) + 2), *p = b;
    for (int i = 0; i < depth; i++, p += ol)
        memcpy(p, open, ol);
    *p++ = '1';
    for (int i = 0; i < depth; i++)
        *p++ = *close;
    *p = 0;
    *len = (size_t)(p - b);
    return b;
}

static int post_nested(aw_test_server *ts, int depth, int objects)
{
    size_t len;
    char *body = nested(depth, objects, &len);
    aw_test_response r;
    int rc = aw_test_request(ts, "POST", "/json", "Content-Type: application/json\r\n", body, len,
                             &r);
    free(body);
    cr_assert_eq(rc, 0, "depth %d: %s", depth, aw_strerror(rc));
    int status = r.status;
    aw_test_response_free(&r);
    return status;
}

static int depth_main(void *arg)
{
    (void)arg;
    aw_app *app = aw_app_new();
    aw_app_route(app, "POST", "/json", h_echo_json, NULL);
    aw_test_server *ts;
    cr_assert_eq(aw_test_server_start(app, NULL, &ts), 0);
    for (int objects = 0; objects < 2; objects++) {
        cr_assert_eq(post_nested(ts, 64, objects), 200);
        cr_assert_eq(post_nested(ts, 65, objects), 400);
        cr_assert_eq(post_nested(ts, 1000, objects), 400); /* overflowed the stack before */
    }
    /* brackets inside strings are not nesting */
    aw_test_response r;
    char body[600] = "[\"";
    memset(body + 2, '[', 500);
    strcpy(body + 502, "\\\"[\"]");
    cr_assert_eq(aw_test_request(ts, "POST", "/json", NULL, body, strlen(body), &r), 0);
    cr_assert_eq(r.status, 200, "%s", r.body);
    aw_test_response_free(&r);
    aw_test_server_stop(ts);
    aw_app_free(app);
    return 0;
}

Test(json, nesting_past_the_limit_is_refused_with_400) { tu_run(depth_main, NULL); }
