/* Streams over libuv: making and closing them, buffered reading with
 * back-pressure, addresses and options. Writing is stream_write.c's; TLS
 * hooks in through tls.c; making streams is listener.c's and connect.c's
 * business. */
#include "stream.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sendfile.h>
#include <sys/un.h>
#include <unistd.h>

#include "buf_int.h"
#include "error.h"
#include "stream_int.h"
#include "timeout.h"

_Static_assert(sizeof(aw_iovec) == sizeof(uv_buf_t), "aw_iovec must match uv_buf_t");

static const aw_stream_opts aw__builtin_opts = {
    .connect_timeout_ms = AW__CONNECT_MS,
    .dns_timeout_ms = AW__DNS_MS,
    .handshake_timeout_ms = AW__HANDSHAKE_MS,
    .read_timeout_ms = AW__READ_MS,
    .write_timeout_ms = AW__WRITE_MS,
    .close_timeout_ms = AW__CLOSE_MS,
    .read_buffer = AW__BUF_SIZE,
};

void aw_stream_opts_defaults(aw_stream_opts *o) { *o = aw__builtin_opts; }

/* --- errors with details ------------------------------------------------- */

static __thread char aw__last_error[256];

void aw__stream_set_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(aw__last_error, sizeof aw__last_error, fmt, ap);
    va_end(ap);
}

const char *aw_last_error(void) { return aw__last_error; }

/* --- making and freeing -------------------------------------------------- */

aw_stream *aw__stream_new(aw__rt *rt, int pipe)
{
    aw_stream *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    int rc = pipe ? uv_pipe_init(&rt->loop, &s->u.pipe, 0) : uv_tcp_init(&rt->loop, &s->u.tcp);
    if (rc) {
        free(s);
        return NULL;
    }
    s->u.h.data = s;
    s->o = &aw__builtin_opts;
    if (pipe)
        s->flags |= AW__SF_PIPE;
    return s;
}

void aw__stream_free(aw_stream *s)
{
    aw__buf_put(aw__rt_get(), s->in);
    if (s->tls)
        aw__tls_free(s->tls);
    free(s);
}

static void aw__close_cb(uv_handle_t *h)
{
    aw_stream *s = h->data;
    s->flags |= AW__SF_CLOSED;
    if (s->flags & AW__SF_COUNTED) {
        s->flags &= ~AW__SF_COUNTED;
        aw__listener_conn_closed(s->listener);
    }
    if (s->closer)
        aw__wake(s->closer, 0);
    else if ((s->flags & AW__SF_FREE) && !s->users)
        aw__stream_free(s);
}

/* Closes the handle (once); pending writes complete with UV_ECANCELED and a
 * waiting reader is woken with `why`. */
void aw__stream_break(aw_stream *s, int why)
{
    if (!s->rerr)
        s->rerr = why;
    if (!s->werr)
        s->werr = why;
    if (!(s->flags & AW__SF_CLOSING)) {
        s->flags |= AW__SF_CLOSING;
        s->flags &= ~AW__SF_READING;
        uv_close(&s->u.h, aw__close_cb);
    }
    if (s->reader)
        aw__wake(s->reader->task, 0);
}

/* --- deadlines ----------------------------------------------------------- */

uint64_t aw__stream_deadline(aw_stream *s, int64_t timeout_ms, int64_t dflt, int64_t builtin)
{
    (void)s;
    return aw__op_deadline(aw__rt_get(), timeout_ms, dflt > 0 ? dflt : builtin);
}

/* --- the input buffer ---------------------------------------------------- */

size_t aw_stream_buffered(const aw_stream *s) { return s->in_end - s->in_start; }

static size_t aw__in_cap(const aw_stream *s)
{
    size_t cap = s->o->read_buffer;
    return cap && cap < AW__BUF_SIZE ? cap : AW__BUF_SIZE;
}

static int aw__in_full(const aw_stream *s)
{
    return s->in && s->in_start == 0 && s->in_end >= aw__in_cap(s);
}

/* Room at the end of the input buffer (taken from the pool if needed), after
 * moving what is buffered to the front when that is the only way to make some. */
