/* Writing to streams: writes handed straight to the kernel (uv_try_write
 * first), writes that never wait (queued copies, for broadcasts), sendfile
 * and shutdown. */
#include "stream.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <unistd.h>

#include "buf_int.h"
#include "error.h"
#include "stream_int.h"
#include "timeout.h"

/* --- writing ------------------------------------------------------------- */

typedef struct aw__wreq {
    uv_write_t req;
    aw_task *task;
    int status;
    int done;
} aw__wreq;

static void aw__write_cb(uv_write_t *req, int status)
{
    aw__wreq *w = (aw__wreq *)req;
    w->status = status;
    w->done = 1;
    aw__wake(w->task, 0);
}

/* Hands bufs to the kernel: a direct write first, the rest through uv_write
 * while the task waits. Modifies bufs. A timeout or cancellation breaks the
 * stream off, since the peer has been sent part of the data. */
int aw__stream_write_raw(aw_stream *s, uv_buf_t *bufs, unsigned n, uint64_t deadline)
{
    aw_task *t = aw__current();
    if (s->werr)
        return s->werr;
    int rc = uv_try_write(&s->u.s, bufs, n);
    if (rc < 0 && rc != UV_EAGAIN) {
        s->werr = rc;
        return rc;
    }
    size_t done = rc > 0 ? (size_t)rc : 0;
    while (n && done >= bufs->len) {
        done -= bufs->len;
        bufs++;
        n--;
    }
    if (!n)
        return 0;
    bufs->base += done;
    bufs->len -= done;
    aw__wreq w = {.task = t};
    rc = uv_write(&w.req, &s->u.s, bufs, n, aw__write_cb);
    if (rc) {
        s->werr = rc;
        return rc;
    }
    rc = aw__wait(t, deadline, 1);
    if (!w.done) {
        aw__stream_break(s, rc);
        while (!w.done)
            aw__wait(t, AW__NO_DEADLINE, 0);
        return rc;
    }
    if (w.status < 0) {
        if (!s->werr)
            s->werr = w.status;
        return w.status;
    }
    return 0;
}

int aw_stream_writev(aw_stream *s, const aw_iovec *iov, size_t n, int64_t timeout_ms)
{
    if (!aw__current())
        return AW_ENOTASK;
    if (s->flags & AW__SF_WRITING)
        return AW_EBUSY;
    if (s->flags & AW__SF_SHUT)
        return AW_EPIPE;
    uint64_t deadline = AW__DEADLINE(s, timeout_ms, write_timeout_ms, AW__WRITE_MS);
    aw__stream_enter(s);
    int rc = aw__timed_out(aw__current(), AW__NO_DEADLINE);
    if (rc)
        return aw__stream_leave(s, rc);
    s->flags |= AW__SF_WRITING;
    if (s->tls)
        rc = aw__tls_write(s, iov, n, deadline);
    else {
        uv_buf_t small[16], *bufs = n <= 16 ? small : malloc(n * sizeof *bufs);
        if (!bufs)
            rc = AW_ENOMEM;
        else {
            memcpy(bufs, iov, n * sizeof *bufs);
            rc = aw__stream_write_raw(s, bufs, (unsigned)n, deadline);
            if (bufs != small)
                free(bufs);
        }
    }
    s->flags &= ~AW__SF_WRITING;
    return aw__stream_leave(s, rc);
}

/* --- writes that never wait ---------------------------------------------- */

typedef struct aw__qwrite {
    uv_write_t req;
    aw_stream *s;
    char data[];
} aw__qwrite;

static void aw__qwrite_cb(uv_write_t *req, int status)
{
    aw__qwrite *q = (aw__qwrite *)req;
    aw_stream *s = q->s;
    if (status < 0 && !s->werr && status != UV_ECANCELED)
        s->werr = status;
    free(q);
    if (s->drainer && !s->u.s.write_queue_size)
        aw__wake(s->drainer, 0);
}

/* Queues a copy of what the kernel did not take (plain bytes, or TLS records
 * already encrypted): one try-write of every piece, then one copy of the
 * rest, so a small message in pieces still leaves in one segment. */
