/* examples/fetch: the fan-out server and its command line, against an aweb
 * server of the test's own (fast, slow, missing and large answers). */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "example.h"
#include "httpserver.h"
#include "testutil.h"

TestSuite(fetch, .timeout = 60, .fini = tu_fini);

static const char *build_dir(void) { return getenv("BUILD") ? getenv("BUILD") : "build"; }

/* --- the servers fetched from ------------------------------------------------ */

static aw_response *h_ok(aw_request *req) { return aw_response_text(req, 200, "fine"); }

static aw_response *h_slow(aw_request *req)
{
    if (aw_sleep(5000))
        return aw_fail(req, AW_ECANCELED);
    return aw_response_text(req, 200, "late");
}

static aw_response *h_big(aw_request *req)
{
    static char big[4096];
    memset(big, 'b', sizeof big);
    return aw_response_static(req, 200, big, sizeof big, "text/plain");
}

static aw_app *target_app(void)
{
    aw_app *app = aw_app_new();
    aw_app_route(app, "GET", "/ok", h_ok, NULL);
    aw_app_route(app, "GET", "/slow", h_slow, &(aw_route_opts){.cancel_on_disconnect = 1});
    aw_app_route(app, "GET", "/big", h_big, NULL);
    return app;
}

/* --- the fetch server, a process ----------------------------------------------- */

/* GETs path from the fetch server with curl; returns the status, body in out */
static int curl_get(int port, const char *path, char *out, size_t cap)
{
    char cmd[8192], text[16384];
    snprintf(cmd, sizeof cmd, "curl -s --max-time 20 -w '\\n%%{http_code}' 'http://127.0.0.1:%d%s'",
             port, path);
    cr_assert_eq(tu_shell(cmd, text, sizeof text), 0, "curl failed: %s", text);
    char *nl = strrchr(text, '\n');
    cr_assert_not_null(nl);
    *nl = 0;
    snprintf(out, cap, "%s", text);
    return atoi(nl + 1);
}

static json_t *result(json_t *doc, size_t i) { return json_array_get(json_object_get(doc, "results"), i); }

Test(fetch, three_urls_come_back_in_about_the_timeout_with_their_statuses)
{
    tu_server s;
    tu_server_start(&s, target_app(), NULL);
    tu_example f = tu_example_start("fetch", "conf/aweb.conf");
    char path[512], body[16384];
    snprintf(path, sizeof path,
             "/fetch?url=http://127.0.0.1:%d/ok&url=http://127.0.0.1:%d/slow"
             "&url=http://127.0.0.1:%d/missing&timeout=500",
             s.port, s.port, s.port);
    int64_t t0 = tu_ms();
    cr_assert_eq(curl_get(f.port, path, body, sizeof body), 200, "%s", body);
    int64_t took = tu_ms() - t0;
    /* about the timeout, not the sum (the slow one takes 5 s) */
    tu_assert_between(took, 450, 1500);
    json_error_t je;
    json_t *doc = json_loads(body, 0, &je);
    cr_assert_not_null(doc, "not JSON: %s", body);
    cr_assert_eq(json_array_size(json_object_get(doc, "results")), 3);
    json_t *ok = result(doc, 0), *slow = result(doc, 1), *missing = result(doc, 2);
    cr_assert_eq(json_integer_value(json_object_get(ok, "status")), 200);
    cr_assert_eq(json_integer_value(json_object_get(ok, "size")), 4);
    cr_assert(json_is_null(json_object_get(ok, "error")));
    cr_assert(json_is_null(json_object_get(slow, "status")), "%s", body);
    cr_assert_str_eq(json_string_value(json_object_get(slow, "error")), "timeout");
    double slow_ms = json_real_value(json_object_get(slow, "time_ms"));
    cr_assert(slow_ms >= 450 && slow_ms < 1000, "the slow one took %.1f ms", slow_ms);
    cr_assert_eq(json_integer_value(json_object_get(missing, "status")), 404);
    cr_assert(strstr(json_string_value(json_object_get(missing, "url")), "/missing"));
    json_decref(doc);
    tu_example_stop(&f, NULL, 0);
    tu_server_stop(&s);
}

