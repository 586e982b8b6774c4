/* The request_id middleware: ids taken or made, checked, echoed, carried
 * into every log line of the request and of the tasks it spawns; and the
 * order middlewares compose in. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "middleware.h"
#include "testutil.h"

TestSuite(mw_request_id, .timeout = 30, .fini = tu_fini);

static int is_hex32(const char *s)
{
    if (!s || strlen(s) != 32)
        return 0;
    for (; *s; s++)
        if (!strchr("0123456789abcdef", *s))
            return 0;
    return 1;
}

static int child_logs(void *arg)
{
    (void)arg;
    aw_log(AW_LOG_INFO, "from a child task");
    return 0;
}

static aw_response *h_logs(aw_request *req)
{
    aw_log(AW_LOG_INFO, "in the handler");
    aw_task *t = aw_spawn(child_logs, NULL);
    aw_join(t);
    const char *id = aw_request_id_of(req);
    return aw_response_text(req, 200, id ? id : "none");
}

static aw_response *h_stream(aw_request *req)
{
    aw_response *r = aw_response_stream(req, 200);
    aw_response_write(r, "a", 1);
    aw_response_write_eof(r);
    return r;
}

static aw_response *h_fail(aw_request *req) { return aw_fail(req, AW_EPROTO); }

static aw_app *rid_app(const aw_request_id_opts *o)
{
    aw_app *app = aw_app_new();
    cr_assert(aw_request_id_use(app, o));
    aw_app_route(app, "GET", "/", h_logs, NULL);
    aw_app_route(app, "GET", "/stream", h_stream, NULL);
    aw_app_route(app, "GET", "/fail", h_fail, NULL);
    return app;
}

static char *get_id(aw_test_server *ts, const char *path, const char *headers, int *status)
{
    aw_test_response r;
    cr_assert_eq(aw_test_request(ts, "GET", path, headers, NULL, 0, &r), 0);
    const char *id = aw_test_header(&r, "X-Request-ID");
    char *copy = id ? strdup(id) : NULL;
    if (status)
        *status = r.status;
    if (!strcmp(path, "/") && id)
        cr_assert_str_eq(r.body, id, "the handler sees the id it echoes");
    aw_test_response_free(&r);
    return copy;
}

static int made_main(void *arg)
{
    (void)arg;
    aw_app *app = rid_app(NULL);
    aw_test_server *ts;
    cr_assert_eq(aw_test_server_start(app, NULL, &ts), 0);
    char *a = get_id(ts, "/", NULL, NULL), *b = get_id(ts, "/", NULL, NULL);
    cr_assert(is_hex32(a), "made id: %s", a);
    cr_assert(is_hex32(b), "made id: %s", b);
    cr_assert_str_neq(a, b);
    free(a), free(b);
    /* a well-formed one is taken as it is */
    a = get_id(ts, "/", "X-Request-ID: abc-123.x_y:z\r\n", NULL);
    cr_assert_str_eq(a, "abc-123.x_y:z");
    free(a);
    /* a malformed or overlong one is replaced */
    const char *bad[] = {"X-Request-ID: <script>\r\n", "X-Request-ID: a b\r\n",
                         "X-Request-ID: \"q\"\r\n", NULL};
    for (int i = 0; bad[i]; i++) {
        a = get_id(ts, "/", bad[i], NULL);
        cr_assert(is_hex32(a), "%s -> %s", bad[i], a);
        free(a);
    }
    char longh[300];
    snprintf(longh, sizeof longh, "X-Request-ID: %0129d\r\n", 7);
    a = get_id(ts, "/", longh, NULL);
    cr_assert(is_hex32(a), "129 characters are refused");
    free(a);
    /* streamed and server-made responses carry it too */
    int st;
    a = get_id(ts, "/stream", "X-Request-ID: s1\r\n", &st);
    cr_assert_eq(st, 200);
    cr_assert_str_eq(a, "s1");
    free(a);
    a = get_id(ts, "/fail", "X-Request-ID: f1\r\n", &st);
    cr_assert_eq(st, 500);
    cr_assert_str_eq(a, "f1");
    free(a);
    a = get_id(ts, "/nowhere", "X-Request-ID: n1\r\n", &st);
    cr_assert_eq(st, 404);
    cr_assert_str_eq(a, "n1");
    free(a);
    aw_test_server_stop(ts);
    aw_app_free(app);
    return 0;
}

