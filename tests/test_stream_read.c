/* Reading from streams: read timeouts (and a deadline that passes as the
 * bytes arrive), read_until, peek_more, and back-pressure on input. The peer
 * is a listener on the test's own loop (streampeers.h). */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "streampeers.h"
#include "testutil.h"

TestSuite(stream_read, .timeout = 60, .fini = tu_fini);

/* --- read timeout -------------------------------------------------------- */

static int read_timeout_main(void *arg)
{
    (void)arg;
    tu_peer p = {0};
    tu_peer_start(&p, NULL);
    aw_stream_opts so;
    aw_stream_opts_defaults(&so);
    so.read_timeout_ms = 300;
    aw_stream *s;
    cr_assert_eq(
        aw_open_connection("127.0.0.1", p.port, &(aw_connect_opts){.stream_opts = &so}, &s), 0);
    char buf[16];
    int64_t t0 = tu_ms();
    cr_assert_eq(aw_stream_read(s, buf, sizeof buf, AW_DEFAULT), AW_ETIMEDOUT);
    int64_t took = tu_ms() - t0;
    tu_assert_between(took, 270, 330);
    /* a read timeout leaves the stream usable */
    cr_assert_eq(aw_stream_write(p.accepted, "hi", 2, 1000), 0);
    cr_assert_eq(aw_stream_read(s, buf, sizeof buf, AW_DEFAULT), 2);
    /* an explicit timeout wins over the default */
    t0 = tu_ms();
    cr_assert_eq(aw_stream_read(s, buf, sizeof buf, 50), AW_ETIMEDOUT);
    tu_assert_between(tu_ms() - t0, 45, 100);
    /* and the task's scope caps both */
    aw_timeout_push(80);
    t0 = tu_ms();
    cr_assert_eq(aw_stream_read(s, buf, sizeof buf, AW_DEFAULT), AW_ETIMEDOUT);
    tu_assert_between(tu_ms() - t0, 75, 130);
    aw_timeout_pop();
    aw_stream_close(s);
    tu_peer_stop(&p);
    cr_assert_eq(tu_open_handles(), 0);
    return 0;
}

Test(stream_read, a_silent_peer_makes_read_time_out_at_the_configured_time)
{
    tu_run(read_timeout_main, NULL);
}

/* A read's deadline passes, and in the same turn of the loop the bytes it
 * waited for arrive, before the reading task has run again: they were read
 * into the buffer the read lent, so the read returns them, not the timeout.
 * Blocking the loop makes the order certain: libuv runs due timers before it
 * polls for input. */

typedef struct race {
    aw_stream *s, *peer;
    char buf[65536];
    ssize_t n;
} race;

static int race_reader(void *arg)
{
    race *r = arg;
    r->n = aw_stream_read(r->s, r->buf, sizeof r->buf, 20);
    return 0;
}

static int race_main(void *arg)
{
    (void)arg;
    tu_peer p = {0};
    tu_peer_start(&p, NULL);
    static race r; /* (task stacks are small) */
    static char data[20000];
    cr_assert_eq(aw_open_connection("127.0.0.1", p.port, NULL, &r.s), 0);
    while (!p.accepted)
        aw_sleep(1);
    aw_task *t = aw_spawn(race_reader, &r);
    aw_sleep(5); /* the reader waits, its buffer lent */
    memset(data, 'r', sizeof data);
    cr_assert_eq(write(aw_stream_fd(p.accepted), data, sizeof data), (ssize_t)sizeof data);
    usleep(40 * 1000); /* past the reader's deadline, the loop held */
    aw_join(t);
    cr_assert_eq(r.n, (ssize_t)sizeof data, "the read gave %zd, not the bytes that came", r.n);
    cr_assert_eq(memcmp(r.buf, data, sizeof data), 0);
    aw_stream_close(r.s);
    tu_peer_stop(&p);
    return 0;
}

Test(stream_read, a_read_whose_deadline_passes_as_its_bytes_arrive_returns_them)
{
    tu_run(race_main, NULL);
}
/* --- read_until ---------------------------------------------------------- */

static int read_until_main(void *arg)
{
    (void)arg;
    tu_peer p = {0};
    tu_peer_start(&p, NULL);
    aw_stream *s;
    cr_assert_eq(aw_open_connection("127.0.0.1", p.port, NULL, &s), 0);
    aw_sleep(10);
    const char msg[] = "GET / HTTP/1.1\r\nHost: x\r\n\r\nrest";
    cr_assert_eq(aw_stream_write(p.accepted, msg, sizeof msg - 1, 1000), 0);
    char buf[256];
    ssize_t n = aw_stream_read_until(s, "\r\n\r\n", 4, buf, sizeof buf, 1000);
    cr_assert_eq(n, (ssize_t)strlen("GET / HTTP/1.1\r\nHost: x\r\n\r\n"));
    cr_assert_eq(aw_stream_read(s, buf, sizeof buf, 1000), 4, "what follows stays buffered");
    /* the delimiter split across two arrivals */
    aw_stream_write(p.accepted, "abc\r", 4, 1000);
    aw_sleep(10);
    aw_stream_write(p.accepted, "\ndef", 4, 1000);
    n = aw_stream_read_until(s, "\r\n", 2, buf, sizeof buf, 1000);
    cr_assert_eq(n, 5);
    cr_assert_eq(aw_stream_read(s, buf, sizeof buf, 1000), 3);
    /* never seen within max */
    char big[300];
    memset(big, 'a', sizeof big);
    aw_stream_write(p.accepted, big, sizeof big, 1000);
    cr_assert_eq(aw_stream_read_until(s, "\n", 1, buf, 100, 1000), AW_EMSGSIZE);
    aw_stream_close(s);
    tu_peer_stop(&p);
    return 0;
}