static void aw__stream_queue_copyv(aw_stream *s, const aw_iovec *v, size_t n)
{
    if (s->werr || (s->flags & AW__SF_CLOSING))
        return;
    size_t total = 0, skip = 0;
    for (size_t i = 0; i < n; i++)
        total += v[i].len;
    if (!total)
        return;
    if (!s->u.s.write_queue_size) {
        uv_buf_t b[8];
        size_t nb = n < 8 ? n : 8;
        for (size_t i = 0; i < nb; i++)
            b[i] = uv_buf_init((char *)v[i].base, (unsigned)v[i].len);
        int rc = uv_try_write(&s->u.s, b, (unsigned)nb);
        if (rc < 0 && rc != UV_EAGAIN) {
            s->werr = rc;
            return;
        }
        if (rc > 0)
            skip = (size_t)rc;
        if (skip == total)
            return;
    }
    aw__qwrite *q = malloc(sizeof *q + (total - skip));
    if (!q) {
        s->werr = AW_ENOMEM;
        return;
    }
    q->s = s;
    char *d = q->data;
    for (size_t i = 0; i < n; i++) {
        size_t l = v[i].len;
        const char *b = v[i].base;
        if (skip >= l) {
            skip -= l;
            continue;
        }
        memcpy(d, b + skip, l - skip);
        d += l - skip;
        skip = 0;
    }
    uv_buf_t b = uv_buf_init(q->data, (unsigned)(d - q->data));
    int rc = uv_write(&q->req, &s->u.s, &b, 1, aw__qwrite_cb);
    if (rc) {
        s->werr = rc;
        free(q);
    }
}

void aw__stream_queue_copy(aw_stream *s, const char *data, size_t len)
{
    aw_iovec v = {data, len};
    aw__stream_queue_copyv(s, &v, 1);
}

int aw_stream_send_async(aw_stream *s, const void *data, size_t len)
{
    aw_iovec v = {data, len};
    return aw_stream_sendv_async(s, &v, 1);
}

static int aw__tls_sendv_async(aw_stream *s, const aw_iovec *v, size_t n);

int aw_stream_sendv_async(aw_stream *s, const aw_iovec *v, size_t n)
{
    if (s->werr)
        return s->werr;
    if (s->flags & (AW__SF_SHUT | AW__SF_CLOSING))
        return AW_EPIPE;
    if (!s->tls) {
        /* try-write takes at most 8 pieces; more go through in groups */
        for (size_t i = 0; i < n && !s->werr; i += 8)
            aw__stream_queue_copyv(s, v + i, n - i < 8 ? n - i : 8);
        return s->werr;
    }
    return aw__tls_sendv_async(s, v, n);
}

/* TLS: small pieces are gathered so they share one record. Not inlined: its
 * 4 KiB buffer would otherwise make every plain send touch a second stack
 * page (what an idle WebSocket's task keeps resident). */
static __attribute__((noinline)) int aw__tls_sendv_async(aw_stream *s, const aw_iovec *v,
                                                         size_t n)
{
    size_t total = 0;
    for (size_t i = 0; i < n; i++)
        total += v[i].len;
    if (n > 1 && total <= 4096) {
        char one[4096], *d = one;
        for (size_t i = 0; i < n; i++) {
            memcpy(d, v[i].base, v[i].len);
            d += v[i].len;
        }
        return aw__tls_send_async(s, one, total);
    }
    for (size_t i = 0; i < n && !s->werr; i++)
        if (v[i].len && aw__tls_send_async(s, v[i].base, v[i].len))
            break;
    return s->werr;
}

size_t aw_stream_queued(const aw_stream *s) { return s->u.s.write_queue_size; }

int aw_stream_drain(aw_stream *s, int64_t timeout_ms)
{
    aw_task *t = aw__current();
    if (!t)
        return AW_ENOTASK;
    uint64_t deadline = AW__DEADLINE(s, timeout_ms, write_timeout_ms, AW__WRITE_MS);
    aw__stream_enter(s);
    int rc = 0;
    while (!rc && s->u.s.write_queue_size && !s->werr && !(s->flags & AW__SF_CLOSING)) {
        s->drainer = t;
        rc = aw__wait(t, deadline, 1);
        s->drainer = NULL;
    }
    return aw__stream_leave(s, rc ? rc : s->werr);
}

int aw_stream_write(aw_stream *s, const void *buf, size_t len, int64_t timeout_ms)
{
    aw_iovec v = {buf, len};
    return aw_stream_writev(s, &v, 1, timeout_ms);
}

int aw_stream_sendfile(aw_stream *s, int fd, int64_t offset, size_t len, int64_t timeout_ms)
{
    return aw_stream_sendfile_after(s, NULL, 0, fd, offset, len, timeout_ms);
}