Test(mw_request_id, made_taken_checked_and_echoed) { tu_run(made_main, NULL); }

static int untrusted_main(void *arg)
{
    (void)arg;
    aw_request_id_opts o;
    aw_request_id_opts_default(&o);
    o.trust_incoming = 0;
    o.header = "X-Trace";
    aw_app *app = rid_app(&o);
    aw_test_server *ts;
    cr_assert_eq(aw_test_server_start(app, NULL, &ts), 0);
    aw_test_response r;
    cr_assert_eq(aw_test_request(ts, "GET", "/", "X-Trace: mine\r\n", NULL, 0, &r), 0);
    cr_assert(is_hex32(aw_test_header(&r, "X-Trace")), "not trusted: a new one");
    cr_assert_null(aw_test_header(&r, "X-Request-ID"));
    aw_test_response_free(&r);
    aw_test_server_stop(ts);
    aw_app_free(app);
    return 0;
}

Test(mw_request_id, incoming_ids_can_be_ignored_and_header_renamed) { tu_run(untrusted_main, NULL); }

static int logs_main(void *arg)
{
    const char *path = arg;
    cr_assert_eq(aw_log_set_file(path), 0);
    aw_app *app = rid_app(NULL);
    aw_test_server *ts;
    cr_assert_eq(aw_test_server_start(app, NULL, &ts), 0);
    free(get_id(ts, "/", "X-Request-ID: req-42\r\n", NULL));
    free(get_id(ts, "/", "X-Request-ID: req-43\r\n", NULL));
    aw_log(AW_LOG_INFO, "after the requests");
    aw_test_server_stop(ts);
    aw_app_free(app);
    aw_log_set_file("-");
    return 0;
}

Test(mw_request_id, log_lines_of_the_request_and_its_tasks_carry_the_id)
{
    char path[] = "/tmp/mw1_rid_log_XXXXXX";
    int fd = mkstemp(path);
    close(fd);
    tu_run(logs_main, path);
    char buf[4096] = "";
    FILE *f = fopen(path, "r");
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    buf[n] = 0;
    fclose(f);
    unlink(path);
    cr_assert(strstr(buf, "[req req-42] in the handler"), "%s", buf);
    cr_assert(strstr(buf, "[req req-42] from a child task"), "%s", buf);
    cr_assert(strstr(buf, "[req req-43] in the handler"), "%s", buf);
    const char *after = strstr(buf, "after the requests");
    cr_assert(after);
    const char *bol = after;
    while (bol > buf && bol[-1] != '\n')
        bol--;
    cr_assert_null(memmem(bol, (size_t)(after - bol), "[req", 4), "no id outside: %s", bol);
}

/* --- configuration ------------------------------------------------------------ */

static const char *write_conf(const char *text)
{
    static char path[64];
    snprintf(path, sizeof path, "/tmp/mw1_rid_conf_%d.conf", (int)getpid());
    FILE *f = fopen(path, "w");
    fputs(text, f);
    fclose(f);
    return path;
}

static int conf_main(void *arg)
{
    (void)arg;
    aw_app *app = aw_app_new();
    aw_request_id *st = aw_request_id_use(app, NULL);
    aw_config c;
    char err[256];
    aw_config_init(&c);
    aw_config_section(&c, "request_id", aw_request_id_config, st);
    cr_assert_eq(aw_config_load(&c, write_conf("[request_id]\nheader = X-Correlation-ID\n"
                                               "trust_incoming = off\nmax_length = 64\n"),
                                1, err, sizeof err),
                 0, "%s", err);
    cr_assert_eq(aw_config_load(&c, write_conf("[request_id]\n\nmax_length = 1000\n"), 1, err,
                                sizeof err),
                 AW_EINVAL);
    cr_assert(strstr(err, ":3:") && strstr(err, "max_length"), "%s", err);
    cr_assert_eq(aw_config_load(&c, write_conf("[request_id]\nheader = bad name\n"), 1, err,
                                sizeof err),
                 AW_EINVAL);
    cr_assert_eq(aw_config_load(&c, write_conf("[request_id]\ncolour = red\n"), 1, err, sizeof err),
                 AW_EINVAL);
    unlink(write_conf(""));
    aw_route_opts none = {0};
    aw_app_route(app, "GET", "/", h_logs, &none);
    aw_test_server *ts;
    cr_assert_eq(aw_test_server_start(app, NULL, &ts), 0);
    aw_test_response r;
    cr_assert_eq(aw_test_request(ts, "GET", "/", "X-Correlation-ID: given\r\n", NULL, 0, &r), 0);
    cr_assert(is_hex32(aw_test_header(&r, "X-Correlation-ID")), "the file's settings hold");
    aw_test_response_free(&r);
    aw_test_server_stop(ts);
    aw_config_free(&c);
    aw_app_free(app);
    return 0;
}