char *aw__stream_in_space(aw_stream *s, size_t *len)
{
    size_t cap = aw__in_cap(s);
    if (!s->in) {
        s->in = aw__buf_get(aw__rt_get());
        s->in_start = s->in_end = 0;
        if (!s->in) {
            *len = 0;
            return NULL;
        }
    } else if (s->in_start == s->in_end) {
        s->in_start = s->in_end = 0;
    } else if (s->in_end >= cap && s->in_start > 0) {
        memmove(s->in, s->in + s->in_start, s->in_end - s->in_start);
        s->in_end -= s->in_start;
        s->in_start = 0;
    }
    *len = cap > s->in_end ? cap - s->in_end : 0;
    return s->in + s->in_end;
}

/* Gives a drained buffer back to the pool: idle streams hold none. */
void aw__stream_in_release(aw_stream *s)
{
    if (s->in && s->in_start == s->in_end) {
        aw__buf_put(aw__rt_get(), s->in);
        s->in = NULL;
        s->in_start = s->in_end = 0;
    }
}

static void aw__alloc_cb(uv_handle_t *h, size_t suggested, uv_buf_t *b)
{
    (void)suggested;
    aw_stream *s = h->data;
    aw__reader *r = s->reader;
    if (r && r->lend) {
        if (r->got) {
            /* The lent buffer has its bytes and its reader has not run yet:
             * the rest stays in the socket, for the reader's next call to
             * read straight into its buffer (libuv hears "no buffer" and
             * polls again). Reading it into `in` would cost a copy and,
             * measured, 8% of bulk echo throughput. */
            b->base = NULL;
            b->len = 0;
        } else {
            b->base = r->lend; /* `in` is empty: these bytes come first */
            b->len = r->lend_len;
        }
        return;
    }
    if (s->tls) {
        /* ciphertext lands in a scratch buffer and is decrypted into `in` */
        b->base = aw__buf_get(aw__rt_get());
        b->len = b->base ? AW__BUF_SIZE : 0;
        return;
    }
    size_t len;
    b->base = aw__stream_in_space(s, &len);
    b->len = len;
}

static void aw__read_cb(uv_stream_t *st, ssize_t nread, const uv_buf_t *b)
{
    aw_stream *s = st->data;
    aw__reader *r = s->reader;
    if (nread == UV_ENOBUFS && r && r->got)
        return; /* refused by aw__alloc_cb, not an error */
    if (r && b->base && b->base == r->lend) {
        if (nread > 0)
            r->got = (size_t)nread;
    } else if (s->tls) {
        if (nread > 0)
            aw__tls_on_cipher(s, b->base, (size_t)nread);
        aw__buf_put(aw__rt_get(), b->base);
    } else if (nread > 0)
        s->in_end += (uint32_t)nread;
    s->hot = nread > 0 && (size_t)nread == b->len;
    s->direct = 0;
    if (nread < 0 && !s->rerr)
        s->rerr = nread == UV_EOF ? AW_EOF : (int)nread;
    aw__stream_in_release(s);
    if ((s->rerr || aw__in_full(s)) && (s->flags & AW__SF_READING)) {
        uv_read_stop(st); /* full: back-pressure; ended: nothing more to read */
        s->flags &= ~AW__SF_READING;
    }
    aw__stream_input_ready(s);
}

void aw__stream_start_reading(aw_stream *s)
{
    if ((s->flags & (AW__SF_READING | AW__SF_CLOSING)) || s->rerr || aw__in_full(s))
        return;
    int rc = uv_read_start(&s->u.s, aw__alloc_cb, aw__read_cb);
    if (rc)
        s->rerr = rc;
    else
        s->flags |= AW__SF_READING;
}

/* Input (or the end of it) is there: the waiting reader runs, or else the
 * callback-mode owner hears of it. The callback may free s. */
void aw__stream_input_ready(aw_stream *s)
{
    if (s->reader) {
        if (s->in_start != s->in_end || s->rerr || s->reader->got)
            aw__wake(s->reader->task, 0);
        return;
    }
    if (s->in_start == s->in_end && !s->rerr)
        return;
    if (s->on_input)
        s->on_input(s, s->on_input_arg);
}

/* While a peer is sending fast (the last read filled its room), reading the
 * socket straight away is cheaper than going back to the loop to be told it
 * is readable. At most AW__DIRECT_MAX in a row, then the loop has its turn.
 * Returns bytes read into dst, 0 if nothing was there, or what ended it. */
#define AW__DIRECT_MAX 16

