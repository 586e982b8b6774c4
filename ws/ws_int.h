/* WebSocket internals (ws.c, handshake.c, deflate.c, utf8.c).
 *
 * wslay does the framing and the control replies. Its context holds about
 * 9 KiB, so an idle socket keeps none: ws.c makes one when bytes arrive and
 * frees it again at a clean boundary (every byte handed to wslay belongs to a
 * frame it has finished, no fragmented message is open, nothing is queued to
 * send). Frames leave through aw_stream_send_async, so a send never waits.
 */
#ifndef AW_WS_INT_H
#define AW_WS_INT_H

#include <wslay/wslay.h>
#include <zlib.h>

#include "stream.h"
#include "task.h"
#include "ws.h"

/* A received message waiting for aw_ws_recv. */
typedef struct aw__wsmsg {
    struct aw__wsmsg *next;
    int type;
    uint16_t code;
    size_t len;
    char data[]; /* NUL-terminated */
} aw__wsmsg;

/* permessage-deflate, as negotiated. */
typedef struct aw__pmd {
    int on;
    int peer_no_takeover; /* the peer resets its context per message */
    int peer_window_bits; /* the peer compresses with at most this window */
    int my_window_bits;   /* we compress with at most this */
    z_stream *inflater;   /* only while the peer keeps context between messages */
} aw__pmd;

struct aw_ws {
    aw_stream *s;
    aw_request *req;   /* server side */
    aw_response *resp; /* the 101 the handler returns */
    int server;
    aw_ws_opts o;
    char protocol[64];
    aw__pmd pmd;
    wslay_event_context_ptr ctx; /* NULL while idle */
    /* what was handed to wslay against what it has finished framing */
    uint64_t fed, framed, frame_size;
    int in_frame, in_msg;
    uint64_t msg_cost; /* the open message's size, its fragments counted too */
    aw__wsmsg *head, *tail; /* received, not yet returned */
    aw__wsmsg *cur;         /* returned by the last aw_ws_recv */
    aw_task *receiver;
    uint64_t last_rx;   /* when the peer last sent anything (loop ms) */
    uint64_t ping_sent; /* when our unanswered heartbeat ping left, or 0 */
    uint16_t code_recv, code_sent;
    int close_recv, close_sent, ended; /* ended: nothing more will be read */
    int failed;                        /* AW_E* that broke it */
    void *data;
    uint8_t hdr[14]; /* a frame header waiting for its payload */
    uint8_t hdr_len;
    uint8_t went_idle; /* has waited for input once (its stack was trimmed then) */
    uint8_t in_arena;  /* lives in its request's arena: not freed on its own */
};

/* ws.c. mem: room for the aw_ws (which then lives as long as that memory
 * does), or NULL to allocate it. */
aw_ws *aw__ws_new(aw_stream *s, int server, const aw_ws_opts *o, void *mem);
void aw__ws_set_protocol(aw_ws *ws, const char *proto);
void aw__ws_free(aw_ws *ws);
void aw__ws_opts_fill(aw_ws_opts *dst, const aw_ws_opts *src);
void aw__ws_going_away(aw_ws *ws);

/* http/request.c: room left in the request's arena chunk, or NULL */
void *aw__request_alloc_spare(aw_request *r, size_t n);

/* handshake.c */
int aw__ws_accept_key(const char *key, char *out, size_t cap);

/* deflate.c */
int aw__pmd_server_negotiate(const char *offers, aw__pmd *p, char *resp, size_t cap);
const char *aw__pmd_client_offer(void);
int aw__pmd_client_accept(const char *header, aw__pmd *p);
/* Compresses a whole message; *out is malloc'd. */
int aw__pmd_compress(aw__pmd *p, const void *in, size_t len, unsigned char **out, size_t *outlen);
/* Inflates a whole message into a malloc'd aw__wsmsg of the given type,
 * refusing (AW_EMSGSIZE) as soon as it would pass max. */
int aw__pmd_inflate(aw__pmd *p, const uint8_t *in, size_t len, size_t max, int type,
                    aw__wsmsg **out);
void aw__pmd_free(aw__pmd *p);

/* utf8.c */
int aw__utf8_valid(const char *s, size_t len);

#endif
