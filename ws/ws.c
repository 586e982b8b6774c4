/* WebSocket messages over wslay's event API: receiving (with the heartbeat),
 * sending (never waiting), closing, and the wslay context that exists only
 * while a socket has work. See ws_int.h. */
#include <openssl/rand.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "rt_int.h"
#include "runtime.h"
#include "sync.h"
#include "timeout.h"
#include "ws_int.h"

#define AW__WS_MAX_MESSAGE (4u << 20)
#define AW__WS_CLOSE_MS 10000
#define AW__WS_OUT_LIMIT (4u << 20)
/* What a fragment after a message's first costs toward max_message: wslay
 * keeps each fragment in an allocation of its own until the message is
 * whole, so 1-byte fragments would otherwise hold ~50 times their size. */
#define AW__WS_FRAGMENT_COST 64

void aw__ws_opts_fill(aw_ws_opts *d, const aw_ws_opts *s)
{
    if (s)
        *d = *s;
    else
        memset(d, 0, sizeof *d);
    if (!d->max_message)
        d->max_message = AW__WS_MAX_MESSAGE;
    if (!d->close_timeout_ms)
        d->close_timeout_ms = AW__WS_CLOSE_MS;
    if (!d->outbound_limit)
        d->outbound_limit = AW__WS_OUT_LIMIT;
    if (d->heartbeat_ms && !d->pong_timeout_ms)
        d->pong_timeout_ms = d->heartbeat_ms;
}

aw_ws *aw__ws_new(aw_stream *s, int server, const aw_ws_opts *o, void *mem)
{
    aw_ws *ws = mem ? memset(mem, 0, sizeof *ws) : calloc(1, sizeof *ws);
    if (!ws)
        return NULL;
    ws->in_arena = mem != NULL;
    ws->s = s;
    ws->server = server;
    aw__ws_opts_fill(&ws->o, o);
    ws->last_rx = aw_now();
    return ws;
}

static void aw__ws_drop_msgs(aw_ws *ws)
{
    free(ws->cur);
    ws->cur = NULL;
    while (ws->head) {
        aw__wsmsg *m = ws->head;
        ws->head = m->next;
        free(m);
    }
    ws->tail = NULL;
}

void aw__ws_free(aw_ws *ws)
{
    if (ws->ctx)
        wslay_event_context_free(ws->ctx);
    aw__ws_drop_msgs(ws);
    aw__pmd_free(&ws->pmd);
    if (!ws->in_arena)
        free(ws);
}

/* A bounded copy, without snprintf's 1.5 to 2 KiB of stack (see
 * aw__ws_accept_key). */
void aw__ws_set_protocol(aw_ws *ws, const char *proto)
{
    size_t n = proto ? strlen(proto) : 0;
    if (n >= sizeof ws->protocol)
        n = sizeof ws->protocol - 1;
    memcpy(ws->protocol, proto ? proto : "", n);
    ws->protocol[n] = 0;
}

static void aw__ws_push(aw_ws *ws, aw__wsmsg *m)
{
    m->next = NULL;
    if (ws->tail)
        ws->tail->next = m;
    else
        ws->head = m;
    ws->tail = m;
}

static aw__wsmsg *aw__ws_msg_new(int type, const void *data, size_t len)
{
    aw__wsmsg *m = malloc(sizeof *m + len + 1);
    if (m) {
        m->type = type;
        m->code = 0;
        m->len = len;
        if (len)
            memcpy(m->data, data, len);
        m->data[len] = 0;
    }
    return m;
}

/* --- wslay's callbacks ---------------------------------------------------- */

static ssize_t aw__ws_recv_cb(wslay_event_context_ptr ctx, uint8_t *buf, size_t len, int flags,
                              void *user)
{
    (void)flags;
    aw_ws *ws = user;
    size_t avail = aw_stream_buffered(ws->s);
    const char *p;
    if (!avail || ws->close_recv || aw_stream_peek(ws->s, &p, 0) <= 0) {
        wslay_event_set_error(ctx, WSLAY_ERR_WOULDBLOCK);
        return -1;
    }
    size_t n = len < avail ? len : avail;
    memcpy(buf, p, n);
    aw_stream_consume(ws->s, n);
    ws->fed += n;
    ws->last_rx = aw_now();
    return (ssize_t)n;
}