Test(stream_read, read_until_finds_split_delimiters_and_refuses_past_max)
{
    tu_run(read_until_main, NULL);
}
/* --- peek_more: a parser waits for more than it has ----------------------- */

typedef struct later {
    aw_stream *s;
    const char *text;
    int delay_ms;
    int close; /* then close the stream */
} later;

static int write_later(void *arg)
{
    later *l = arg;
    aw_sleep(l->delay_ms);
    aw_stream_write(l->s, l->text, strlen(l->text), 1000);
    if (l->close)
        aw_stream_close(l->s);
    return 0;
}

static int peek_more_main(void *arg)
{
    (void)arg;
    aw_stream_opts so;
    aw_stream_opts_defaults(&so);
    so.read_buffer = 4096;
    tu_peer p = {0};
    tu_peer_start(&p, NULL);
    aw_stream *s;
    cr_assert_eq(
        aw_open_connection("127.0.0.1", p.port, &(aw_connect_opts){.stream_opts = &so}, &s), 0);
    while (!p.accepted)
        aw_sleep(1);
    const char *d;
    /* 8 bytes now, the rest 50 ms later: waiting for a 12th byte takes them */
    cr_assert_eq(aw_stream_write(p.accepted, "HTTP/1.1", 8, 1000), 0);
    cr_assert_eq(aw_stream_peek(s, &d, 1000), 8);
    later l = {p.accepted, " 100 Continue\r\n", 50, 0};
    aw_task *t = aw_spawn(write_later, &l);
    int64_t t0 = tu_ms();
    ssize_t n = aw_stream_peek_more(s, 11, &d, 1000);
    tu_assert_between(tu_ms() - t0, 40, 500);
    cr_assert_eq(n, 23);
    cr_assert_eq(memcmp(d, "HTTP/1.1 100", 12), 0);
    aw_join(t);
    /* nothing more comes: the timeout, and what was there stays */
    t0 = tu_ms();
    cr_assert_eq(aw_stream_peek_more(s, 23, &d, 50), AW_ETIMEDOUT);
    tu_assert_between(tu_ms() - t0, 45, 150);
    cr_assert_eq(aw_stream_buffered(s), 23);
    /* more than the buffer holds is refused at once */
    cr_assert_eq(aw_stream_peek_more(s, 4096, &d, 1000), AW_EMSGSIZE);
    /* the stream ends first: AW_EOF, and the bytes are still there to peek */
    aw_stream_consume(s, 23);
    later e = {p.accepted, "HTTP/1", 10, 1};
    p.accepted = NULL; /* closed by write_later */
    t = aw_spawn(write_later, &e);
    cr_assert_eq(aw_stream_peek_more(s, 11, &d, 1000), AW_EOF);
    cr_assert_eq(aw_stream_peek(s, &d, 1000), 6);
    aw_stream_consume(s, 6);
    cr_assert_eq(aw_stream_peek(s, &d, 1000), AW_EOF);
    aw_join(t);
    aw_stream_close(s);
    tu_peer_stop(&p);
    cr_assert_eq(tu_open_handles(), 0);
    return 0;
}

Test(stream_read, peek_more_waits_for_more_bytes_than_are_buffered)
{
    tu_run(peek_more_main, NULL);
}
/* --- back-pressure ------------------------------------------------------- */

static int backpressure_main(void *arg)
{
    (void)arg;
    aw_stream_opts so;
    aw_stream_opts_defaults(&so);
    so.read_buffer = 16 * 1024;
    tu_peer p = {0};
    tu_peer_start(&p, &so);
    aw_stream *s;
    cr_assert_eq(aw_open_connection("127.0.0.1", p.port, NULL, &s), 0);
    aw_sleep(10);
    /* the server reads once, which turns reading on, then stops reading */
    aw_stream_write(s, "x", 1, 1000);
    char one;
    cr_assert_eq(aw_stream_read(p.accepted, &one, 1, 1000), 1);
    char *chunk = calloc(1, 1 << 20);
    int rc = 0;
    for (int i = 0; i < 256 && !rc; i++) /* until the kernel's buffers are full */
        rc = aw_stream_write(s, chunk, 1 << 20, 300);
    cr_assert_eq(rc, AW_ETIMEDOUT, "the peer's buffers should have filled");
    cr_assert_leq(aw_stream_buffered(p.accepted), 16 * 1024, "the reader buffered %zu bytes",
                  aw_stream_buffered(p.accepted));
    free(chunk);
    aw_stream_close(s);
    tu_peer_stop(&p);
    return 0;
}

Test(stream_read, input_is_buffered_up_to_the_limit_then_reading_stops)
{
    tu_run(backpressure_main, NULL);
}
