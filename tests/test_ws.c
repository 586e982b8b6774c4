/* WebSockets: python3-websockets as the client for what it does, raw frames
 * for what well-behaved clients never send, the heartbeat, deflate and its
 * bombs, a slow reader during a broadcast, aweb's own client against aweb's
 * server (ws and wss) and against python3-websockets' server. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "certs.h"
#include "httpserver.h"
#include "testutil.h"

TestSuite(ws, .timeout = 120, .fini = tu_fini);

#define PY "/usr/bin/python3 tests/ws/wsclient.py"

/* --- the app under test ------------------------------------------------------ */

static aw_response *echo_loop(aw_request *req, const aw_ws_opts *o)
{
    aw_ws *ws = aw_ws_prepare(req, o);
    if (!ws)
        return aw_ws_refusal(req);
    aw_ws_msg m;
    while (aw_ws_recv(ws, &m, AW_FOREVER) == 0) {
        if (m.type == AW_WS_TEXT)
            aw_ws_send_text(ws, m.data, m.len);
        else if (m.type == AW_WS_BINARY)
            aw_ws_send_binary(ws, m.data, m.len);
    }
    return aw_ws_finish(ws);
}

static aw_response *h_echo(aw_request *req) { return echo_loop(req, NULL); }

static aw_response *h_small(aw_request *req)
{
    return echo_loop(req, &(aw_ws_opts){.max_message = 65536});
}

static aw_response *h_beat(aw_request *req)
{
    return echo_loop(req, &(aw_ws_opts){.heartbeat_ms = 300, .pong_timeout_ms = 300});
}

static aw_response *h_close_me(aw_request *req)
{
    aw_ws *ws = aw_ws_prepare(req, NULL);
    if (!ws)
        return aw_ws_refusal(req);
    aw_ws_close(ws, 4001, "server bye");
    return aw_ws_finish(ws);
}

/* a room for the broadcast test; readers acknowledge every 16 messages */
static aw_ws *room[64];
static int nroom;
static int acks;

static aw_response *h_room(aw_request *req)
{
    aw_ws *ws = aw_ws_prepare(req, &(aw_ws_opts){.outbound_limit = 1 << 20,
                                                 .close_timeout_ms = 5000, .compress = -1});
    if (!ws)
        return aw_ws_refusal(req);
    room[nroom++] = ws;
    aw_ws_msg m;
    while (aw_ws_recv(ws, &m, AW_FOREVER) == 0)
        acks += m.type == AW_WS_TEXT && !strcmp(m.data, "ack");
    for (int i = 0; i < nroom; i++)
        if (room[i] == ws)
            room[i] = room[--nroom];
    return aw_ws_finish(ws);
}

static aw_response *h_go(aw_request *req)
{
    aw_ws *ws = aw_ws_prepare(req, NULL);
    if (!ws)
        return aw_ws_refusal(req);
    aw_ws_msg m;
    if (aw_ws_recv(ws, &m, 5000) == 0) {
        int count = 0, size = 0, readers = 0;
        sscanf(m.data, "%d %d %d", &count, &size, &readers);
        char *msg = malloc((size_t)size);
        memset(msg, 'b', (size_t)size);
        acks = 0;
        for (int i = 0; i < count; i++) {
            for (int j = 0; j < nroom; j++)
                aw_ws_send_binary(room[j], msg, (size_t)size); /* never waits */
            /* pace on the healthy readers' acknowledgements */
            for (int w = 0; i % 16 == 15 && acks < readers * (i + 1) / 16 && w < 10000; w++)
                aw_sleep(1);
        }
        free(msg);
        aw_ws_send_text(ws, "done", 4);
    }
    while (aw_ws_recv(ws, &m, 10000) == 0)
        ;
    return aw_ws_finish(ws);
}

static aw_app *ws_app(void)
{
    aw_app *app = aw_app_new();
    aw_app_route(app, "GET", "/echo", h_echo, NULL);
    aw_app_route(app, "GET", "/small", h_small, NULL);
    aw_app_route(app, "GET", "/beat", h_beat, NULL);
    aw_app_route(app, "GET", "/close-me", h_close_me, NULL);
    aw_app_route(app, "GET", "/room", h_room, NULL);
    aw_app_route(app, "GET", "/go", h_go, NULL);
    return app;
}

/* Runs the python client with fmt's %d as the port; it must print OK. */
static void py(int port, const char *fmt, char *out, size_t cap)
{
    char args[256], cmd[600];
    snprintf(args, sizeof args, fmt, port);
    snprintf(cmd, sizeof cmd, "timeout 60 " PY " %s 2>&1", args);
    int rc = tu_shell(cmd, out, cap);
    cr_assert_eq(rc, 0, "%s: %s", cmd, out);
    cr_assert(!strncmp(out, "OK", 2), "%s: %s", cmd, out);
}

