/* Connection floods against a server in a process of its own whose
 * file-descriptor limit is 256 (RLIMIT_NOFILE, as `ulimit -n 256`): past
 * max_connections, and past the descriptor limit. The server does not
 * crash or spin, a normal request is answered during the flood or right
 * after it (idle flood connections are cut at the header timeout), and when
 * the flood ends the connection count and the open descriptors come back to
 * where they were. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include "childserver.h"
#include "httpserver.h"
#include "testutil.h"

TestSuite(abuse_flood, .timeout = 60, .fini = tu_fini);

#define FLOOD 450

static aw_response *h_root(aw_request *req) { return aw_response_text(req, 200, "ok"); }

static aw_app *flood_app(void)
{
    aw_app *app = aw_app_new();
    aw_app_route(app, "GET", "/", h_root, NULL);
    return app;
}

static void fd_limit(aw_config *c)
{
    c->header_ms = 1000;
    c->keepalive_ms = 1000;
    c->backlog = 1024;
}

static void conn_limit(aw_config *c)
{
    fd_limit(c);
    c->max_connections = 100;
}

/* A connection that may fail (the server may be out of descriptors):
 * returns the socket or -1. */
static int try_connect(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0)
        return -1;
    struct sockaddr_in a = {.sin_family = AF_INET,
                            .sin_port = htons((uint16_t)port),
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    if (connect(fd, (struct sockaddr *)&a, sizeof a)) {
        close(fd);
        return -1;
    }
    return fd;
}

/* One GET; 1 if answered 200 within timeout_ms. */
static int ask(int port, int timeout_ms)
{
    int fd = try_connect(port);
    if (fd < 0)
        return 0;
    char buf[1024];
    int closed;
    tu_sends(fd, "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    tu_recv_all(fd, buf, sizeof buf, timeout_ms, &closed);
    close(fd);
    return tu_status(buf) == 200;
}

/* Asks until answered or ms pass; returns how long it took, or -1. */
static int64_t ask_until_answered(int port, int ms)
{
    int64_t t0 = tu_ms();
    while (tu_ms() - t0 < ms) {
        if (ask(port, 500))
            return tu_ms() - t0;
        usleep(20 * 1000);
    }
    return -1;
}

static void raise_own_fd_limit(void)
{
    struct rlimit rl;
    getrlimit(RLIMIT_NOFILE, &rl);
    if (rl.rlim_cur < FLOOD + 64) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    getrlimit(RLIMIT_NOFILE, &rl);
    cr_assert_geq(rl.rlim_cur, FLOOD + 64, "the test needs %d descriptors", FLOOD + 64);
}

/* Opens FLOOD connections that send nothing; returns how many connected. */
static int flood(int port, int *fds)
{
    int n = 0;
    for (int i = 0; i < FLOOD; i++)
        if ((fds[i] = try_connect(port)) >= 0)
            n++;
    return n;
}

static void unflood(int *fds)
{
    for (int i = 0; i < FLOOD; i++)
        if (fds[i] >= 0)
            close(fds[i]);
}

static void recovers(tu_child *c, int fds0)
{
    cr_assert_eq(tu_child_wait_connections(c, 0, 3000), 0, "connections stayed open: %zu",
                 tu_child_connections(c));
    int fds = 0;
    for (int64_t end = tu_ms() + 3000; tu_ms() < end; usleep(10000))
        if ((fds = tu_child_open_fds(c)) <= fds0)
            break;
    cr_assert_leq(fds, fds0, "the server has %d descriptors open, %d before the flood", fds, fds0);
    for (int i = 0; i < 20; i++)
        cr_assert(ask(c->port, 1000), "request %d after the flood was not answered", i);
}

Test(abuse_flood, past_the_descriptor_limit_the_server_keeps_serving_and_recovers)
{
    raise_own_fd_limit();
    tu_child c;
    tu_child_start(&c, flood_app, fd_limit, 256);
    cr_assert(ask(c.port, 1000));
    int fds0 = tu_child_open_fds(&c);
    static int fds[FLOOD];
    int n = flood(c.port, fds);
    cr_assert_eq(n, FLOOD, "only %d flood connections connected", n);
    /* the server holds what its descriptors allow (the rest are shed by
     * libuv's EMFILE handling or wait in the backlog) */
    usleep(200 * 1000);
    size_t held = tu_child_connections(&c);
    cr_assert_leq(held, 256);
    /* idle flood connections go at the header timeout: a normal request is
     * answered soon after, while the flood is still connected */
    int64_t took = ask_until_answered(c.port, 4000);
    cr_log_info("descriptor flood: %d connected, the server held %zu, a normal request was "
                "answered after %lld ms",
                n, held, (long long)took);
    cr_assert_geq(took, 0, "no normal request was answered during the flood");
    unflood(fds);
    recovers(&c, fds0);
    cr_assert_eq(tu_child_stop(&c), 0);
}

Test(abuse_flood, past_max_connections_the_rest_wait_and_the_server_recovers)
{
    raise_own_fd_limit();
    tu_child c;
    tu_child_start(&c, flood_app, conn_limit, 256);
    cr_assert(ask(c.port, 1000));
    int fds0 = tu_child_open_fds(&c);
    static int fds[FLOOD];
    int n = flood(c.port, fds);
    cr_assert_eq(n, FLOOD, "only %d flood connections connected", n);
    size_t most = 0;
    for (int64_t end = tu_ms() + 300; tu_ms() < end; usleep(5000))
        if (tu_child_connections(&c) > most)
            most = tu_child_connections(&c);
    cr_assert_leq(most, 100, "the server held %zu connections, more than max_connections", most);
    cr_assert_geq(most, 90, "the server held only %zu connections", most);
    /* the flood drains 100 at a time, at the header timeout each */
    int64_t took = ask_until_answered(c.port, 8000);
    cr_log_info("connection flood: %d connected, the server held at most %zu, a normal request "
                "was answered after %lld ms",
                n, most, (long long)took);
    cr_assert_geq(took, 0, "no normal request was answered during the flood");
    unflood(fds);
    recovers(&c, fds0);
    cr_assert_eq(tu_child_stop(&c), 0);
}