static ssize_t aw__ws_send_cb(wslay_event_context_ptr ctx, const uint8_t *data, size_t len,
                              int flags, void *user)
{
    aw_ws *ws = user;
    /* wslay hands over a frame header alone, flagged MORE; it waits for its
     * payload so the two leave in one write and, when small, one segment */
    if ((flags & WSLAY_MSG_MORE) && !ws->hdr_len && len <= sizeof ws->hdr) {
        memcpy(ws->hdr, data, len);
        ws->hdr_len = (uint8_t)len;
        return (ssize_t)len;
    }
    aw_iovec v[2] = {{ws->hdr, ws->hdr_len}, {data, len}};
    int skip = ws->hdr_len ? 0 : 1;
    ws->hdr_len = 0;
    if (aw_stream_sendv_async(ws->s, v + skip, (size_t)(2 - skip))) {
        wslay_event_set_error(ctx, WSLAY_ERR_CALLBACK_FAILURE);
        return -1;
    }
    return (ssize_t)len;
}

static int aw__ws_genmask_cb(wslay_event_context_ptr ctx, uint8_t *buf, size_t len, void *user)
{
    (void)ctx;
    (void)user;
    return RAND_bytes(buf, (int)len) == 1 ? 0 : -1;
}

static void aw__ws_fail(aw_ws *ws, uint16_t code);

static void aw__ws_frame_start(wslay_event_context_ptr ctx,
                               const struct wslay_event_on_frame_recv_start_arg *arg, void *user)
{
    (void)ctx;
    aw_ws *ws = user;
    uint64_t n = arg->payload_length;
    ws->in_frame = 1;
    ws->frame_size = 2 + (n < 126 ? 0 : n < 65536 ? 2 : 8) + (ws->server ? 4 : 0) + n;
    if (arg->opcode < 8) { /* data frames open a message until one has fin */
        ws->in_msg = !arg->fin;
        ws->msg_cost = arg->opcode ? n : ws->msg_cost + n + AW__WS_FRAGMENT_COST;
        if (ws->msg_cost > ws->o.max_message && !ws->ended)
            aw__ws_fail(ws, AW_WS_TOO_BIG);
    }
}

static void aw__ws_frame_end(wslay_event_context_ptr ctx, void *user)
{
    (void)ctx;
    aw_ws *ws = user;
    ws->framed += ws->frame_size;
    ws->in_frame = 0;
}

/* Fails the connection from this side with code (through wslay's queue). */
static void aw__ws_fail(aw_ws *ws, uint16_t code)
{
    if (!ws->close_sent && ws->ctx) {
        wslay_event_queue_close(ws->ctx, code, NULL, 0);
        wslay_event_shutdown_read(ws->ctx);
    }
    ws->ended = 1;
}

static void aw__ws_data_msg(aw_ws *ws, const struct wslay_event_on_msg_recv_arg *arg)
{
    int type = arg->opcode == WSLAY_TEXT_FRAME ? AW_WS_TEXT : AW_WS_BINARY;
    aw__wsmsg *m = NULL;
    if (arg->rsv & WSLAY_RSV1_BIT) {
        /* compressed: wslay saw neither its real size nor its UTF-8 */
        int rc = aw__pmd_inflate(&ws->pmd, arg->msg, arg->msg_length, ws->o.max_message, type,
                                 &m);
        if (rc) {
            aw__ws_fail(ws, rc == AW_EMSGSIZE ? AW_WS_TOO_BIG : AW_WS_INVALID_DATA);
            return;
        }
        if (type == AW_WS_TEXT && !aw__utf8_valid(m->data, m->len)) {
            free(m);
            aw__ws_fail(ws, AW_WS_INVALID_DATA);
            return;
        }
    } else if (!(m = aw__ws_msg_new(type, arg->msg, arg->msg_length))) {
        aw__ws_fail(ws, AW_WS_INTERNAL_ERROR);
        return;
    }
    aw__ws_push(ws, m);
}

