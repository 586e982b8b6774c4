/* Oversized everything, beyond what tests/test_http_conn.c covers (a long
 * path, one long header field, too many fields, a long Content-Length body):
 * a long method, a long query string and many query parameters, many and
 * long cookies, endless chunk extensions, trailers past the field size and
 * the field count, a chunked body past client_max_size. Each is refused with
 * its status (400, 413, 414, 431) and a clean close, while another client
 * that is in the middle of a keep-alive conversation is not disturbed. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "httpserver.h"
#include "testutil.h"

TestSuite(abuse_oversize, .timeout = 60, .fini = tu_fini);

static aw_response *h_root(aw_request *req) { return aw_response_text(req, 200, "root"); }

static aw_response *h_echo(aw_request *req)
{
    const char *body;
    size_t len;
    int rc = aw_request_body(req, &body, &len);
    if (rc)
        return aw_fail(req, rc);
    return aw_response_textf(req, 200, "len=%zu", len);
}

/* Counts what the handler sees, so that a request within the limits is
 * shown to be parsed whole. */
static aw_response *h_count(aw_request *req)
{
    const char *vals[4096];
    size_t nq = aw_request_query_all(req, "q", vals, 4096);
    const char *c0 = aw_request_cookie(req, "c0"), *clast = aw_request_cookie(req, "clast");
    return aw_response_textf(req, 200, "q=%zu c0=%s clast=%s", nq, c0 ? c0 : "-",
                             clast ? clast : "-");
}

static aw_app *oversize_app(void)
{
    aw_app *app = aw_app_new();
    aw_app_route(app, "GET", "/", h_root, NULL);
    aw_app_route(app, "GET", "/count", h_count, NULL);
    aw_app_route(app, "POST", "/echo", h_echo, NULL);
    return app;
}

static void limits(aw_config *c)
{
    c->client_max_size = 4096;
    c->lingering_ms = 200;
    c->body_ms = 2000;
}

/* A keep-alive client that stays connected through the whole test: every
 * refusal is followed by a request on it, which must still be answered. */
static int bystander;

static void bystander_asks(void)
{
    char buf[4096];
    cr_assert_eq(tu_sends(bystander, "GET / HTTP/1.1\r\nHost: x\r\n\r\n"), 0,
                 "the bystander's connection was closed");
    tu_recv_responses(bystander, buf, sizeof buf, 1, 2000);
    cr_assert_eq(tu_status(buf), 200, "the bystander was harmed: %s", buf);
}

/* Sends len bytes (stopping quietly if the server already closed), expects
 * status, Connection: close and the close itself. */
static void expect_refusal(tu_server *s, const char *what, const char *raw, size_t len, int status)
{
    int fd = tu_connect(s->port);
    static char buf[16384];
    int closed;
    tu_send(fd, raw, len);
    tu_recv_all(fd, buf, sizeof buf, 3000, &closed);
    cr_assert_eq(tu_status(buf), status, "%s: expected %d, got: %.200s", what, status, buf);
    cr_assert(strstr(buf, "Connection: close"), "%s: no Connection: close: %.300s", what, buf);
    cr_assert(closed, "%s: the connection was left open after %d", what, status);
    cr_assert_eq(tu_count(buf, "HTTP/1."), 1, "%s: more than one response: %s", what, buf);
    close(fd);
    bystander_asks();
}

static char raw[1 << 20];