/* --- python3-websockets as the client ------------------------------------------- */

Test(ws, text_and_binary_from_0_bytes_to_4_mib_fragments_and_ping)
{
    tu_server s;
    tu_server_start(&s, ws_app(), NULL);
    char out[4096];
    py(s.port, "echo %d", out, sizeof out);
    tu_server_stop(&s);
}

Test(ws, client_and_server_initiated_closes_complete_with_their_codes)
{
    tu_server s;
    tu_server_start(&s, ws_app(), NULL);
    char out[4096];
    py(s.port, "client-close %d", out, sizeof out);
    cr_assert(strstr(out, "OK 4000 client bye"), "%s", out);
    py(s.port, "server-close %d", out, sizeof out);
    cr_assert(strstr(out, "OK 4001 server bye"), "%s", out);
    tu_server_stop(&s);
}

Test(ws, permessage_deflate_round_trips)
{
    tu_server s;
    tu_server_start(&s, ws_app(), NULL);
    char out[4096];
    py(s.port, "deflate %d", out, sizeof out);
    tu_server_stop(&s);
}

Test(ws, shutting_the_server_down_closes_open_sockets_with_1001)
{
    tu_server s;
    tu_server_start(&s, ws_app(), NULL);
    char cmd[256], line[128] = "";
    snprintf(cmd, sizeof cmd, "timeout 30 " PY " wait-close %d", s.port);
    FILE *client = popen(cmd, "r");
    cr_assert_not_null(fgets(line, sizeof line, client));
    cr_assert(strstr(line, "CONNECTED"), "%s", line);
    int64_t t0 = tu_ms();
    tu_server_stop(&s);
    cr_assert_lt(tu_ms() - t0, 3000, "the shutdown waited for the socket's handler");
    cr_assert_not_null(fgets(line, sizeof line, client));
    cr_assert(strstr(line, "OK 1001"), "%s", line);
    pclose(client);
}

/* --- raw frames --------------------------------------------------------------------- */

Test(ws, malformed_frames_get_their_close_codes_and_the_server_goes_on)
{
    static const struct {
        const char *name;
        int code;
    } cases[] = {
        {"unmasked", 1002},         {"rsv", 1002},         {"opcode", 1002},
        {"big-control", 1002},      {"fragmented-control", 1002},
        {"lone-continuation", 1002}, {"bad-utf8", 1007},    {"split-utf8", 1007},
        {"too-big", 1009},          {"close-1005", 1002},  {"close-999", 1002},
        {"huge-length", 1002},      {"deflate-bomb", 1009},
    };
    tu_server s;
    tu_server_start(&s, ws_app(), NULL);
    char out[4096], args[64], want[32];
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        snprintf(args, sizeof args, "%s %%d", cases[i].name);
        py(s.port, args, out, sizeof out);
        snprintf(want, sizeof want, "OK %d", cases[i].code);
        cr_assert(strstr(out, want), "%s: expected %d, got %s", cases[i].name, cases[i].code,
                  out);
        py(s.port, "client-close %d", out, sizeof out); /* others are still served */
    }
    tu_server_stop(&s);
}

Test(ws, a_client_that_stops_answering_pings_is_closed)
{
    tu_server s;
    tu_server_start(&s, ws_app(), NULL);
    char out[4096];
    py(s.port, "heartbeat %d", out, sizeof out);
    double took = atof(out + 3);
    /* ping after 300 ms without traffic, pong due 300 ms later */
    cr_assert(took >= 0.5 && took <= 1.5, "closed after %.3f s", took);
    tu_server_stop(&s);
}

Test(ws, a_reader_that_stops_is_closed_with_1008_and_the_rest_get_everything)
{
    tu_server s;
    tu_server_start(&s, ws_app(), NULL);
    char out[4096];
    py(s.port, "broadcast %d 10 400 65536", out, sizeof out);
    cr_assert(strstr(out, "OK 4000 delivered to 10 readers; slow one closed with 1008"), "%s",
              out);
    tu_server_stop(&s);
}

/* --- aweb's client -------------------------------------------------------------------- */

typedef struct client_case {
    int port;
    const char *scheme;
    aw_tls_ctx *tls;
} client_case;

