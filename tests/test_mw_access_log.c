/* The access log (middleware/access_log.c, wired into the server by [log]):
 * aiohttp's %-fields, the combined format, escaping, requests refused before
 * routing, and WebSocket lines with the client's real address. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "httpserver.h"
#include "middleware.h"
#include "testutil.h"

TestSuite(mw_access_log, .timeout = 30, .fini = tu_fini);

static char log_path[64];
static const char *log_format;

static void use_log(aw_config *c)
{
    char err[256];
    cr_assert_eq(aw_config_set(c, "log", "access_log", log_path, err, sizeof err), 0, "%s", err);
    cr_assert_eq(aw_config_set(c, "log", "access_log_format", log_format, err, sizeof err), 0);
}

static void new_log(const char *format)
{
    snprintf(log_path, sizeof log_path, "/tmp/mw1_alog_XXXXXX");
    int fd = mkstemp(log_path);
    close(fd);
    log_format = format;
}

static char *read_log(void)
{
    static char buf[16384];
    FILE *f = fopen(log_path, "r");
    size_t n = f ? fread(buf, 1, sizeof buf - 1, f) : 0;
    buf[n] = 0;
    if (f)
        fclose(f);
    unlink(log_path);
    return buf;
}

static aw_response *h_hello(aw_request *req)
{
    aw_response *r = aw_response_text(req, 200, "hello");
    aw_response_set_header(r, "X-Out", "out-value");
    return r;
}

static aw_response *h_echo(aw_request *req)
{
    aw_ws *ws = aw_ws_prepare(req, NULL);
    if (!ws)
        return aw_ws_refusal(req);
    aw_ws_msg m;
    if (aw_ws_recv(ws, &m, 5000) == 0 && m.type == AW_WS_TEXT)
        aw_ws_send_text(ws, m.data, m.len);
    /* the server closes first and the client then hangs up: by the time
     * the line is written the socket is no longer connected */
    aw_ws_close(ws, 1000, NULL);
    aw_sleep(150);
    return aw_ws_finish(ws);
}

static aw_app *log_app(void)
{
    aw_app *app = aw_app_new();
    cr_assert(aw_request_id_use(app, NULL));
    aw_app_route(app, "GET", "/hello", h_hello, NULL);
    aw_app_route(app, "GET", "/ws", h_echo, NULL);
    return app;
}

static void exchange(int port, const char *req, int responses)
{
    char buf[8192];
    int fd = tu_connect(port);
    tu_sends(fd, req);
    cr_assert(tu_recv_responses(fd, buf, sizeof buf, responses, 5000) > 0);
    close(fd);
}

Test(mw_access_log, aiohttp_fields_are_formatted)
{
    new_log("%a %t \"%r\" %s %b %T %Tf %D %P \"%{User-Agent}i\" %{X-Out}o %{X-None}o %L %u %%");
    tu_server s;
    tu_server_start(&s, log_app(), use_log);
    exchange(s.port,
             "GET /hello?x=1 HTTP/1.1\r\nHost: a\r\nUser-Agent: test\"agent\\\r\n"
             "X-Request-ID: rid-7\r\nConnection: close\r\n\r\n",
             1);
    tu_server_stop(&s);
    char *line = read_log();
    char expect[256];
    snprintf(expect, sizeof expect,
             "\"GET /hello?x=1 HTTP/1.1\" 200 5 0 0.000");
    cr_assert(strncmp(line, "127.0.0.1 [", 11) == 0, "%s", line);
    cr_assert(strstr(line, " +0000] "), "%s", line);
    cr_assert(strstr(line, expect), "%s", line);
    snprintf(expect, sizeof expect, " %d \"test\\x22agent\\x5c\" out-value - rid-7 - %%\n",
             (int)getpid());
    cr_assert(strstr(line, expect), "%s", line);
    cr_assert_eq(tu_count(line, "\n"), 1);
}