static ssize_t aw__read_direct(aw_stream *s, char *dst, size_t len)
{
    if (!s->hot || s->tls || s->rerr || (s->flags & AW__SF_CLOSING) ||
        s->direct >= AW__DIRECT_MAX || !len)
        return 0;
    ssize_t n = read(aw_stream_fd(s), dst, len);
    if (n > 0) {
        s->hot = (size_t)n == len;
        s->direct++;
        return n;
    }
    s->hot = 0;
    if (n == 0) {
        s->rerr = AW_EOF;
        return AW_EOF;
    }
    if (errno == EAGAIN || errno == EINTR)
        return 0;
    s->rerr = -errno;
    return s->rerr;
}

/* Waits until input is buffered (r->want bytes of it, or one), or has landed
 * in the buffer r lends; returns 0 or what ended the stream. */
static int aw__wait_input(aw_stream *s, uint64_t deadline, aw__reader *r)
{
    aw_task *t = aw__current();
    size_t want = r->want ? r->want : 1;
    if (aw_stream_buffered(s) < want && !t)
        return AW_ENOTASK; /* only waiting needs a task: callbacks may peek */
    if (s->reader && s->reader->task != t)
        return AW_EBUSY;
    r->task = t;
    while (aw_stream_buffered(s) < want && !r->got) {
        if (s->tls)
            aw__tls_pump(s); /* ciphertext left over when the buffer was full */
        else if (s->hot && r->lend) {
            ssize_t n = aw__read_direct(s, r->lend, r->lend_len);
            if (n > 0)
                r->got = (size_t)n;
        } else if (s->hot) {
            size_t room;
            char *p = aw__stream_in_space(s, &room);
            ssize_t n = p ? aw__read_direct(s, p, room) : 0;
            if (n > 0)
                s->in_end += (uint32_t)n;
            else
                aw__stream_in_release(s);
        }
        if (aw_stream_buffered(s) >= want || r->got)
            break;
        if (s->rerr)
            return aw__tls_report(s, s->rerr);
        if (s->intr) {
            s->intr = 0;
            return AW_EAGAIN;
        }
        aw__stream_start_reading(s);
        s->reader = r;
        int rc = aw__wait(t, deadline, 1);
        s->reader = NULL;
        /* bytes already in the lent buffer are the caller's, whatever else
         * happened: returning an error would lose them */
        if (rc && !r->got)
            return rc;
    }
    return 0;
}

/* Waits until at least want bytes are buffered and points *data at them. */
static ssize_t aw__peek(aw_stream *s, size_t want, const char **data, int64_t timeout_ms)
{
    aw__reader r = {.want = want};
    aw__stream_enter(s);
    int rc = aw__wait_input(s, AW__DEADLINE(s, timeout_ms, read_timeout_ms, AW__READ_MS), &r);
    if (rc)
        return aw__stream_leave(s, rc);
    *data = s->in + s->in_start;
    return aw__stream_leave(s, (int)(s->in_end - s->in_start));
}

ssize_t aw_stream_peek(aw_stream *s, const char **data, int64_t timeout_ms)
{
    return aw__peek(s, 1, data, timeout_ms);
}

ssize_t aw_stream_peek_more(aw_stream *s, size_t have, const char **data, int64_t timeout_ms)
{
    if (have >= aw__in_cap(s))
        return AW_EMSGSIZE; /* the buffer can hold no more */
    return aw__peek(s, have + 1, data, timeout_ms);
}

void aw_stream_consume(aw_stream *s, size_t n)
{
    size_t avail = s->in_end - s->in_start;
    s->in_start += (uint32_t)(n < avail ? n : avail);
    aw__stream_in_release(s);
    if (!(s->flags & AW__SF_READING) && !aw__in_full(s) && (s->reader || s->on_input))
        aw__stream_start_reading(s);
}

ssize_t aw_stream_read(aw_stream *s, void *buf, size_t len, int64_t timeout_ms)
{
    aw__reader r = {0};
    /* A large read with nothing buffered takes its bytes straight into the
     * caller's buffer: from the socket now if the peer is sending fast, else
     * by lending the buffer to the read callback while it waits. (TLS
     * decrypts into `in`: decrypting into a lent buffer measured slower.) */
    if (s->in_start == s->in_end && len >= AW__LEND_MIN && !s->tls) {
        ssize_t n = aw__read_direct(s, buf, len);
        if (n)
            return n;
        r.lend = buf;
        r.lend_len = len < INT_MAX ? len : INT_MAX; /* the count must fit the return */
    }
    aw__stream_enter(s);
    int rc = aw__wait_input(s, AW__DEADLINE(s, timeout_ms, read_timeout_ms, AW__READ_MS), &r);
    if (r.got)
        return aw__stream_leave(s, (int)r.got);
    if (rc)
        return aw__stream_leave(s, rc);
    size_t n = s->in_end - s->in_start;
    if (n > len)
        n = len;
    memcpy(buf, s->in + s->in_start, n);
    aw_stream_consume(s, n);
    return aw__stream_leave(s, (int)n);
}