static void aw__ws_msg_cb(wslay_event_context_ptr ctx, const struct wslay_event_on_msg_recv_arg *arg,
                          void *user)
{
    (void)ctx;
    aw_ws *ws = user;
    aw__wsmsg *m;
    switch (arg->opcode) {
    case WSLAY_TEXT_FRAME:
    case WSLAY_BINARY_FRAME:
        if (!ws->ended)
            aw__ws_data_msg(ws, arg);
        break;
    case WSLAY_PONG:
        ws->ping_sent = 0;
        /* fall through */
    case WSLAY_PING: /* wslay has queued the pong already */
        if (ws->o.autoping > 0 && (m = aw__ws_msg_new(arg->opcode, arg->msg, arg->msg_length)))
            aw__ws_push(ws, m);
        break;
    case WSLAY_CONNECTION_CLOSE:
        ws->close_recv = 1;
        ws->code_recv = arg->status_code ? arg->status_code : AW_WS_NO_STATUS;
        m = aw__ws_msg_new(AW_WS_CLOSE, arg->msg_length > 2 ? arg->msg + 2 : NULL,
                           arg->msg_length > 2 ? arg->msg_length - 2 : 0);
        if (m) {
            m->code = ws->code_recv;
            aw__ws_push(ws, m);
        }
        break;
    }
}

/* --- the context: made when needed, freed when idle ------------------------- */

static int aw__ws_ctx(aw_ws *ws)
{
    if (ws->ctx)
        return 0;
    static const struct wslay_event_callbacks cb = {
        .recv_callback = aw__ws_recv_cb,
        .send_callback = aw__ws_send_cb,
        .genmask_callback = aw__ws_genmask_cb,
        .on_frame_recv_start_callback = aw__ws_frame_start,
        .on_frame_recv_end_callback = aw__ws_frame_end,
        .on_msg_recv_callback = aw__ws_msg_cb,
    };
    int rc = ws->server ? wslay_event_context_server_init(&ws->ctx, &cb, ws)
                        : wslay_event_context_client_init(&ws->ctx, &cb, ws);
    if (rc)
        return AW_ENOMEM;
    wslay_event_config_set_max_recv_msg_length(ws->ctx, ws->o.max_message);
    if (ws->pmd.on)
        wslay_event_config_set_allowed_rsv_bits(ws->ctx, WSLAY_RSV1_BIT);
    ws->fed = ws->framed = 0;
    return 0;
}

static void aw__ws_release_if_idle(aw_ws *ws)
{
    if (ws->ctx && !ws->in_frame && !ws->in_msg && ws->fed == ws->framed &&
        !wslay_event_want_write(ws->ctx) && !ws->close_sent && !ws->close_recv && !ws->ended) {
        wslay_event_context_free(ws->ctx);
        ws->ctx = NULL;
    }
}

/* Writes a close frame by hand, for when wslay's own choice is wrong (its
 * frame layer answers malformed frames with a close without a code) or
 * wslay cannot be used (the outbound queue is past its limit). */
static void aw__ws_raw_close(aw_ws *ws, uint16_t code)
{
    unsigned char f[8] = {0x88, 2, (unsigned char)(code >> 8), (unsigned char)code};
    size_t n = 4;
    if (!ws->server) { /* a client masks, with any key */
        unsigned char key[4];
        RAND_bytes(key, 4);
        f[1] |= 0x80;
        memmove(f + 6, f + 2, 2);
        memcpy(f + 2, key, 4);
        f[6] ^= key[0];
        f[7] ^= key[1];
        n = 8;
    }
    if (!ws->close_sent)
        aw_stream_send_async(ws->s, f, n);
    ws->close_sent = 1;
    ws->code_sent = code;
    ws->ended = 1;
    if (ws->ctx) {
        wslay_event_context_free(ws->ctx); /* drop what it had queued */
        ws->ctx = NULL;
    }
}

/* Sends what wslay has queued, and watches the outbound limit. */
static void aw__ws_flush(aw_ws *ws)
{
    if (!ws->ctx)
        return;
    if (wslay_event_send(ws->ctx) && !ws->failed)
        ws->failed = AW_EPIPE;
    if (wslay_event_get_close_sent(ws->ctx) && !ws->close_sent) {
        ws->close_sent = 1;
        ws->code_sent = wslay_event_get_status_code_sent(ws->ctx);
    }
    if (aw_stream_queued(ws->s) > ws->o.outbound_limit && !ws->failed) {
        /* the peer does not read: it gets no more, and goes */
        ws->failed = AW_EPIPE;
        aw__ws_raw_close(ws, AW_WS_POLICY);
        aw_stream_interrupt_read(ws->s);
    }
}

