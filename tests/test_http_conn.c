/* Connections over raw sockets and curl: keep-alive, pipelining, HTTP/1.0,
 * every limit and timeout (status, clean close, the server still serving),
 * and the request-smuggling shapes. The server runs on its own thread. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "httpserver.h"
#include "testutil.h"

TestSuite(http_conn, .timeout = 60, .fini = tu_fini);

static aw_response *h_root(aw_request *req) { return aw_response_text(req, 200, "root"); }

static aw_response *h_n(aw_request *req)
{
    return aw_response_textf(req, 200, "n=%s", aw_request_match(req, "n"));
}

static aw_response *h_echo_body(aw_request *req)
{
    const char *body;
    size_t len;
    int rc = aw_request_body(req, &body, &len);
    if (rc)
        return aw_fail(req, rc);
    return aw_response_bytes(req, 200, body, len, "application/octet-stream");
}

static aw_app *conn_app(void)
{
    aw_app *app = aw_app_new();
    aw_app_route(app, "GET", "/", h_root, NULL);
    aw_app_route(app, "GET", "/n/{n}", h_n, NULL);
    aw_app_route(app, "POST", "/echo", h_echo_body, NULL);
    return app;
}

/* A new client still gets its answer: the server is unharmed. */
static void still_serving(tu_server *s)
{
    int fd = tu_connect(s->port);
    char buf[4096];
    tu_sends(fd, "GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    tu_recv_responses(fd, buf, sizeof buf, 1, 2000);
    cr_assert_eq(tu_status(buf), 200, "the server stopped serving: %s", buf);
    close(fd);
}

/* Sends raw bytes; expects status and a closed connection. */
static void expect_refusal(tu_server *s, const char *raw, size_t len, int status)
{
    int fd = tu_connect(s->port);
    char buf[8192];
    int closed;
    tu_send(fd, raw, len);
    tu_recv_all(fd, buf, sizeof buf, 3000, &closed);
    cr_assert_eq(tu_status(buf), status, "expected %d for [%.60s...], got: %.200s", status, raw,
                 buf);
    cr_assert(strstr(buf, "Connection: close"), "no Connection: close: %s", buf);
    cr_assert(closed, "the connection was left open after %d", status);
    close(fd);
    still_serving(s);
}

/* --- keep-alive and pipelining ---------------------------------------------- */

Test(http_conn, curl_reuses_one_connection_for_two_urls)
{
    tu_server s;
    tu_server_start(&s, conn_app(), NULL);
    char cmd[512], out[8192];
    snprintf(cmd, sizeof cmd,
             "curl -sv http://127.0.0.1:%d/ http://127.0.0.1:%d/n/2 2>&1", s.port, s.port);
    cr_assert_eq(tu_shell(cmd, out, sizeof out), 0, "%s", out);
    cr_assert(strstr(out, "root"), "%s", out);
    cr_assert(strstr(out, "n=2"), "%s", out);
    cr_assert(strstr(out, "Re-using existing connection"), "curl opened a second connection:\n%s",
              out);
    cr_assert_eq(tu_count(out, "Connected to"), 1, "%s", out);
    tu_server_stop(&s);
}

Test(http_conn, twenty_pipelined_requests_in_one_write_are_answered_in_order)
{
    tu_server s;
    tu_server_start(&s, conn_app(), NULL);
    char req[8192] = "", buf[65536];
    for (int i = 0; i < 20; i++)
        snprintf(req + strlen(req), sizeof req - strlen(req),
                 "GET /n/%d HTTP/1.1\r\nHost: x\r\n\r\n", i);
    int fd = tu_connect(s.port);
    cr_assert_eq(tu_sends(fd, req), 0);
    tu_recv_responses(fd, buf, sizeof buf, 20, 5000);
    cr_assert_eq(tu_count(buf, "HTTP/1.1 200 OK"), 20, "%s", buf);
    const char *p = buf;
    for (int i = 0; i < 20; i++) {
        char want[32];
        snprintf(want, sizeof want, "\r\n\r\nn=%d", i);
        const char *at = strstr(p, want);
        cr_assert_not_null(at, "response %d missing or out of order", i);
        p = at + 1;
    }
    /* the connection stays open for more */
    tu_sends(fd, "GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    tu_recv_responses(fd, buf, sizeof buf, 1, 2000);
    cr_assert_eq(tu_status(buf), 200);
    close(fd);
    tu_server_stop(&s);
}

Test(http_conn, http_1_0_and_connection_close_end_the_connection)
{
    tu_server s;
    tu_server_start(&s, conn_app(), NULL);
    char buf[4096];
    int closed;
    int fd = tu_connect(s.port);
    tu_sends(fd, "GET / HTTP/1.0\r\n\r\n");
    tu_recv_all(fd, buf, sizeof buf, 2000, &closed);
    cr_assert(strncmp(buf, "HTTP/1.0 200 OK", 15) == 0, "%s", buf);
    cr_assert(closed);
    close(fd);
    fd = tu_connect(s.port);
    tu_sends(fd, "GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
    tu_recv_responses(fd, buf, sizeof buf, 1, 2000);
    cr_assert(strstr(buf, "Connection: keep-alive"), "%s", buf);
    tu_sends(fd, "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    tu_recv_all(fd, buf, sizeof buf, 2000, &closed);
    cr_assert_eq(tu_status(buf), 200);
    cr_assert(strstr(buf, "Connection: close"), "%s", buf);
    cr_assert(closed);
    close(fd);
    tu_server_stop(&s);
}

/* --- limits -------------------------------------------------------------------- */

static void small_limits(aw_config *c)
{
    c->client_max_size = 1024;
    c->header_ms = 500;
    c->keepalive_ms = 600;
    c->body_ms = 400;
    c->lingering_ms = 200;
}

Test(http_conn, each_limit_gets_its_status_and_a_clean_close)
{
    tu_server s;
    tu_server_start(&s, conn_app(), small_limits);
    static char raw[40000];
    /* request line over 8190 */
    int n = snprintf(raw, sizeof raw, "GET /");
    memset(raw + n, 'a', 8200);
    n += 8200;
    n += snprintf(raw + n, sizeof raw - (size_t)n, " HTTP/1.1\r\nHost: x\r\n\r\n");
    expect_refusal(&s, raw, (size_t)n, 414);
    /* a header field over 8190 */
    n = snprintf(raw, sizeof raw, "GET / HTTP/1.1\r\nHost: x\r\nX-Big: ");
    memset(raw + n, 'b', 8200);
    n += 8200;
    n += snprintf(raw + n, sizeof raw - (size_t)n, "\r\n\r\n");
    expect_refusal(&s, raw, (size_t)n, 431);
    /* more than 128 header fields */
    n = snprintf(raw, sizeof raw, "GET / HTTP/1.1\r\nHost: x\r\n");
    for (int i = 0; i < 130; i++)
        n += snprintf(raw + n, sizeof raw - (size_t)n, "X-H%d: v\r\n", i);
    n += snprintf(raw + n, sizeof raw - (size_t)n, "\r\n");
    expect_refusal(&s, raw, (size_t)n, 431);
    /* a body over client_max_size, refused without reading it all */
    n = snprintf(raw, sizeof raw,
                 "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5000\r\n\r\n");
    memset(raw + n, 'c', 5000);
    expect_refusal(&s, raw, (size_t)n + 5000, 413);
    /* malformed */
    expect_refusal(&s, "GARBAGE\r\n\r\n", 11, 400);
    expect_refusal(&s, "GET / HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n", 39, 400);
    expect_refusal(&s, "GET /%zz HTTP/1.1\r\nHost: x\r\n\r\n", 31, 400);
    tu_server_stop(&s);
}

Test(http_conn, a_slow_head_gets_408_and_an_idle_connection_is_closed)
{
    tu_server s;
    tu_server_start(&s, conn_app(), small_limits);
    char buf[4096];
    int closed;
    /* part of a head, then nothing: 408 at header_ms */
    int fd = tu_connect(s.port);
    int64_t t0 = tu_ms();
    tu_sends(fd, "GET / HTTP/1.1\r\nHost: x\r\n");
    tu_recv_all(fd, buf, sizeof buf, 3000, &closed);
    int64_t took = tu_ms() - t0;
    cr_assert_eq(tu_status(buf), 408, "%s", buf);
    cr_assert(closed);
    tu_assert_between(took, 450, 1200);
    close(fd);
    /* connected, never a byte: closed at header_ms without a word */
    fd = tu_connect(s.port);
    t0 = tu_ms();
    tu_recv_all(fd, buf, sizeof buf, 3000, &closed);
    cr_assert(closed);
    cr_assert_eq(buf[0], 0, "%s", buf);
    tu_assert_between(tu_ms() - t0, 450, 1000);
    close(fd);
    /* an idle keep-alive connection: closed at keepalive_ms */
    fd = tu_connect(s.port);
    tu_sends(fd, "GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    tu_recv_responses(fd, buf, sizeof buf, 1, 2000);
    cr_assert_eq(tu_status(buf), 200);
    t0 = tu_ms();
    tu_recv_all(fd, buf, sizeof buf, 3000, &closed);
    cr_assert(closed, "the idle connection was not closed");
    tu_assert_between(tu_ms() - t0, 550, 1100);
    close(fd);
    still_serving(&s);
    tu_server_stop(&s);
}

Test(http_conn, a_body_that_stops_coming_gets_408)
{
    tu_server s;
    tu_server_start(&s, conn_app(), small_limits);
    char buf[4096];
    int closed;
    int fd = tu_connect(s.port);
    int64_t t0 = tu_ms();
    tu_sends(fd, "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nonly part");
    tu_recv_all(fd, buf, sizeof buf, 3000, &closed);
    cr_assert_eq(tu_status(buf), 408, "%s", buf);
    cr_assert(closed);
    tu_assert_between(tu_ms() - t0, 350, 1200);
    close(fd);
    still_serving(&s);
    tu_server_stop(&s);
}

Test(http_conn, request_smuggling_shapes_are_refused)
{
    tu_server s;
    tu_server_start(&s, conn_app(), NULL);
    static const char *const shapes[] = {
        /* Content-Length and Transfer-Encoding together */
        "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n"
        "0\r\n\r\n",
        /* two different Content-Lengths */
        "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd",
        /* a chunk size with garbage */
        "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3x\r\nabc\r\n0\r\n\r\n",
        /* obs-fold */
        "GET / HTTP/1.1\r\nHost: x\r\nX-Fold: a\r\n b\r\n\r\n",
        /* a bare LF */
        "GET / HTTP/1.1\nHost: x\n\n",
        /* a bare CR ending the head (llhttp 8.1 takes it: CVE-2023-30589) */
        "GET / HTTP/1.1\r\nHost: x\r\n\rGET /admin HTTP/1.1\r\nHost: x\r\n\r\n",
        "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\rhello",
        /* no Host, and two Hosts */
        "GET / HTTP/1.1\r\n\r\n",
        "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n",
        /* a control character in a value */
        "GET / HTTP/1.1\r\nHost: x\r\nX-Ctl: a\x01z\r\n\r\n",
        /* Transfer-Encoding that does not end in chunked */
        "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked, gzip\r\n\r\n",
    };
    for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++)
        expect_refusal(&s, shapes[i], strlen(shapes[i]), 400);
    tu_server_stop(&s);
}

Test(http_conn, chunked_bodies_and_bodies_split_across_writes_arrive_whole)
{
    tu_server s;
    tu_server_start(&s, conn_app(), NULL);
    char buf[8192];
    int fd = tu_connect(s.port);
    tu_sends(fd, "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                 "5;ext=1\r\nhello\r\n1\r\n \r\n5\r\nworld\r\n0\r\nTrailer: t\r\n\r\n");
    tu_recv_responses(fd, buf, sizeof buf, 1, 2000);
    cr_assert(strstr(buf, "\r\n\r\nhello world"), "%s", buf);
    /* a Content-Length body one byte at a time, on the same connection */
    const char *msg = "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n0123456789";
    for (const char *p = msg; *p; p++) {
        tu_send(fd, p, 1);
        usleep(500);
    }
    tu_recv_responses(fd, buf, sizeof buf, 1, 2000);
    cr_assert(strstr(buf, "\r\n\r\n0123456789"), "%s", buf);
    close(fd);
    tu_server_stop(&s);
}

/* --- writing to a client that does not read; lingering close ---------------- */

static aw_response *h_big(aw_request *req)
{
    size_t n = 64u << 20;
    char *big = aw_request_alloc(req, n);
    memset(big, 'x', n);
    return aw_response_static(req, 200, big, n, "application/octet-stream");
}

static void short_write(aw_config *c)
{
    c->write_ms = 400;
    c->lingering_ms = 1000;
    c->client_max_size = 1024;
}

Test(http_conn, a_client_that_never_reads_is_cut_at_the_write_timeout)
{
    aw_app *app = conn_app();
    aw_app_route(app, "GET", "/big", h_big, NULL);
    tu_server s;
    tu_server_start(&s, app, short_write);
    int fd = tu_connect(s.port);
    tu_sends(fd, "GET /big HTTP/1.1\r\nHost: x\r\n\r\n");
    /* never read: the server's write stalls, then it gives up */
    for (int i = 0; i < 200 && s.connections == 0; i++)
        usleep(5000);
    cr_assert_eq(s.connections, 1);
    int64_t t0 = tu_ms();
    while (tu_ms() - t0 < 3000 && s.connections > 0)
        usleep(20 * 1000);
    cr_assert_eq(s.connections, 0, "the stalled connection was kept");
    tu_assert_between(tu_ms() - t0, 350, 1500);
    close(fd);
    still_serving(&s);
    tu_server_stop(&s);
}

Test(http_conn, an_error_answer_is_read_by_a_client_still_sending)
{
    tu_server s;
    tu_server_start(&s, conn_app(), short_write);
    int fd = tu_connect(s.port);
    /* far more than client_max_size: the server answers 413 at once, then
     * keeps reading for a while so the client sees the answer, not a reset */
    tu_sends(fd, "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 2000000\r\n\r\n");
    static char chunk[65536];
    memset(chunk, 'z', sizeof chunk);
    for (int i = 0; i < 30; i++)
        if (tu_send(fd, chunk, sizeof chunk))
            break;
    char buf[4096];
    int closed;
    tu_recv_all(fd, buf, sizeof buf, 3000, &closed);
    cr_assert_eq(tu_status(buf), 413, "%s", buf);
    cr_assert(closed);
    close(fd);
    still_serving(&s);
    tu_server_stop(&s);
}