Test(mw_access_log, combined_by_default_and_one_lookup_per_connection)
{
    new_log("combined");
    tu_server s;
    tu_server_start(&s, log_app(), use_log);
    /* two requests on one keep-alive connection, and a bad one */
    exchange(s.port,
             "GET /hello HTTP/1.1\r\nHost: a\r\nReferer: http://r/\r\nUser-Agent: ua\r\n\r\n"
             "GET /nowhere HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n",
             2);
    exchange(s.port, "BAD\r\n\r\n", 1);
    tu_server_stop(&s);
    char *log = read_log();
    cr_assert_eq(tu_count(log, "\n"), 3, "%s", log);
    cr_assert(strstr(log, "127.0.0.1 - - ["), "%s", log);
    cr_assert(strstr(log, "] \"GET /hello HTTP/1.1\" 200 5 \"http://r/\" \"ua\"\n"), "%s", log);
    cr_assert(strstr(log, "] \"GET /nowhere HTTP/1.1\" 404 "), "%s", log);
    cr_assert(strstr(log, " 400 "), "refused before routing, still logged: %s", log);
    cr_assert_eq(tu_count(log, "127.0.0.1 - - ["), 3, "%s", log);
}

static int ws_port;
static int ws_client(void *arg)
{
    (void)arg;
    char url[64];
    snprintf(url, sizeof url, "ws://127.0.0.1:%d/ws", ws_port);
    aw_ws *ws;
    cr_assert_eq(aw_ws_connect(url, NULL, &ws), 0);
    cr_assert_eq(aw_ws_send_text(ws, "hi", 2), 0);
    aw_ws_msg m;
    cr_assert_eq(aw_ws_recv(ws, &m, 5000), 0);
    while (aw_ws_recv(ws, &m, 5000) == 0)
        ;
    aw_ws_close(ws, 1000, NULL);
    aw_ws_free(ws);
    return 0;
}

/* A client that resets the connection after the upgrade: the server's
 * socket is no longer connected when the line is written. */
static void ws_reset(int port)
{
    int fd = tu_connect(port);
    tu_sends(fd, "GET /ws HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                 "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n");
    char buf[1024];
    int n = 0;
    while (n < (int)sizeof buf - 1 && !strstr(buf, "\r\n\r\n")) {
        ssize_t k = read(fd, buf + n, sizeof buf - 1 - (size_t)n);
        if (k <= 0)
            break;
        n += (int)k;
        buf[n] = 0;
    }
    cr_assert(strstr(buf, " 101 "), "%s", buf);
    struct linger lg = {1, 0};
    setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
    close(fd);
    usleep(300 * 1000);
}

Test(mw_access_log, websocket_lines_show_the_client_address)
{
    new_log("%a \"%r\" %s %L");
    tu_server s;
    tu_server_start(&s, log_app(), use_log);
    ws_port = s.port;
    tu_run(ws_client, NULL);
    ws_reset(s.port);
    tu_server_stop(&s);
    char *log = read_log();
    cr_assert_eq(tu_count(log, "127.0.0.1 \"GET /ws HTTP/1.1\" 101 "), 2, "%s", log);
    const char *want = "127.0.0.1 \"GET /ws HTTP/1.1\" 101 ";
    cr_assert(strncmp(log, want, strlen(want)) == 0, "%s", log);
    cr_assert_null(strstr(log, "unix"), "%s", log);
}

Test(mw_access_log, unknown_fields_are_refused_at_start)
{
    aw_access_log_opts o;
    aw_access_log *l = (aw_access_log *)1;
    char err[128] = "";
    aw_access_log_opts_default(&o);
    o.format = "%a %Q";
    cr_assert_eq(aw_access_log_open(&o, &l, err, sizeof err), AW_EINVAL);
    cr_assert_null(l);
    cr_assert(strstr(err, "%Q"), "%s", err);
    o.format = "%{Referer}x";
    cr_assert_eq(aw_access_log_open(&o, &l, err, sizeof err), AW_EINVAL);
    o.path = "off";
    cr_assert_eq(aw_access_log_open(&o, &l, err, sizeof err), 0);
    cr_assert_null(l, "off opens nothing");
}
