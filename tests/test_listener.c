/* Listeners: connection limits, EMFILE, IPv6, SO_REUSEPORT, callback mode. */
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "testutil.h"

TestSuite(listener, .timeout = 60, .fini = tu_fini);

/* Answers each "ping" with "pong" until the client goes away. */
static int pong_handler(aw_stream *s, void *arg)
{
    size_t *peak = arg;
    (void)peak;
    char buf[4];
    while (aw_stream_read_exactly(s, buf, 4, 10000) == 0)
        if (aw_stream_write(s, "pong", 4, 1000))
            break;
    return 0;
}

typedef struct limit_client {
    int port;
    aw_stream *s;
    int answered;
} limit_client;

static int ping_once(limit_client *c, int64_t ms)
{
    char buf[4];
    if (aw_stream_write(c->s, "ping", 4, 1000))
        return -1;
    return aw_stream_read_exactly(c->s, buf, 4, ms) == 0 && memcmp(buf, "pong", 4) == 0;
}

static int ping_again(void *arg)
{
    limit_client *c = arg;
    c->answered = ping_once(c, 1500) == 1;
    return 0;
}

static int limit_client_fn(void *arg)
{
    limit_client *c = arg;
    int rc = aw_open_connection("127.0.0.1", c->port, NULL, &c->s);
    if (rc)
        return rc;
    c->answered = ping_once(c, 1500) == 1;
    return 0;
}

static int limit_main(void *arg)
{
    (void)arg;
    enum { N = 300, LIMIT = 100 };
    aw_listener *l;
    aw_listen_opts o = {.max_connections = LIMIT, .handler = pong_handler, .backlog = 1024};
    cr_assert_eq(aw_listen(&o, &l), 0);
    static limit_client c[N];
    aw_task *t[N];
    for (int i = 0; i < N; i++) {
        c[i] = (limit_client){.port = aw_listener_port(l)};
        t[i] = aw_spawn(limit_client_fn, &c[i]);
    }
    cr_assert_eq(aw_gather(t, N, NULL), 0, "every client connects (the kernel queues them)");
    int answered = 0;
    for (int i = 0; i < N; i++)
        answered += c[i].answered;
    cr_assert_eq(answered, LIMIT, "%d clients were answered", answered);
    cr_assert_eq(aw_listener_connections(l), LIMIT);
    /* the first hundred keep being answered */
    for (int i = 0; i < N; i++)
        if (c[i].answered)
            cr_assert_eq(ping_once(&c[i], 1000), 1);
    /* as they leave, the waiting ones are taken in */
    for (int i = 0; i < N; i++)
        if (c[i].answered) {
            aw_stream_close(c[i].s);
            c[i].s = NULL;
        }
    int waiting = 0, later = 0;
    for (int i = 0; i < N; i++)
        if (c[i].s)
            t[waiting++] = aw_spawn(ping_again, &c[i]);
    aw_gather(t, waiting, NULL);
    for (int i = 0; i < N; i++)
        later += c[i].s && c[i].answered;
    cr_assert_eq(later, LIMIT, "%d of the %d waiting clients were answered", later, waiting);
    cr_assert_leq(aw_listener_connections(l), LIMIT);
    for (int i = 0; i < N; i++)
        aw_stream_close(c[i].s);
    aw_listener_close(l);
    return 0;
}

Test(listener, at_the_limit_it_serves_the_first_and_queues_the_rest) { tu_run(limit_main, NULL); }

/* --- EMFILE: a server in a child process with few descriptors ------------- */

static int emfile_server_main(void *arg)
{
    int *pipefd = arg;
    aw_listener *l;
    aw_listen_opts o = {.handler = pong_handler, .backlog = 1024};
    if (aw_listen(&o, &l))
        return 1;
    int port = aw_listener_port(l);
    if (write(pipefd[1], &port, sizeof port) != sizeof port)
        return 1;
    aw_sleep(4000); /* serve for a while, then end cleanly */
    aw_listener_close(l);
    return 0;
}

static int emfile_child(void *arg)
{
    struct rlimit rl = {64, 64};
    setrlimit(RLIMIT_NOFILE, &rl);
    return aw_run(emfile_server_main, arg);
}

static int connect_raw(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port),
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    if (connect(fd, (struct sockaddr *)&a, sizeof a)) {
        close(fd);
        return -1;
    }
    return fd;
}

static int raw_ping(int fd)
{
    char buf[4];
    struct pollfd p = {.fd = fd, .events = POLLIN};
    if (write(fd, "ping", 4) != 4 || poll(&p, 1, 2000) != 1)
        return 0;
    return read(fd, buf, 4) == 4 && memcmp(buf, "pong", 4) == 0;
}