Test(fetch, only_http_and_https_urls_and_at_most_the_limit)
{
    tu_example f = tu_example_start("fetch", "conf/aweb.conf");
    char body[4096];
    cr_assert_eq(curl_get(f.port, "/fetch?url=ftp://example.com/x", body, sizeof body), 400);
    cr_assert(strstr(body, "only http:// and https://"), "%s", body);
    cr_assert_eq(curl_get(f.port, "/fetch?url=file:///etc/passwd", body, sizeof body), 400);
    cr_assert_eq(curl_get(f.port, "/fetch?url=http://127.0.0.1:1/&url=gopher://x", body,
                          sizeof body), 400);
    cr_assert_eq(curl_get(f.port, "/fetch", body, sizeof body), 400);
    cr_assert_eq(curl_get(f.port, "/fetch?url=http://127.0.0.1:1/&timeout=soon", body,
                          sizeof body), 400);
    /* 101 URLs: one past the default limit */
    char path[4096] = "/fetch?";
    for (int i = 0; i < 101; i++)
        strcat(path, "url=http://127.0.0.1:1/&");
    cr_assert_eq(curl_get(f.port, path, body, sizeof body), 400);
    cr_assert(strstr(body, "at most 100 URLs"), "%s", body);
    /* a refused connection is a result, not a failure of the request */
    cr_assert_eq(curl_get(f.port, "/fetch?url=http://127.0.0.1:1/", body, sizeof body), 200);
    cr_assert(strstr(body, "\"status\":null") && strstr(body, "connection refused"), "%s", body);
    tu_example_stop(&f, NULL, 0);
}

Test(fetch, the_fetch_section_of_the_configuration_sets_the_limits)
{
    tu_server s;
    tu_server_start(&s, target_app(), NULL);
    char conf[64];
    snprintf(conf, sizeof conf, "/tmp/aweb-fetch-%d.conf", getpid());
    FILE *c = fopen(conf, "w");
    fputs("[fetch]\nmax_body = 1K\nmax_urls = 2\nconcurrency = 1\n", c);
    fclose(c);
    tu_example f = tu_example_start("fetch", conf);
    char path[512], body[8192];
    snprintf(path, sizeof path, "/fetch?url=http://127.0.0.1:%d/big", s.port);
    cr_assert_eq(curl_get(f.port, path, body, sizeof body), 200);
    cr_assert(strstr(body, "body over 1024 bytes"), "%s", body);
    snprintf(path, sizeof path, "/fetch?url=http://127.0.0.1:%d/ok&url=http://127.0.0.1:%d/ok"
                                "&url=http://127.0.0.1:%d/ok", s.port, s.port, s.port);
    cr_assert_eq(curl_get(f.port, path, body, sizeof body), 400);
    cr_assert(strstr(body, "at most 2 URLs"), "%s", body);
    tu_example_stop(&f, NULL, 0);
    /* a bad value stops start-up with file, line and reason */
    c = fopen(conf, "w");
    fputs("[fetch]\n\nconcurrency = many\n", c);
    fclose(c);
    char cmd[512], out[1024];
    snprintf(cmd, sizeof cmd, "%s/examples/fetch --listen 127.0.0.1:0 --conf %s 2>&1",
             build_dir(), conf);
    cr_assert_eq(tu_shell(cmd, out, sizeof out), 2);
    cr_assert(strstr(out, ":3: concurrency: expected a positive number"), "%s", out);
    unlink(conf);
    tu_server_stop(&s);
}

Test(fetch, the_command_line_prints_a_table)
{
    tu_server s;
    tu_server_start(&s, target_app(), NULL);
    char cmd[512], out[4096];
    snprintf(cmd, sizeof cmd,
             "%s/examples/fetch --timeout 300ms http://127.0.0.1:%d/ok http://127.0.0.1:%d/slow 2>&1",
             build_dir(), s.port, s.port);
    int64_t t0 = tu_ms();
    cr_assert_eq(tu_shell(cmd, out, sizeof out), 1, "one URL failed: exit 1\n%s", out);
    tu_assert_between(tu_ms() - t0, 250, 2000);
    cr_assert(strstr(out, "STATUS"), "%s", out);
    char want[128];
    snprintf(want, sizeof want, "http://127.0.0.1:%d/ok", s.port);
    const char *line = strstr(out, "200 ");
    cr_assert(line && strstr(line, want), "%s", out);
    snprintf(want, sizeof want, "http://127.0.0.1:%d/slow  error: timeout", s.port);
    cr_assert(strstr(out, want), "%s", out);
    cr_assert(strstr(out, "2 URLs in"), "%s", out);
    snprintf(cmd, sizeof cmd, "%s/examples/fetch file:///etc/passwd 2>&1", build_dir());
    cr_assert_eq(tu_shell(cmd, out, sizeof out), 2);
    cr_assert(strstr(out, "only http:// and https://"), "%s", out);
    tu_server_stop(&s);
}
