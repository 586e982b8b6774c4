/* Streams: one API over TCP, Unix sockets and TLS.
 *
 * Every byte aweb moves goes through an aw_stream. Reads come from a buffer
 * the stream fills as bytes arrive (up to read_buffer bytes; past that it
 * stops reading, which is the back-pressure). Writes return once the bytes
 * are handed to the kernel: nothing is queued in user space, so a slow peer
 * holds the writer, not memory. TLS (see tls.h) sits inside the stream: the
 * calls are the same.
 *
 * Timeouts: each call takes timeout_ms, where AW_DEFAULT means the stream's
 * configured default for that kind of operation (read, write, close, TLS
 * handshake); the calling task's timeout scope caps it. A read timeout leaves
 * the stream usable. A write that times out or is cancelled leaves the peer
 * with part of the data, so the stream is broken off (later calls fail).
 *
 * Lifetime: streams come from aw_open_connection, aw_open_unix or a listener
 * (net.h). The owner ends one with aw_stream_close (from a task: graceful,
 * waits for the handle to close) or aw_stream_abort (from anywhere: at once).
 * Either frees it. One task reads and one task writes at a time; a second
 * concurrent reader or writer gets AW_EBUSY.
 */
#ifndef AW_STREAM_H
#define AW_STREAM_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

typedef struct aw_stream aw_stream;
typedef struct aw_tls_ctx aw_tls_ctx;

/* Defaults for a stream's operations. A zero field takes the built-in value
 * noted beside it (the same as conf/aweb.conf's defaults). */
typedef struct aw_stream_opts {
    int64_t connect_timeout_ms;   /* 10 s: all addresses of a name together */
    int64_t dns_timeout_ms;       /* 5 s */
    int64_t handshake_timeout_ms; /* 10 s: TLS handshake */
    int64_t read_timeout_ms;      /* 60 s: each wait for input */
    int64_t write_timeout_ms;     /* 60 s: each write until handed to the kernel */
    int64_t close_timeout_ms;     /* 5 s: TLS close_notify and shutdown */
    size_t read_buffer;           /* 64 KiB: input buffered before reading stops */
    int nodelay;                  /* TCP_NODELAY at connect/accept: 0 = on (default),
                                     -1 = off (set it later with aw_stream_set_nodelay) */
} aw_stream_opts;

/* The built-in defaults above, filled in. */
void aw_stream_opts_defaults(aw_stream_opts *o);

/* A gather-write element; the same layout as struct iovec. */
typedef struct aw_iovec {
    const void *base;
    size_t len;
} aw_iovec;

/* --- reading --- */

/* Reads up to len bytes: waits for at least one. Returns the count, AW_EOF
 * at the end of the stream, or an error. A read of 16 KiB or more with
 * nothing buffered takes the bytes from the socket straight into buf (plain
 * TCP and Unix streams): bulk transfers are not copied twice. */
ssize_t aw_stream_read(aw_stream *s, void *buf, size_t len, int64_t timeout_ms);

/* Reads exactly len bytes. Returns 0, AW_EOF if the stream ended first, or an
 * error. The timeout applies to each wait for input. */
int aw_stream_read_exactly(aw_stream *s, void *buf, size_t len, int64_t timeout_ms);

/* Reads up to and including the first `delim` (dlen bytes) into buf, at most
 * max bytes. Returns the length with the delimiter, AW_EMSGSIZE if max bytes
 * went by without it (they are consumed), AW_EOF, or an error. */
ssize_t aw_stream_read_until(aw_stream *s, const void *delim, size_t dlen, void *buf, size_t max,
                             int64_t timeout_ms);

/* Zero-copy reading for parsers: waits until input is buffered and points
 * *data at it; returns the byte count (or AW_EOF / an error). The bytes stay
 * valid until aw_stream_consume or the next wait on the stream. */
ssize_t aw_stream_peek(aw_stream *s, const char **data, int64_t timeout_ms);
/* aw_stream_peek for a parser that needs more than it has: waits until more
 * than `have` bytes are buffered. Returns their count; AW_EOF if the stream
 * ended first (what is buffered stays there to peek at); AW_EMSGSIZE if the
 * buffer (read_buffer) cannot hold more than `have`; or an error. */
ssize_t aw_stream_peek_more(aw_stream *s, size_t have, const char **data, int64_t timeout_ms);
void aw_stream_consume(aw_stream *s, size_t n);
/* Bytes buffered and not yet consumed (no wait). */
size_t aw_stream_buffered(const aw_stream *s);

/* --- writing --- */

/* Returns 0 once every byte is handed to the kernel, or an error. */
int aw_stream_write(aw_stream *s, const void *buf, size_t len, int64_t timeout_ms);
int aw_stream_writev(aw_stream *s, const aw_iovec *iov, size_t n, int64_t timeout_ms);