Test(listener, running_out_of_descriptors_is_survived)
{
    int pipefd[2];
    cr_assert_eq(pipe(pipefd), 0);
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid == 0) {
        tu_die_with_parent(parent);
        /* keep the expected "accept failed" lines out of the test log */
        int log = open("/tmp/aweb-emfile.log", O_WRONLY | O_CREAT | O_TRUNC, 0644);
        dup2(log, 2);
        close(log);
        _exit(emfile_child(pipefd));
    }
    int port = 0;
    cr_assert_eq(read(pipefd[0], &port, sizeof port), (ssize_t)sizeof port);
    /* 200 connections against 64 descriptors */
    int fds[200], n = 0;
    for (int i = 0; i < 200; i++)
        if ((fds[n] = connect_raw(port)) >= 0)
            n++;
    usleep(300 * 1000);
    int served = 0;
    for (int i = 0; i < n; i++)
        served += raw_ping(fds[i]);
    cr_assert_gt(served, 0);
    cr_assert_lt(served, 64, "%d served with 64 descriptors", served);
    for (int i = 0; i < n; i++)
        close(fds[i]);
    usleep(200 * 1000);
    /* after the flood the server serves again */
    int fd = connect_raw(port);
    cr_assert_geq(fd, 0);
    cr_assert(raw_ping(fd), "no answer after the flood");
    close(fd);
    int status;
    waitpid(pid, &status, 0);
    cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "the server failed: %d", status);
}

/* --- IPv6, SO_REUSEPORT, callback mode ------------------------------------ */

static int ipv6_main(void *arg)
{
    (void)arg;
    aw_listener *l;
    cr_assert_eq(aw_listen(&(aw_listen_opts){.host = "::1", .handler = pong_handler}, &l), 0,
                 "%s", aw_last_error());
    aw_stream *s;
    cr_assert_eq(aw_open_connection("::1", aw_listener_port(l), NULL, &s), 0);
    char name[64];
    cr_assert(strstr(aw_stream_peer_name(s, name, sizeof name), "[::1]:"), "%s", name);
    limit_client c = {.s = s};
    cr_assert_eq(ping_once(&c, 1000), 1);
    aw_stream_close(s);
    aw_listener_close(l);
    return 0;
}

Test(listener, listens_and_connects_over_ipv6) { tu_run(ipv6_main, NULL); }

static int reuseport_main(void *arg)
{
    (void)arg;
    aw_listener *a, *b, *c;
    cr_assert_eq(aw_listen(&(aw_listen_opts){.reuseport = 1, .handler = pong_handler}, &a), 0);
    int port = aw_listener_port(a);
    cr_assert_eq(aw_listen(&(aw_listen_opts){.port = port, .reuseport = 1, .handler = pong_handler},
                           &b),
                 0, "%s", aw_last_error());
    cr_assert_eq(aw_listen(&(aw_listen_opts){.port = port, .handler = pong_handler}, &c),
                 AW_EADDRINUSE);
    aw_listener_close(a);
    aw_listener_close(b);
    return 0;
}

Test(listener, reuseport_lets_two_listeners_share_a_port) { tu_run(reuseport_main, NULL); }

typedef struct cb_state {
    aw_stream *s;
    int inputs;
    char got[16];
} cb_state;

/* Callback mode: no task per connection until there is something to do. */
static void on_input(aw_stream *s, void *arg)
{
    cb_state *st = arg;
    st->inputs++;
    const char *p;
    size_t n = aw_stream_buffered(s);
    if (n) {
        /* peek without waiting: the bytes are there */
        aw_stream_peek(s, &p, 0);
        memcpy(st->got, p, n < 15 ? n : 15);
        aw_stream_consume(s, n);
    }
}

static void on_accept(aw_listener *l, aw_stream *s, void *arg)
{
    (void)l;
    cb_state *st = arg;
    st->s = s;
    aw_stream_on_input(s, on_input, st);
}

static int callback_main(void *arg)
{
    (void)arg;
    cb_state st = {0};
    aw_listener *l;
    cr_assert_eq(aw_listen(&(aw_listen_opts){.on_accept = on_accept, .arg = &st}, &l), 0);
    aw_stream *s;
    cr_assert_eq(aw_open_connection("127.0.0.1", aw_listener_port(l), NULL, &s), 0);
    aw_sleep(20);
    cr_assert_not_null(st.s);
    cr_assert_eq(st.inputs, 0);
    aw_stream_write(s, "hello", 5, 1000);
    aw_sleep(20);
    cr_assert_eq(st.inputs, 1);
    cr_assert_str_eq(st.got, "hello");
    aw_stream_close(s);
    aw_sleep(20);
    cr_assert_eq(st.inputs, 2, "the end of the stream is reported too");
    cr_assert_eq(aw_stream_read_error(st.s), AW_EOF);
    aw_stream_abort(st.s);
    aw_listener_close(l);
    return 0;
}

Test(listener, callback_mode_reports_input_and_the_end_without_a_task) { tu_run(callback_main, NULL); }
