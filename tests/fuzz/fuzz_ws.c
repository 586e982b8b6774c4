/* libFuzzer target: the WebSocket reader after an upgrade.
 *
 * A server with two WebSocket routes (echo with permessage-deflate; and one
 * with automatic ping returns, a small message limit and a close of its own
 * when asked) receives a valid handshake built by the harness and then the
 * fuzzer's bytes as the client's frames: framing, masking, fragmentation,
 * control frames, close codes, UTF-8 and compressed messages.
 *
 * Input: a flags byte (bits 0-1: the extension offer: none, plain
 * permessage-deflate, with client_max_window_bits and
 * server_no_context_takeover, with client_no_context_takeover and
 * server_max_window_bits=10; bit 2: the second route), a byte choosing how
 * the frames are split into writes, then the frames. Seeds use the mask
 * 00 00 00 00, so their payloads read plainly.
 *
 * Oracles besides the sanitizers: every text message a handler receives is
 * valid UTF-8 (checked by an independent decoder) and within the size limit;
 * the upgrade is answered 101; the server closes once the client has ended,
 * and keeps no connection.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "harness.h"
#include "ws.h"

static aw_config fuzz_cfg;
static aw_app *fuzz_app;
static aw_server *fuzz_srv;
static const char *fuzz_path;

static void fuzz_check_msg(const aw_ws_msg *m, size_t max)
{
    if ((m->type == AW_WS_TEXT || m->type == AW_WS_BINARY) && m->len > max) {
        fprintf(stderr, "fuzz: a %zu-byte message passed the %zu-byte limit\n", m->len, max);
        abort();
    }
    if (m->type == AW_WS_TEXT && !fuzz_utf8_ok(m->data, m->len)) {
        fprintf(stderr, "fuzz: a text message with invalid UTF-8 reached the handler\n");
        abort();
    }
    if (m->data && m->data[m->len] != '\0')
        abort(); /* promised NUL-terminated */
}

static aw_response *h_echo(aw_request *req)
{
    const size_t max = 8192;
    aw_ws *ws = aw_ws_prepare(req, &(aw_ws_opts){.max_message = max, .close_timeout_ms = 500});
    if (!ws)
        return aw_ws_refusal(req);
    aw_ws_msg m;
    while (aw_ws_recv(ws, &m, 2000) == 0) {
        fuzz_check_msg(&m, max);
        if (m.type == AW_WS_TEXT)
            aw_ws_send_text(ws, m.data, m.len);
        else if (m.type == AW_WS_BINARY)
            aw_ws_send_binary(ws, m.data, m.len);
    }
    return aw_ws_finish(ws);
}

static aw_response *h_auto(aw_request *req)
{
    const size_t max = 1024;
    aw_ws *ws = aw_ws_prepare(req, &(aw_ws_opts){.max_message = max,
                                                 .close_timeout_ms = 300,
                                                 .autoping = 1,
                                                 .outbound_limit = 4096});
    if (!ws)
        return aw_ws_refusal(req);
    aw_ws_msg m;
    while (aw_ws_recv(ws, &m, 2000) == 0) {
        fuzz_check_msg(&m, max);
        if (m.type == AW_WS_PING)
            aw_ws_ping(ws, m.data, m.len < 125 ? m.len : 125);
        else if (m.type == AW_WS_TEXT && m.len == 3 && !memcmp(m.data, "bye", 3))
            aw_ws_close(ws, AW_WS_NORMAL, "bye");
        else if (m.type == AW_WS_TEXT)
            aw_ws_send_text(ws, m.data, m.len);
    }
    return aw_ws_finish(ws);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    fuzz_app = aw_app_new();
    if (aw_app_route(fuzz_app, "GET", "/ws", h_echo, NULL) ||
        aw_app_route(fuzz_app, "GET", "/ws-auto", h_auto, NULL))
        abort();
    fuzz_config(&fuzz_cfg);
    fuzz_path = fuzz_serve(fuzz_app, &fuzz_cfg, "ws", &fuzz_srv);
    return 0;
}

static const char *const fuzz_offers[4] = {
    "",
    "Sec-WebSocket-Extensions: permessage-deflate\r\n",
    "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits; "
    "server_no_context_takeover\r\n",
    "Sec-WebSocket-Extensions: permessage-deflate; client_no_context_takeover; "
    "server_max_window_bits=10\r\n",
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    char head[512];
    snprintf(head, sizeof head,
             "GET %s HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
             "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n%s\r\n",
             data[0] & 4 ? "/ws-auto" : "/ws", fuzz_offers[data[0] & 3]);
    const fuzz_reply *r = fuzz_converse(fuzz_path, head, 1, data + 2, size - 2, data[1]);
    if (r->len < 12 || memcmp(r->buf, "HTTP/1.1 101", 12) != 0) {
        fprintf(stderr, "fuzz: the upgrade was not answered with 101: %.60s\n", r->buf);
        abort();
    }
    fuzz_server_settle(fuzz_srv);
    return 0;
}