int aw_stream_sendfile_after(aw_stream *s, const void *head, size_t hlen, int fd, int64_t offset,
                             size_t len, int64_t timeout_ms)
{
    aw__rt *rt = aw__rt_get();
    if (!aw__current())
        return AW_ENOTASK;
    if (s->flags & AW__SF_WRITING)
        return AW_EBUSY;
    int rc = 0;
    if (hlen && (s->tls || (s->flags & AW__SF_PIPE) || s->u.s.write_queue_size || !len)) {
        /* (TLS writes records, a pipe may not be a socket, and queued
         * bytes must go first) */
        if ((rc = aw_stream_write(s, head, hlen, timeout_ms)))
            return rc;
        hlen = 0;
    }
    char *buf = NULL;
    off_t off = offset;
    aw__stream_enter(s);
    s->flags |= AW__SF_WRITING;
    if (hlen && !(rc = s->werr)) {
        ssize_t n = send(aw_stream_fd(s), head, hlen, MSG_MORE | MSG_DONTWAIT | MSG_NOSIGNAL);
        if (n < 0 && errno != EAGAIN && errno != EINTR)
            rc = -errno;
        else if ((size_t)(n > 0 ? n : 0) < hlen) {
            /* the socket is full: the rest of the head waits its turn */
            size_t done = n > 0 ? (size_t)n : 0;
            uv_buf_t b = uv_buf_init((char *)head + done, (unsigned)(hlen - done));
            rc = aw__stream_write_raw(
                s, &b, 1, AW__DEADLINE(s, timeout_ms, write_timeout_ms, AW__WRITE_MS));
        }
    }
    while (len && !rc) {
        if ((rc = s->werr))
            break;
        if (!s->tls && !s->u.s.write_queue_size) {
            ssize_t n = sendfile(aw_stream_fd(s), fd, &off, len < (1u << 30) ? len : (1u << 30));
            if (n > 0) {
                len -= (size_t)n;
                continue;
            }
            if (n == 0) {
                rc = AW_EOF; /* the file is shorter than asked */
                break;
            }
            if (errno != EAGAIN && errno != EINTR) {
                rc = -errno;
                break;
            }
        }
        /* The socket is full (or TLS must see the bytes): one chunk through
         * the buffered path, which waits until the socket takes it. */
        if (!buf && !(buf = aw__buf_get(rt))) {
            rc = AW_ENOMEM;
            break;
        }
        ssize_t n = pread(fd, buf, len < AW__BUF_SIZE ? len : AW__BUF_SIZE, off);
        if (n <= 0) {
            rc = n == 0 ? AW_EOF : -errno;
            break;
        }
        uint64_t deadline = AW__DEADLINE(s, timeout_ms, write_timeout_ms, AW__WRITE_MS);
        if (s->tls) {
            aw_iovec v = {buf, (size_t)n};
            rc = aw__tls_write(s, &v, 1, deadline);
        } else {
            uv_buf_t b = uv_buf_init(buf, (unsigned)n);
            rc = aw__stream_write_raw(s, &b, 1, deadline);
        }
        off += n;
        len -= (size_t)n;
    }
    aw__buf_put(rt, buf);
    s->flags &= ~AW__SF_WRITING;
    return aw__stream_leave(s, rc);
}

typedef struct aw__shutreq {
    uv_shutdown_t req;
    aw_task *task;
    int status, done;
} aw__shutreq;

static void aw__shutdown_cb(uv_shutdown_t *req, int status)
{
    aw__shutreq *r = (aw__shutreq *)req;
    r->status = status;
    r->done = 1;
    aw__wake(r->task, 0);
}

static int aw__shutdown(aw_stream *s, aw_task *t, int64_t timeout_ms)
{
    uint64_t deadline = AW__DEADLINE(s, timeout_ms, close_timeout_ms, AW__CLOSE_MS);
    int rc = 0;
    if (s->tls && (rc = aw__tls_close_notify(s, deadline)) < 0)
        return rc;
    if (s->werr)
        return s->werr;
    aw__shutreq r = {.task = t};
    if ((rc = uv_shutdown(&r.req, &s->u.s, aw__shutdown_cb)))
        return rc;
    s->flags |= AW__SF_SHUT;
    rc = aw__wait(t, deadline, 1);
    if (!r.done) {
        aw__stream_break(s, rc);
        while (!r.done)
            aw__wait(t, AW__NO_DEADLINE, 0);
        return rc;
    }
    return r.status;
}

int aw_stream_shutdown(aw_stream *s, int64_t timeout_ms)
{
    aw_task *t = aw__current();
    if (!t)
        return AW_ENOTASK;
    if (s->flags & AW__SF_SHUT)
        return 0;
    aw__stream_enter(s);
    return aw__stream_leave(s, aw__shutdown(s, t, timeout_ms));
}