Test(mw_request_id, configuration_section_sets_and_refuses) { tu_run(conf_main, NULL); }

/* --- composition -------------------------------------------------------------- */

static int handler_ran;
static aw_response *h_private(aw_request *req)
{
    handler_ran++;
    return aw_response_textf(req, 200, "hello %s", aw_basic_auth_user(req));
}

/* request_id outside error_pages outside cors outside basic_auth: a
 * preflight is answered before authentication asks; a refused login gets a
 * JSON page naming the request id, with the CORS and id headers. Put
 * basic_auth outside cors and the preflight is refused instead. */
static aw_app *onion(int auth_outside)
{
    aw_app *app = aw_app_new();
    aw_cors_opts co;
    aw_cors_opts_default(&co);
    co.origins = "http://example.com";
    aw_basic_auth *ba = NULL;
    if (auth_outside)
        ba = aw_basic_auth_use(app, NULL);
    cr_assert(aw_request_id_use(app, NULL));
    cr_assert(aw_error_pages_use(app, NULL));
    cr_assert(aw_cors_use(app, &co));
    if (!auth_outside)
        ba = aw_basic_auth_use(app, NULL);
    cr_assert(ba);
    aw_basic_auth_add_user(ba, "alice", "pw");
    aw_app_route(app, "GET", "/private", h_private, NULL);
    return app;
}

static int onion_main(void *arg)
{
    (void)arg;
    aw_app *app = onion(0);
    aw_test_server *ts;
    cr_assert_eq(aw_test_server_start(app, NULL, &ts), 0);
    aw_test_response r;
    const char *pre = "Origin: http://example.com\r\nAccess-Control-Request-Method: GET\r\n";
    cr_assert_eq(aw_test_request(ts, "OPTIONS", "/private", pre, NULL, 0, &r), 0);
    cr_assert_eq(r.status, 204);
    cr_assert_str_eq(aw_test_header(&r, "Access-Control-Allow-Origin"), "http://example.com");
    cr_assert_not_null(aw_test_header(&r, "X-Request-ID"));
    aw_test_response_free(&r);
    cr_assert_eq(aw_test_request(ts, "GET", "/private",
                                 "Origin: http://example.com\r\nX-Request-ID: onion-1\r\n", NULL, 0,
                                 &r),
                 0);
    cr_assert_eq(r.status, 401);
    cr_assert_str_eq(r.body, "{\"status\":401,\"error\":\"Unauthorized\",\"request_id\":\"onion-1\"}\n");
    cr_assert_str_eq(aw_test_header(&r, "X-Request-ID"), "onion-1");
    cr_assert_str_eq(aw_test_header(&r, "Access-Control-Allow-Origin"), "http://example.com");
    cr_assert_not_null(aw_test_header(&r, "WWW-Authenticate"));
    aw_test_response_free(&r);
    /* alice:pw */
    cr_assert_eq(aw_test_request(ts, "GET", "/private", "Authorization: Basic YWxpY2U6cHc=\r\n",
                                 NULL, 0, &r),
                 0);
    cr_assert_eq(r.status, 200);
    cr_assert_str_eq(r.body, "hello alice");
    aw_test_response_free(&r);
    cr_assert_eq(handler_ran, 1);
    aw_test_server_stop(ts);
    aw_app_free(app);

    app = onion(1);
    cr_assert_eq(aw_test_server_start(app, NULL, &ts), 0);
    cr_assert_eq(aw_test_request(ts, "OPTIONS", "/private", pre, NULL, 0, &r), 0);
    cr_assert_eq(r.status, 401, "authentication outside cors refuses the preflight");
    cr_assert_null(aw_test_header(&r, "Access-Control-Allow-Origin"));
    aw_test_response_free(&r);
    aw_test_server_stop(ts);
    aw_app_free(app);
    return 0;
}

Test(mw_request_id, middlewares_compose_outermost_first) { tu_run(onion_main, NULL); }