/* Sends without waiting, from a task or a callback: what the kernel does not
 * take at once is copied and queued (in order with every other write). For
 * protocols that must never block a sender on a slow peer (a WebSocket
 * broadcast): they watch aw_stream_queued() and give up on a peer whose
 * queue grows past their limit. Returns 0 or the error that broke the
 * stream. */
int aw_stream_send_async(aw_stream *s, const void *data, size_t len);
/* The same for n pieces that leave together (one segment when small). */
int aw_stream_sendv_async(aw_stream *s, const aw_iovec *v, size_t n);
/* Bytes queued by writes and not yet handed to the kernel. */
size_t aw_stream_queued(const aw_stream *s);
/* Waits until nothing is queued. Returns 0, AW_ETIMEDOUT, AW_ECANCELED or
 * the stream's error. */
int aw_stream_drain(aw_stream *s, int64_t timeout_ms);

/* Sends len bytes of the file fd from offset: sendfile(2) on plain TCP and
 * Unix streams, read and write under TLS. Returns 0 or an error. */
int aw_stream_sendfile(aw_stream *s, int fd, int64_t offset, size_t len, int64_t timeout_ms);
/* The same after hlen bytes of head (a response's head, say), which share the
 * file's first segment: on plain TCP the head goes out with MSG_MORE and the
 * file's last bytes push both, as TCP_CORK would, without the two calls. */
int aw_stream_sendfile_after(aw_stream *s, const void *head, size_t hlen, int fd, int64_t offset,
                             size_t len, int64_t timeout_ms);

/* Half-close: no more writes (TLS sends close_notify first); reading goes on. */
int aw_stream_shutdown(aw_stream *s, int64_t timeout_ms);

/* --- ending --- */

/* Closes and frees the stream from a task: TLS sends close_notify (bounded by
 * the close timeout, skipped when the task is cancelled), then the handle is
 * closed and this returns once libuv has closed it. Returns 0 or the error
 * that broke the stream earlier, for information. */
int aw_stream_close(aw_stream *s);

/* Closes and frees the stream at once, from a task or a callback; pending
 * reads and writes of other tasks fail with AW_ECANCELED. */
void aw_stream_abort(aw_stream *s);

/* --- TLS on an open stream --- */

/* Starts TLS on an open stream and completes the handshake. ctx made with
 * aw_tls_client_ctx_new needs the server's name in server_name (SNI and
 * certificate check; NULL only with verification off); a server ctx ignores
 * it. Returns 0, AW_ECERT, AW_ETLS, AW_ETIMEDOUT... (see aw_last_error). */
int aw_stream_start_tls(aw_stream *s, aw_tls_ctx *ctx, const char *server_name,
                        int64_t timeout_ms);
/* Whether TLS is on, and the ALPN protocol agreed on ("" if none). */
int aw_stream_is_tls(const aw_stream *s);
const char *aw_stream_alpn(const aw_stream *s);

/* --- addresses, options, callbacks --- */

int aw_stream_peer_addr(const aw_stream *s, struct sockaddr_storage *addr, socklen_t *len);
int aw_stream_local_addr(const aw_stream *s, struct sockaddr_storage *addr, socklen_t *len);
/* "1.2.3.4:80", "[::1]:80" or "unix:/path" into buf; returns buf. */
const char *aw_stream_peer_name(const aw_stream *s, char *buf, size_t len);

/* The stream's operation defaults; o must outlive the stream. */
void aw_stream_set_opts(aw_stream *s, const aw_stream_opts *o);
const aw_stream_opts *aw_stream_get_opts(const aw_stream *s);

/* User data. */
void aw_stream_set_data(aw_stream *s, void *data);
void *aw_stream_get_data(const aw_stream *s);

/* Callback mode, for servers that keep idle connections without a task: when
 * input arrives (or the stream ends or fails) and no task waits to read, cb
 * runs on the loop. It typically starts a task that reads. NULL turns it off. */
typedef void (*aw_stream_input_cb)(aw_stream *s, void *arg);
void aw_stream_on_input(aw_stream *s, aw_stream_input_cb cb, void *arg);

/* Makes the read a task is waiting in on s return AW_EAGAIN (once), so that
 * it can look at what another task changed (a protocol's close). */
void aw_stream_interrupt_read(aw_stream *s);

/* The error that ended reading (AW_EOF at a clean end), or 0. */
int aw_stream_read_error(const aw_stream *s);

/* TCP_NODELAY on a TCP stream (no effect on others). Returns 0 or an error. */
int aw_stream_set_nodelay(aw_stream *s, int on);

/* The file descriptor, for socket options aweb does not cover. */
int aw_stream_fd(const aw_stream *s);

/* Details of the last failure of a stream, TLS or connect call in this thread
 * ("certificate verify failed: self-signed certificate"...), or "". Valid until
 * the calling task next waits. */
const char *aw_last_error(void);

#endif