static int client_main(void *arg)
{
    client_case *c = arg;
    char url[128];
    snprintf(url, sizeof url, "%s://localhost:%d/echo", c->scheme, c->port);
    aw_ws *ws;
    int rc = aw_ws_connect(url, &(aw_ws_opts){.tls = c->tls, .max_message = 8 << 20}, &ws);
    cr_assert_eq(rc, 0, "%s: %s", aw_strerror(rc), aw_last_error());
    aw_ws_msg m;
    size_t sizes[] = {0, 5, 70000, 3 << 20};
    for (size_t i = 0; i < 4; i++) {
        char *buf = malloc(sizes[i] + 1);
        for (size_t k = 0; k < sizes[i]; k++)
            buf[k] = (char)('a' + k % 26);
        cr_assert_eq(aw_ws_send_text(ws, buf, sizes[i]), 0);
        cr_assert_eq(aw_ws_recv(ws, &m, 10000), 0);
        cr_assert_eq(m.type, AW_WS_TEXT);
        cr_assert_eq(m.len, sizes[i]);
        cr_assert(!memcmp(m.data, buf, sizes[i]));
        cr_assert_eq(aw_ws_send_binary(ws, buf, sizes[i]), 0);
        cr_assert_eq(aw_ws_recv(ws, &m, 10000), 0);
        cr_assert_eq(m.type, AW_WS_BINARY);
        cr_assert_eq(m.len, sizes[i]);
        free(buf);
    }
    cr_assert_eq(aw_ws_close(ws, 4002, "done"), 0);
    cr_assert_eq(aw_ws_sent_close_code(ws), 4002);
    cr_assert_eq(aw_ws_close_code(ws), 4002, "the peer echoes the close code");
    aw_ws_free(ws);
    return 0;
}

Test(ws, aweb_client_talks_to_aweb_server_over_ws_and_wss)
{
    tu_server s;
    tu_server_start(&s, ws_app(), NULL);
    client_case c = {s.port, "ws", NULL};
    tu_run(client_main, &c);
    tu_server_stop(&s);
}

static void with_tls(aw_config *c)
{
    const tu_certs *certs = tu_certs_get();
    c->tls_cert = strdup(certs->server_cert);
    c->tls_key = strdup(certs->server_key);
}

Test(ws, aweb_client_talks_to_aweb_server_over_wss)
{
    tu_server s;
    tu_server_start(&s, ws_app(), with_tls);
    aw_tls_ctx *tls;
    aw_tls_client_ctx_new(&(aw_tls_opts){.ca_file = tu_certs_get()->ca}, &tls);
    client_case c = {s.port, "wss", tls};
    tu_run(client_main, &c);
    aw_tls_ctx_free(tls);
    tu_server_stop(&s);
}

Test(ws, aweb_client_talks_to_python_websockets_server)
{
    int port = 20000 + getpid() % 20000;
    char cmd[256];
    snprintf(cmd, sizeof cmd, "PEER_SECONDS=10 " PY " serve %d", port);
    FILE *peer = popen(cmd, "r");
    char line[64] = "";
    cr_assert_not_null(fgets(line, sizeof line, peer));
    cr_assert(strstr(line, "READY"), "%s", line);
    client_case c = {port, "ws", NULL};
    tu_run(client_main, &c);
    pclose(peer);
}

/* --- refusals --------------------------------------------------------------------------- */

Test(ws, bad_handshakes_get_400_or_426)
{
    tu_server s;
    tu_server_start(&s, ws_app(), NULL);
    char buf[4096];
    int closed;
    struct {
        const char *req;
        int status;
    } cases[] = {
        {"GET /echo HTTP/1.1\r\nHost: x\r\n\r\n", 400},
        {"GET /echo HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
         "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: short\r\n\r\n",
         400},
        {"GET /echo HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
         "Sec-WebSocket-Version: 8\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n",
         426},
    };
    for (size_t i = 0; i < 3; i++) {
        int fd = tu_connect(s.port);
        tu_sends(fd, cases[i].req);
        tu_recv_responses(fd, buf, sizeof buf, 1, 2000);
        cr_assert_eq(tu_status(buf), cases[i].status, "%s", buf);
        if (cases[i].status == 426)
            cr_assert(strstr(buf, "Sec-WebSocket-Version: 13"), "%s", buf);
        close(fd);
    }
    /* the RFC's own example key gives the RFC's accept value */
    int fd = tu_connect(s.port);
    tu_sends(fd, "GET /echo HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                 "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n");
    tu_recv_all(fd, buf, sizeof buf, 300, &closed);
    cr_assert(strstr(buf, "HTTP/1.1 101 Switching Protocols"), "%s", buf);
    cr_assert(strstr(buf, "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo="), "%s", buf);
    close(fd);
    tu_server_stop(&s);
}