/* Appends to raw at *n. */
static void put(int *n, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(int *n, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    *n += vsnprintf(raw + *n, sizeof raw - (size_t)*n, fmt, ap);
    va_end(ap);
}

static void fill(int *n, char c, int count)
{
    memset(raw + *n, c, (size_t)count);
    *n += count;
}

Test(abuse_oversize, every_oversized_part_gets_its_status_and_others_are_unharmed)
{
    tu_server s;
    tu_server_start(&s, oversize_app(), limits);
    bystander = tu_connect(s.port);
    bystander_asks();
    int n;

    /* a method no server knows, 100 KB long */
    n = 0;
    fill(&n, 'G', 100000);
    put(&n, " / HTTP/1.1\r\nHost: x\r\n\r\n");
    expect_refusal(&s, "long method", raw, (size_t)n, 400);

    /* a query string that makes the request line too long */
    n = 0;
    put(&n, "GET /count?q=");
    fill(&n, 'a', 9000);
    put(&n, " HTTP/1.1\r\nHost: x\r\n\r\n");
    expect_refusal(&s, "long query", raw, (size_t)n, 414);

    /* 20,000 query parameters: past the request line */
    n = 0;
    put(&n, "GET /count?");
    for (int i = 0; i < 20000; i++)
        put(&n, "q&");
    put(&n, " HTTP/1.1\r\nHost: x\r\n\r\n");
    expect_refusal(&s, "many query parameters", raw, (size_t)n, 414);

    /* one cookie header past the field size */
    n = 0;
    put(&n, "GET /count HTTP/1.1\r\nHost: x\r\nCookie: c0=");
    fill(&n, 'c', 9000);
    put(&n, "\r\n\r\n");
    expect_refusal(&s, "long cookie", raw, (size_t)n, 431);

    /* 200 Cookie headers: past the field count */
    n = 0;
    put(&n, "GET /count HTTP/1.1\r\nHost: x\r\n");
    for (int i = 0; i < 200; i++)
        put(&n, "Cookie: c%d=v\r\n", i);
    put(&n, "\r\n");
    expect_refusal(&s, "many cookie headers", raw, (size_t)n, 431);

    /* a chunk extension that never ends (well, 1 MB) */
    n = 0;
    put(&n, "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5;ext=");
    fill(&n, 'e', 1000000);
    put(&n, "\r\nhello\r\n0\r\n\r\n");
    expect_refusal(&s, "long chunk extension", raw, (size_t)n, 413);

    /* many short chunk extensions on one chunk */
    n = 0;
    put(&n, "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5");
    for (int i = 0; i < 5000; i++)
        put(&n, ";e=\"1\""); /* quoted: Debian's llhttp 8.1 refuses a ';' after a token value */
    put(&n, "\r\nhello\r\n0\r\n\r\n");
    expect_refusal(&s, "many chunk extensions", raw, (size_t)n, 413);

    /* a trailer field past the field size */
    n = 0;
    put(&n, "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
            "5\r\nhello\r\n0\r\nX-Trailer: ");
    fill(&n, 't', 9000);
    put(&n, "\r\n\r\n");
    expect_refusal(&s, "long trailer", raw, (size_t)n, 431);

    /* more trailer fields than header fields allowed */
    n = 0;
    put(&n, "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
            "5\r\nhello\r\n0\r\n");
    for (int i = 0; i < 200; i++)
        put(&n, "X-T%d: v\r\n", i);
    put(&n, "\r\n");
    expect_refusal(&s, "many trailers", raw, (size_t)n, 431);

    /* a chunked body past client_max_size (no Content-Length to refuse early) */
    n = 0;
    put(&n, "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n");
    for (int i = 0; i < 10; i++) {
        put(&n, "400\r\n");
        fill(&n, 'b', 1024);
        put(&n, "\r\n");
    }
    put(&n, "0\r\n\r\n");
    expect_refusal(&s, "chunked body too big", raw, (size_t)n, 413);

    /* a Content-Length no body could have */
    n = 0;
    put(&n, "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999999999999999\r\n\r\n");
    expect_refusal(&s, "Content-Length overflow", raw, (size_t)n, 400);
    n = 0;
    put(&n, "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 18446744073709551615\r\n\r\n");
    expect_refusal(&s, "Content-Length 2^64-1", raw, (size_t)n, 413);

    close(bystander);
    tu_server_stop(&s);
}

Test(abuse_oversize, requests_just_within_the_limits_are_served_whole)
{
    tu_server s;
    tu_server_start(&s, oversize_app(), limits);
    char buf[16384];
    int n, fd;

    /* 900 query parameters, 500 cookies and 100 more fields, within the limits */
    n = 0;
    put(&n, "GET /count?");
    for (int i = 0; i < 900; i++)
        put(&n, "q=%d&", i % 10);
    put(&n, " HTTP/1.1\r\nHost: x\r\n");
    put(&n, "Cookie: c0=first");
    for (int i = 1; i < 500; i++)
        put(&n, "; c%d=v", i);
    put(&n, "; clast=last\r\n");
    for (int i = 0; i < 100; i++)
        put(&n, "X-H%d: v\r\n", i);
    put(&n, "\r\n");
    fd = tu_connect(s.port);
    tu_send(fd, raw, (size_t)n);
    tu_recv_responses(fd, buf, sizeof buf, 1, 3000);
    cr_assert_eq(tu_status(buf), 200, "%s", buf);
    cr_assert(strstr(buf, "q=900 c0=first clast=last"), "%s", buf);

    /* past 1,000 pairs a query is not parsed at all (the handler sees no
     * parameters): the work and memory per request stay bounded */
    n = 0;
    put(&n, "GET /count?");
    for (int i = 0; i < 1500; i++)
        put(&n, "q=%d&", i % 10);
    put(&n, " HTTP/1.1\r\nHost: x\r\n\r\n");
    tu_send(fd, raw, (size_t)n);
    tu_recv_responses(fd, buf, sizeof buf, 1, 3000);
    cr_assert_eq(tu_status(buf), 200, "%s", buf);
    cr_assert(strstr(buf, "q=0 "), "%s", buf);

    /* chunk extensions and trailers of a reasonable size are skipped */
    n = 0;
    put(&n, "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5");
    for (int i = 0; i < 100; i++)
        put(&n, ";e%d=\"v\"", i);
    put(&n, "\r\nhello\r\n3;x=y\r\nabc\r\n0\r\n");
    for (int i = 0; i < 50; i++)
        put(&n, "X-T%d: v\r\n", i);
    put(&n, "\r\n");
    tu_send(fd, raw, (size_t)n);
    tu_recv_responses(fd, buf, sizeof buf, 1, 3000);
    cr_assert_eq(tu_status(buf), 200, "%s", buf);
    cr_assert(strstr(buf, "len=8"), "%s", buf);
    close(fd);
    tu_server_stop(&s);
}
