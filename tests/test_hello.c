/* examples/hello as people run it: its routes and the middleware set it
 * shows (request id, error pages, security headers, CORS for
 * http://example.com only, compression, static files), through curl. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "example.h"
#include "httpserver.h"
#include "testutil.h"

TestSuite(hello, .timeout = 60, .fini = tu_fini);

/* curl's head and body of one request (extra: more curl options) */
static void curl(int port, const char *extra, const char *path, char *out, size_t cap)
{
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "curl -s -i --max-time 10 %s 'http://127.0.0.1:%d%s'", extra, port,
             path);
    cr_assert_eq(tu_shell(cmd, out, cap), 0, "curl failed: %s", cmd);
}

Test(hello, routes_answer_with_the_middleware_headers)
{
    tu_example h = tu_example_start("hello", "conf/aweb.conf");
    char out[65536], log[65536];
    curl(h.port, "-H 'X-Request-ID: test-id-1'", "/", out, sizeof out);
    cr_assert_eq(tu_status(out), 200);
    cr_assert(strstr(out, "\r\n\r\nHello, World!"), "%s", out);
    cr_assert(strstr(out, "X-Request-ID: test-id-1\r\n"), "the id is not echoed: %s", out);
    cr_assert(strstr(out, "X-Content-Type-Options: nosniff\r\n"), "%s", out);
    cr_assert(strstr(out, "X-Frame-Options: DENY\r\n"), "%s", out);
    cr_assert_null(strstr(out, "Strict-Transport-Security"), "HSTS over plain HTTP");
    /* an id is made up when the client sends none */
    curl(h.port, "", "/json", out, sizeof out);
    cr_assert(strstr(out, "X-Request-ID: "), "%s", out);
    cr_assert(strstr(out, "\"message\":\"Hello, World!\""), "%s", out);
    curl(h.port, "", "/hello/you", out, sizeof out);
    cr_assert(strstr(out, "Hello, you!"), "%s", out);
    /* the access log line for the request carries its status */
    tu_example_stop(&h, log, sizeof log);
    cr_assert(strstr(log, "\"GET / HTTP/1.1\" 200 13"), "%s", log);
}

Test(hello, cors_allows_example_com_only)
{
    tu_example h = tu_example_start("hello", "conf/aweb.conf");
    char out[65536], log[65536];
    curl(h.port, "-H 'Origin: http://example.com'", "/json", out, sizeof out);
    cr_assert(strstr(out, "Access-Control-Allow-Origin: http://example.com\r\n"), "%s", out);
    curl(h.port, "-H 'Origin: http://evil.example'", "/json", out, sizeof out);
    cr_assert_eq(tu_status(out), 200);
    cr_assert_null(strstr(out, "Access-Control-Allow"), "%s", out);
    /* a preflight from the allowed origin, though no OPTIONS route exists */
    curl(h.port,
         "-X OPTIONS -H 'Origin: http://example.com' -H 'Access-Control-Request-Method: POST'",
         "/json", out, sizeof out);
    cr_assert_lt(tu_status(out), 300, "%s", out);
    cr_assert(strstr(out, "Access-Control-Allow-Methods: "), "%s", out);
    tu_example_stop(&h, log, sizeof log);
}

Test(hello, errors_get_pages_without_internals)
{
    tu_example h = tu_example_start("hello", "conf/aweb.conf");
    char out[65536], log[65536];
    curl(h.port, "-H 'Accept: application/json' -H 'X-Request-ID: fail-1'", "/fail", out,
         sizeof out);
    cr_assert_eq(tu_status(out), 500);
    cr_assert(strstr(out, "Content-Type: application/json"), "%s", out);
    cr_assert(strstr(out, "\"request_id\":\"fail-1\""), "%s", out);
    cr_assert_null(strstr(out, "10.0.0.7"), "internals leaked: %s", out);
    cr_assert_null(strstr(out, "refused"), "internals leaked: %s", out);
    curl(h.port, "-H 'Accept: text/html'", "/missing", out, sizeof out);
    cr_assert_eq(tu_status(out), 404);
    cr_assert(strstr(out, "<h1>404 Not Found</h1>"), "%s", out);
    tu_example_stop(&h, log, sizeof log);
    /* the log keeps the details, with the request id */
    cr_assert(strstr(log, "[req fail-1] the database at 10.0.0.7 refused us"), "%s", log);
}

Test(hello, static_files_with_compression)
{
    tu_example h = tu_example_start("hello", "conf/aweb.conf");
    char out[65536], log[65536];
    curl(h.port, "", "/static/index.html", out, sizeof out);
    cr_assert_eq(tu_status(out), 200);
    cr_assert(strstr(out, "Content-Type: text/html"), "%s", out);
    cr_assert(strstr(out, "ETag: "), "%s", out);
    cr_assert(strstr(out, "/static/style.css"), "%s", out);
    curl(h.port, "", "/static/style.css", out, sizeof out);
    cr_assert(strstr(out, "Content-Type: text/css"), "%s", out);
    /* the file over 2 KiB goes compressed to a client that asks, and decodes whole */
    curl(h.port, "-H 'Accept-Encoding: gzip'", "/static/words.txt", out, sizeof out);
    cr_assert(strstr(out, "Content-Encoding: gzip\r\n"), "%s", out);
    cr_assert(strstr(out, "Vary: ") && strstr(out, "Accept-Encoding"), "%s", out);
    char cmd[512], plain[16384];
    snprintf(cmd, sizeof cmd,
             "curl -s --compressed --max-time 10 http://127.0.0.1:%d/static/words.txt | cmp - "
             "examples/hello/static/words.txt && echo SAME", h.port);
    cr_assert_eq(tu_shell(cmd, plain, sizeof plain), 0);
    cr_assert(strstr(plain, "SAME"), "%s", plain);
    /* a client that does not ask gets it as it is, ranges included */
    curl(h.port, "-r 0-4", "/static/words.txt", out, sizeof out);
    cr_assert_eq(tu_status(out), 206);
    cr_assert(strstr(out, "\r\n\r\nWords"), "%s", out);
    /* out of the directory: refused */
    curl(h.port, "--path-as-is", "/static/../Makefile", out, sizeof out);
    cr_assert(tu_status(out) == 403 || tu_status(out) == 404, "%s", out);
    curl(h.port, "--path-as-is", "/static/%2e%2e/Makefile", out, sizeof out);
    cr_assert(tu_status(out) == 403 || tu_status(out) == 404, "%s", out);
    tu_example_stop(&h, log, sizeof log);
}