/* Hands buffered bytes to wslay and sends its replies. */
static void aw__ws_pump(aw_ws *ws)
{
    if (ws->ended || aw__ws_ctx(ws))
        return;
    int rc = wslay_event_recv(ws->ctx);
    if (rc == WSLAY_ERR_CALLBACK_FAILURE) {
        aw__ws_raw_close(ws, AW_WS_PROTOCOL_ERROR); /* a malformed frame */
        return;
    }
    if (rc) {
        aw__ws_fail(ws, AW_WS_INTERNAL_ERROR);
        ws->failed = AW_ENOMEM;
    }
    if (!wslay_event_get_read_enabled(ws->ctx))
        ws->ended = 1; /* a close arrived, or wslay failed the connection */
    aw__ws_flush(ws);
}

/* --- receiving ----------------------------------------------------------------- */

static void aw__ws_set_msg(aw_ws_msg *msg, const aw__wsmsg *m)
{
    msg->type = m->type;
    msg->data = m->data;
    msg->len = m->len;
    msg->close_code = m->code;
}

/* The heartbeat's next moment: a ping due, or a pong overdue. */
static uint64_t aw__ws_beat(aw_ws *ws)
{
    if (ws->o.heartbeat_ms <= 0 || ws->close_sent)
        return UINT64_MAX;
    return ws->ping_sent ? ws->ping_sent + (uint64_t)ws->o.pong_timeout_ms
                         : ws->last_rx + (uint64_t)ws->o.heartbeat_ms;
}

int aw_ws_recv(aw_ws *ws, aw_ws_msg *msg, int64_t timeout_ms)
{
    aw_task *t = aw_current_task();
    if (!t)
        return AW_ENOTASK;
    if (ws->receiver)
        return AW_EBUSY;
    free(ws->cur);
    ws->cur = NULL;
    uint64_t deadline = timeout_ms >= 0 ? aw_now() + (uint64_t)timeout_ms : UINT64_MAX;
    int rc = 0;
    ws->receiver = t;
    for (;;) {
        if (ws->head) {
            ws->cur = ws->head;
            ws->head = ws->head->next;
            if (!ws->head)
                ws->tail = NULL;
            aw__ws_set_msg(msg, ws->cur);
            break;
        }
        if (ws->ended || ws->close_recv) {
            rc = AW_ECLOSED;
            break;
        }
        if (aw_stream_buffered(ws->s)) {
            aw__ws_pump(ws);
            continue;
        }
        aw__ws_release_if_idle(ws);
        if (!ws->went_idle) {
            /* From here a socket mostly waits: the stack its handshake used
             * below these frames goes back, once (the trim tick does it
             * for later deep work) */
            ws->went_idle = 1;
            aw__task_trim_at_next_wait();
        }
        uint64_t now = aw_now(), beat = aw__ws_beat(ws);
        uint64_t until = beat < deadline ? beat : deadline;
        const char *p;
        ssize_t n = until > now ? aw_stream_peek(ws->s, &p, until == UINT64_MAX ? AW_FOREVER
                                                                    : (int64_t)(until - now))
                                : AW_ETIMEDOUT;
        if (n > 0 || n == AW_EAGAIN)
            continue; /* bytes to pump, or another task changed the state */
        if (n == AW_ETIMEDOUT && aw_now() < deadline) {
            if (ws->ping_sent) { /* no pong in time: the peer is gone */
                ws->ended = 1;
                ws->code_recv = AW_WS_ABNORMAL;
                ws->failed = AW_ETIMEDOUT;
                rc = AW_ECLOSED;
                break;
            }
            aw_ws_ping(ws, "aweb", 4);
            ws->ping_sent = aw_now();
            continue;
        }
        if (n == AW_ETIMEDOUT || n == AW_ECANCELED) {
            rc = (int)n;
            break;
        }
        ws->ended = 1; /* the connection ended without a close */
        if (!ws->code_recv)
            ws->code_recv = AW_WS_ABNORMAL;
        rc = AW_ECLOSED;
        break;
    }
    ws->receiver = NULL;
    return rc;
}

/* --- sending ---------------------------------------------------------------- */