int aw_stream_read_exactly(aw_stream *s, void *buf, size_t len, int64_t timeout_ms)
{
    size_t got = 0;
    aw__stream_enter(s);
    while (got < len) {
        ssize_t n = aw_stream_read(s, (char *)buf + got, len - got, timeout_ms);
        if (n < 0)
            return aw__stream_leave(s, (int)n);
        got += (size_t)n;
    }
    return aw__stream_leave(s, 0);
}

ssize_t aw_stream_read_until(aw_stream *s, const void *delim, size_t dlen, void *buf, size_t max,
                             int64_t timeout_ms)
{
    char *out = buf;
    size_t got = 0;
    if (!dlen)
        return AW_EINVAL;
    aw__stream_enter(s);
    while (got < max) {
        const char *p;
        ssize_t n = aw_stream_peek(s, &p, timeout_ms);
        if (n < 0)
            return aw__stream_leave(s, (int)n);
        size_t chunk = (size_t)n < max - got ? (size_t)n : max - got;
        memcpy(out + got, p, chunk);
        /* the delimiter may straddle what was copied before */
        size_t from = got >= dlen - 1 ? got - (dlen - 1) : 0;
        size_t end = got + chunk;
        for (size_t i = from; i + dlen <= end; i++) {
            if (memcmp(out + i, delim, dlen) == 0) {
                size_t take = i + dlen - got;
                aw_stream_consume(s, take);
                return aw__stream_leave(s, (int)(i + dlen));
            }
        }
        aw_stream_consume(s, chunk);
        got = end;
    }
    return aw__stream_leave(s, AW_EMSGSIZE);
}

int aw_stream_read_error(const aw_stream *s) { return s->rerr; }

void aw_stream_interrupt_read(aw_stream *s)
{
    if (s->reader) {
        s->intr = 1;
        aw__wake(s->reader->task, 0);
    }
}

/* --- closing ------------------------------------------------------------- */

int aw_stream_close(aw_stream *s)
{
    aw_task *t = aw__current();
    if (!s)
        return 0;
    if (!t) {
        aw_stream_abort(s);
        return 0;
    }
    int err = s->werr ? s->werr : (s->rerr != AW_EOF ? s->rerr : 0);
    if (s->tls && !(s->flags & (AW__SF_CLOSING | AW__SF_SHUT)) && !s->werr && !t->cancelled)
        aw__tls_close_notify(s, AW__DEADLINE(s, AW_DEFAULT, close_timeout_ms, AW__CLOSE_MS));
    if (!(s->flags & AW__SF_CLOSING)) {
        s->flags |= AW__SF_CLOSING;
        uv_close(&s->u.h, aw__close_cb);
    }
    while (!(s->flags & AW__SF_CLOSED)) {
        s->closer = t;
        aw__wait(t, AW__NO_DEADLINE, 0);
    }
    s->closer = NULL;
    if (s->users)
        s->flags |= AW__SF_FREE; /* another task is still inside a call */
    else
        aw__stream_free(s);
    return err;
}

void aw_stream_abort(aw_stream *s)
{
    if (!s)
        return;
    s->on_input = NULL;
    if ((s->flags & AW__SF_CLOSED) && !s->users) {
        aw__stream_free(s);
        return;
    }
    s->flags |= AW__SF_FREE;
    aw__stream_break(s, AW_ECANCELED);
}

/* --- TLS, addresses, options --------------------------------------------- */

