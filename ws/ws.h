/* WebSockets (aiohttp's WebSocketResponse and ws_connect), on wslay.
 *
 * Server: a handler upgrades its request and then talks on the socket:
 *
 *     static aw_response *echo(aw_request *req)
 *     {
 *         aw_ws *ws = aw_ws_prepare(req, NULL);
 *         if (!ws)
 *             return aw_ws_refusal(req);       // 400 or 426, already made
 *         aw_ws_msg m;
 *         while (aw_ws_recv(ws, &m, AW_FOREVER) == 0)
 *             if (m.type == AW_WS_TEXT)
 *                 aw_ws_send_text(ws, m.data, m.len);
 *         return aw_ws_finish(ws);             // closes (1000) if still open
 *     }
 *
 * Client: aw_ws_connect("ws://host:port/path", opts, &ws), the same calls,
 * then aw_ws_close and aw_ws_free.
 *
 * Sending never waits for a slow peer: frames go to the kernel at once or are
 * queued, and a socket whose queue grows past outbound_limit is closed with
 * 1008 (its later sends fail), so one stuck client cannot hold up a
 * broadcast. aw_ws_drain waits for the queue when a sender wants that
 * back-pressure. Any task may send; a message is never interleaved with
 * another. Receiving is one task's business.
 *
 * What aweb adds to wslay: the handshake, UTF-8 checks of compressed text
 * (1007), the maximum message size (1009), close-code checks, the close
 * handshake with a timeout, heartbeat pings with a pong deadline (they run
 * while a task waits in aw_ws_recv), permessage-deflate with zlib, and the
 * outbound limit. An idle socket holds no wslay context: it is made when
 * bytes arrive.
 *
 * Lifetime: a server socket ends with aw_ws_finish (the handler returns what
 * it gives); a client socket with aw_ws_free (after aw_ws_close, or it is
 * closed abruptly). Message data returned by aw_ws_recv is valid until the
 * next aw_ws_recv.
 */
#ifndef AW_WS_H
#define AW_WS_H

#include <stddef.h>
#include <stdint.h>

#include "request.h"
#include "response.h"
#include "tls.h"

typedef struct aw_ws aw_ws;

typedef struct aw_ws_opts {
    const char *const *protocols; /* subprotocols, NULL-terminated: the server picks the
                                     first the client offers; the client offers them all */
    size_t max_message;       /* 0: 4 MiB. Past it: close 1009 */
    int64_t heartbeat_ms;     /* ping after this long without traffic; 0: no heartbeat */
    int64_t pong_timeout_ms;  /* 0: heartbeat_ms. No pong by then: the socket is closed */
    int64_t close_timeout_ms; /* 0: 10 s. The wait for the peer's close frame */
    size_t outbound_limit;    /* 0: 4 MiB queued. Past it: close 1008 */
    int compress;             /* permessage-deflate: 0 on (offered / accepted), -1 off */
    int autoping;             /* 0: pings and pongs are not returned by recv; 1: they are
                                 (pings are answered either way) */
    aw_tls_ctx *tls;          /* client: for wss:// (NULL: system trust store) */
    const char *headers;      /* client: extra handshake header lines ("A: b\r\n") */
} aw_ws_opts;

enum aw_ws_type {
    AW_WS_TEXT = 1,
    AW_WS_BINARY = 2,
    AW_WS_CLOSE = 8, /* the peer closed: code and reason in the message */
    AW_WS_PING = 9,
    AW_WS_PONG = 10,
};

typedef struct aw_ws_msg {
    int type;
    const char *data; /* NUL-terminated for convenience */
    size_t len;
    uint16_t close_code; /* AW_WS_CLOSE: the peer's code (1005: none given) */
} aw_ws_msg;

/* Close codes. */
enum {
    AW_WS_NORMAL = 1000,
    AW_WS_GOING_AWAY = 1001,
    AW_WS_PROTOCOL_ERROR = 1002,
    AW_WS_UNSUPPORTED = 1003,
    AW_WS_NO_STATUS = 1005,
    AW_WS_ABNORMAL = 1006,
    AW_WS_INVALID_DATA = 1007,
    AW_WS_POLICY = 1008,
    AW_WS_TOO_BIG = 1009,
    AW_WS_INTERNAL_ERROR = 1011,
};

/* --- server --- */

/* Checks the handshake and answers 101. NULL if the request is not a valid
 * WebSocket upgrade: aw_ws_refusal(req) is then the 400 (or 426, for a
 * version other than 13) to return. */
aw_ws *aw_ws_prepare(aw_request *req, const aw_ws_opts *opts);
aw_response *aw_ws_refusal(aw_request *req);
/* Closes (1000) if still open, frees ws, and returns the response the handler
 * returns. */
aw_response *aw_ws_finish(aw_ws *ws);

/* --- client --- */

/* Connects to a ws:// or wss:// URL. Returns 0, AW_EINVAL (a bad URL),
 * AW_EPROTO (the server refused the upgrade; its status in aw_last_error()),
 * or a connection error. */
int aw_ws_connect(const char *url, const aw_ws_opts *opts, aw_ws **out);
void aw_ws_free(aw_ws *ws);

/* --- both --- */

/* The next message. Returns 0, AW_ECLOSED once the socket is closed (after an
 * AW_WS_CLOSE message was returned, or when closed from this side),
 * AW_ETIMEDOUT, AW_ECANCELED. */
int aw_ws_recv(aw_ws *ws, aw_ws_msg *msg, int64_t timeout_ms);

int aw_ws_send_text(aw_ws *ws, const char *data, size_t len);
int aw_ws_send_binary(aw_ws *ws, const void *data, size_t len);
int aw_ws_ping(aw_ws *ws, const void *data, size_t len);
/* Waits until what was sent has left (see above). */
int aw_ws_drain(aw_ws *ws, int64_t timeout_ms);

/* Sends a close frame, waits for the peer's (up to the close timeout), then
 * closes the connection. Returns 0 or the error that ended it. Idempotent. */
int aw_ws_close(aw_ws *ws, uint16_t code, const char *reason);

/* The subprotocol agreed on ("" if none), whether permessage-deflate is on,
 * the close code received from the peer (0 while open), and the code the
 * socket was closed with from this side (0 while open). */
const char *aw_ws_protocol(const aw_ws *ws);
int aw_ws_compressed(const aw_ws *ws);
uint16_t aw_ws_close_code(const aw_ws *ws);
uint16_t aw_ws_sent_close_code(const aw_ws *ws);
int aw_ws_closed(const aw_ws *ws);

/* User data. */
void aw_ws_set_data(aw_ws *ws, void *data);
void *aw_ws_get_data(const aw_ws *ws);

#endif