static int aw__ws_send(aw_ws *ws, uint8_t opcode, const void *data, size_t len)
{
    if (ws->failed)
        return ws->failed;
    if (ws->close_sent || !ws->s)
        return AW_ECLOSED;
    int rc = aw__ws_ctx(ws);
    if (rc)
        return rc;
    uint8_t rsv = WSLAY_RSV_NONE;
    unsigned char *z = NULL;
    if (ws->pmd.on && opcode < 8 && len > 32) {
        size_t zlen;
        if (aw__pmd_compress(&ws->pmd, data, len, &z, &zlen) == 0) {
            data = z;
            len = zlen;
            rsv = WSLAY_RSV1_BIT;
        }
    }
    struct wslay_event_msg m = {opcode, data, len};
    rc = wslay_event_queue_msg_ex(ws->ctx, &m, rsv) ? AW_ECLOSED : 0;
    free(z);
    if (!rc)
        aw__ws_flush(ws);
    if (!ws->receiver)
        aw__ws_release_if_idle(ws);
    return rc ? rc : ws->failed;
}

int aw_ws_send_text(aw_ws *ws, const char *data, size_t len)
{
    return aw__ws_send(ws, WSLAY_TEXT_FRAME, data, len);
}

int aw_ws_send_binary(aw_ws *ws, const void *data, size_t len)
{
    return aw__ws_send(ws, WSLAY_BINARY_FRAME, data, len);
}

int aw_ws_ping(aw_ws *ws, const void *data, size_t len)
{
    return len > 125 ? AW_EINVAL : aw__ws_send(ws, WSLAY_PING, data, len);
}

int aw_ws_drain(aw_ws *ws, int64_t timeout_ms)
{
    if (ws->failed)
        return ws->failed;
    return ws->s ? aw_stream_drain(ws->s, timeout_ms) : AW_ECLOSED;
}

/* --- closing ----------------------------------------------------------------- */

void aw__ws_going_away(aw_ws *ws)
{
    if (ws->close_sent || ws->ended || !ws->s || aw__ws_ctx(ws))
        return;
    wslay_event_queue_close(ws->ctx, AW_WS_GOING_AWAY, NULL, 0);
    aw__ws_flush(ws);
    ws->close_sent = 1;
    ws->code_sent = AW_WS_GOING_AWAY;
    aw_stream_interrupt_read(ws->s);
}

int aw_ws_close(aw_ws *ws, uint16_t code, const char *reason)
{
    if (!ws->s)
        return ws->failed;
    if (ws->ended && !ws->close_recv) {
        /* broken off: no reply will come. A close frame queued behind data
         * (1008 for a reader that fell behind) still gets the close timeout
         * to leave, unless the peer was found dead (no pong). */
        if (ws->close_sent && ws->failed != AW_ETIMEDOUT && ws->s)
            aw_stream_drain(ws->s, ws->o.close_timeout_ms);
        return ws->failed;
    }
    if (!ws->close_sent && !ws->ended && !aw__ws_ctx(ws)) {
        size_t rlen = reason ? strlen(reason) : 0;
        wslay_event_queue_close(ws->ctx, code, (const uint8_t *)reason, rlen > 123 ? 123 : rlen);
        aw__ws_flush(ws);
        ws->close_sent = 1;
        ws->code_sent = code;
    }
    /* wait for the peer's close, dropping what it still sends */
    uint64_t end = aw_now() + (uint64_t)ws->o.close_timeout_ms;
    aw_ws_msg m;
    while (!ws->close_recv && !ws->ended && aw_now() < end) {
        int rc = aw_ws_recv(ws, &m, (int64_t)(end - aw_now()));
        if (rc && rc != AW_EAGAIN)
            break;
    }
    if (ws->s)
        aw_stream_drain(ws->s, 1000); /* the close frame must leave before the socket closes */
    return 0;
}

const char *aw_ws_protocol(const aw_ws *ws) { return ws->protocol; }
int aw_ws_compressed(const aw_ws *ws) { return ws->pmd.on; }
uint16_t aw_ws_close_code(const aw_ws *ws) { return ws->code_recv; }
uint16_t aw_ws_sent_close_code(const aw_ws *ws) { return ws->code_sent; }
int aw_ws_closed(const aw_ws *ws) { return ws->close_sent || ws->close_recv || ws->ended; }
void aw_ws_set_data(aw_ws *ws, void *data) { ws->data = data; }
void *aw_ws_get_data(const aw_ws *ws) { return ws->data; }
