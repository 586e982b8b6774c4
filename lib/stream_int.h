/* Stream internals shared by stream.c, tls.c, listener.c and connect.c.
 *
 * Input: `in` holds plaintext bytes [in_start, in_end) of a pooled buffer of
 * AW__BUF_SIZE (at most read_buffer of it is filled). Reading is on while the
 * buffer has room and the stream has not ended; the buffer goes back to the
 * pool whenever it is drained. For TLS, ciphertext is decrypted into `in`
 * straight from the read callback (tls.c).
 *
 * Who may touch what: read callbacks fill `in` and wake `reader` (or call
 * on_input); the reading task consumes. A writing task owns the write path
 * until its call returns.
 *
 * A large aw_stream_read that finds `in` empty on a plain stream lends its
 * own buffer while it waits (aw__reader.lend): the next socket read lands
 * there instead of in `in`, and is not copied again.
 */
#ifndef AW_STREAM_INT_H
#define AW_STREAM_INT_H

#include <uv.h>

#include "rt_int.h"
#include "stream.h"

enum aw__stream_flags {
    AW__SF_READING = 1 << 0,  /* uv_read_start is in effect */
    AW__SF_WRITING = 1 << 1,  /* a task is in a write call */
    AW__SF_CLOSING = 1 << 2,  /* uv_close was called */
    AW__SF_CLOSED = 1 << 3,   /* the close callback ran */
    AW__SF_FREE = 1 << 4,     /* free the stream in the close callback */
    AW__SF_SHUT = 1 << 5,     /* the write side is shut down */
    AW__SF_PIPE = 1 << 6,     /* a Unix socket (uv_pipe_t) */
    AW__SF_COUNTED = 1 << 7,  /* counted by its listener */
};

typedef struct aw__tls aw__tls;
typedef struct aw_listener aw_listener;

/* A task waiting for input, on its own stack while it waits. */
typedef struct aw__reader {
    aw_task *task;
    char *lend;      /* the caller's buffer, or NULL */
    size_t lend_len;
    size_t got;      /* bytes a read callback put in lend */
    size_t want;     /* wait until this many are buffered (0: one) */
} aw__reader;

/* The smallest read worth lending its buffer (or reading the socket
 * straight into): below it, one read into `in` serves several calls. */
#define AW__LEND_MIN 16384

struct aw_stream {
    union {
        uv_handle_t h;
        uv_stream_t s;
        uv_tcp_t tcp;
        uv_pipe_t pipe;
    } u;
    const aw_stream_opts *o;
    char *in;
    uint32_t in_start, in_end;
    int rerr;  /* sticky: what ended reading (AW_EOF or an error) */
    int werr;  /* sticky: what broke writing */
    uint16_t flags;
    uint16_t users; /* tasks inside a call on the stream: the last one frees */
    uint8_t hot;    /* the last read filled all the room it had: more is likely */
    uint8_t direct; /* direct reads in a row, bounded so others get the loop */
    uint8_t intr;   /* aw_stream_interrupt_read: the waiting read returns AW_EAGAIN */
    aw__reader *reader;
    aw_task *closer;  /* waits for the close callback */
    aw_task *drainer; /* waits for queued writes to go out */
    aw__tls *tls;
    aw_stream_input_cb on_input;
    void *on_input_arg;
    void *data;
    aw_listener *listener;
};

/* stream.c */
aw_stream *aw__stream_new(aw__rt *rt, int pipe);
void aw__stream_start_reading(aw_stream *s);
void aw__stream_input_ready(aw_stream *s);
int aw__stream_write_raw(aw_stream *s, uv_buf_t *bufs, unsigned n, uint64_t deadline);
void aw__stream_set_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void aw__stream_free(aw_stream *s);
/* Closes the handle (once); pending writes complete with UV_ECANCELED and a
 * waiting reader is woken with `why`. */
void aw__stream_break(aw_stream *s, int why);

/* A task entering a call on s holds it: an abort from elsewhere then leaves
 * the freeing to the last task out. */
static inline void aw__stream_enter(aw_stream *s) { s->users++; }

static inline int aw__stream_leave(aw_stream *s, int rc)
{
    if (--s->users == 0 && (s->flags & (AW__SF_FREE | AW__SF_CLOSED)) ==
                               (AW__SF_FREE | AW__SF_CLOSED) && !s->closer)
        aw__stream_free(s);
    return rc;
}
uint64_t aw__stream_deadline(aw_stream *s, int64_t timeout_ms, int64_t dflt, int64_t builtin);
/* The deadline of a call on s: its own timeout, else the stream's option
 * `field`, else the built-in default; capped by the task's timeout scope. */
#define AW__DEADLINE(s, ms, field, builtin) aw__stream_deadline((s), (ms), (s)->o->field, (builtin))
char *aw__stream_in_space(aw_stream *s, size_t *len);
void aw__stream_in_release(aw_stream *s);

/* tls.c: the TLS layer under a stream */
void aw__tls_on_cipher(aw_stream *s, const char *data, size_t len);
void aw__tls_pump(aw_stream *s);
int aw__tls_write(aw_stream *s, const aw_iovec *iov, size_t n, uint64_t deadline);
int aw__tls_close_notify(aw_stream *s, uint64_t deadline);
void aw__tls_free(aw__tls *t);
int aw__tls_attach(aw_stream *s, aw_tls_ctx *ctx, const char *server_name);
int aw__tls_handshake(aw_stream *s, uint64_t deadline);
const char *aw__tls_alpn(const aw__tls *t);
int aw__tls_report(aw_stream *s, int rc);
int aw__tls_send_async(aw_stream *s, const void *data, size_t len);
void aw__stream_queue_copy(aw_stream *s, const char *data, size_t len);

/* listener.c: a counted connection ended */
void aw__listener_conn_closed(aw_listener *l);

/* Built-in defaults (see aw_stream_opts). */
#define AW__CONNECT_MS 10000
#define AW__DNS_MS 5000
#define AW__HANDSHAKE_MS 10000
#define AW__READ_MS 60000
#define AW__WRITE_MS 60000
#define AW__CLOSE_MS 5000

#endif