int aw_stream_start_tls(aw_stream *s, aw_tls_ctx *ctx, const char *server_name,
                        int64_t timeout_ms)
{
    if (!aw__current())
        return AW_ENOTASK;
    if (s->tls)
        return AW_EINVAL;
    int rc = aw__tls_attach(s, ctx, server_name);
    if (rc)
        return rc;
    aw__stream_enter(s);
    /* bytes already buffered are ciphertext the TLS layer must see first */
    if (s->in_end > s->in_start) {
        char *in = s->in;
        uint32_t a = s->in_start, b = s->in_end;
        s->in = NULL;
        s->in_start = s->in_end = 0;
        aw__tls_on_cipher(s, in + a, b - a);
        aw__buf_put(aw__rt_get(), in);
    }
    rc = aw__tls_handshake(s, AW__DEADLINE(s, timeout_ms, handshake_timeout_ms, AW__HANDSHAKE_MS));
    return aw__stream_leave(s, rc);
}

int aw_stream_is_tls(const aw_stream *s) { return s->tls != NULL; }

const char *aw_stream_alpn(const aw_stream *s) { return s->tls ? aw__tls_alpn(s->tls) : ""; }

int aw_stream_set_nodelay(aw_stream *s, int on)
{
    return (s->flags & AW__SF_PIPE) ? 0 : uv_tcp_nodelay(&s->u.tcp, on);
}

int aw_stream_fd(const aw_stream *s)
{
    uv_os_fd_t fd = -1;
    uv_fileno(&s->u.h, &fd);
    return fd;
}

static int aw__stream_addr(const aw_stream *s, struct sockaddr_storage *addr, socklen_t *len,
                           int peer)
{
    int n = (int)sizeof *addr;
    memset(addr, 0, sizeof *addr);
    if (s->flags & AW__SF_PIPE) {
        struct sockaddr_un *un = (struct sockaddr_un *)addr;
        size_t plen = sizeof un->sun_path;
        un->sun_family = AF_UNIX;
        int rc = peer ? uv_pipe_getpeername(&s->u.pipe, un->sun_path, &plen)
                      : uv_pipe_getsockname(&s->u.pipe, un->sun_path, &plen);
        if (rc == UV_ENOBUFS)
            return rc;
        if (rc)
            un->sun_path[0] = 0; /* unnamed end of a Unix socket */
        *len = sizeof *un;
        return 0;
    }
    int rc = peer ? uv_tcp_getpeername(&s->u.tcp, (struct sockaddr *)addr, &n)
                  : uv_tcp_getsockname(&s->u.tcp, (struct sockaddr *)addr, &n);
    *len = (socklen_t)n;
    return rc;
}

int aw_stream_peer_addr(const aw_stream *s, struct sockaddr_storage *addr, socklen_t *len)
{
    return aw__stream_addr(s, addr, len, 1);
}

int aw_stream_local_addr(const aw_stream *s, struct sockaddr_storage *addr, socklen_t *len)
{
    return aw__stream_addr(s, addr, len, 0);
}

const char *aw_stream_peer_name(const aw_stream *s, char *buf, size_t len)
{
    struct sockaddr_storage a;
    socklen_t alen;
    char host[INET6_ADDRSTRLEN] = "?";
    if (aw_stream_peer_addr(s, &a, &alen)) {
        snprintf(buf, len, "?");
    } else if (a.ss_family == AF_UNIX) {
        snprintf(buf, len, "unix:%s", ((struct sockaddr_un *)&a)->sun_path);
    } else if (a.ss_family == AF_INET6) {
        struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&a;
        uv_ip6_name(in6, host, sizeof host);
        snprintf(buf, len, "[%s]:%u", host, ntohs(in6->sin6_port));
    } else {
        struct sockaddr_in *in = (struct sockaddr_in *)&a;
        uv_ip4_name(in, host, sizeof host);
        snprintf(buf, len, "%s:%u", host, ntohs(in->sin_port));
    }
    return buf;
}

void aw_stream_set_opts(aw_stream *s, const aw_stream_opts *o) { s->o = o ? o : &aw__builtin_opts; }
const aw_stream_opts *aw_stream_get_opts(const aw_stream *s) { return s->o; }
void aw_stream_set_data(aw_stream *s, void *data) { s->data = data; }
void *aw_stream_get_data(const aw_stream *s) { return s->data; }

void aw_stream_on_input(aw_stream *s, aw_stream_input_cb cb, void *arg)
{
    s->on_input = cb;
    s->on_input_arg = arg;
    if (cb) {
        aw__stream_start_reading(s);
        /* input that arrived while nobody listened is reported at once */
        if (s->in_end > s->in_start || s->rerr)
            cb(s, arg);
    }
}
