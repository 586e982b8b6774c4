/* HTTP test helpers; see httpserver.h. */
#include "httpserver.h"
#include "testutil.h"

#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

static int tu_server_main(void *arg)
{
    tu_server *s = arg;
    int rc = aw_server_start(s->app, &s->cfg, &s->srv);
    if (rc) {
        s->failed = 1;
        __atomic_store_n(&s->ready, 1, __ATOMIC_RELEASE);
        return rc;
    }
    s->port = aw_server_port(s->srv, 0);
    __atomic_store_n(&s->ready, 1, __ATOMIC_RELEASE);
    /* the test thread asks to stop through a flag: checked every few ms */
    while (!__atomic_load_n(&s->stop, __ATOMIC_ACQUIRE)) {
        s->connections = aw_server_connections(s->srv);
        aw_sleep(5);
    }
    return aw_server_shutdown(s->srv);
}

static void *tu_server_thread(void *arg)
{
    aw_run(tu_server_main, arg);
    return NULL;
}

void tu_server_start(tu_server *s, aw_app *app, void (*tweak)(aw_config *))
{
    char err[256];
    memset(s, 0, sizeof *s);
    s->app = app;
    aw_config_init(&s->cfg);
    aw_config_set(&s->cfg, "server", "listen", "127.0.0.1:0", err, sizeof err);
    aw_config_set(&s->cfg, "log", "access_log", "off", err, sizeof err);
    if (tweak)
        tweak(&s->cfg);
    pthread_create(&s->thread, NULL, tu_server_thread, s);
    while (!__atomic_load_n(&s->ready, __ATOMIC_ACQUIRE))
        usleep(1000);
    cr_assert_not(s->failed, "the test server did not start");
}

void tu_server_stop(tu_server *s)
{
    __atomic_store_n(&s->stop, 1, __ATOMIC_RELEASE);
    pthread_join(s->thread, NULL);
    aw_config_free(&s->cfg);
    aw_app_free(s->app);
}

int tu_connect(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port),
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    cr_assert_eq(connect(fd, (struct sockaddr *)&a, sizeof a), 0, "connect to %d", port);
    return fd;
}

int tu_send(int fd, const void *data, size_t len)
{
    const char *p = data;
    while (len) {
        ssize_t n = send(fd, p, len, MSG_NOSIGNAL);
        if (n <= 0)
            return -1;
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

int tu_sends(int fd, const char *s) { return tu_send(fd, s, strlen(s)); }

ssize_t tu_recv_all(int fd, char *buf, size_t cap, int timeout_ms, int *closed)
{
    size_t n = 0;
    int64_t end = tu_ms() + timeout_ms;
    if (closed)
        *closed = 0;
    while (n < cap - 1) {
        int64_t left = end - tu_ms();
        struct pollfd p = {.fd = fd, .events = POLLIN};
        if (left <= 0 || poll(&p, 1, (int)left) <= 0)
            break;
        ssize_t r = recv(fd, buf + n, cap - 1 - n, 0);
        if (r <= 0) {
            if (closed)
                *closed = 1;
            break;
        }
        n += (size_t)r;
    }
    buf[n] = 0;
    return (ssize_t)n;
}

/* Whether text holds count complete responses (heads plus Content-Length
 * bodies). */
static int tu_complete(const char *text, size_t len, int count)
{
    const char *p = text, *end = text + len;
    for (int i = 0; i < count; i++) {
        const char *h = memmem(p, (size_t)(end - p), "\r\n\r\n", 4);
        if (!h)
            return 0;
        const char *cl = memmem(p, (size_t)(h - p), "Content-Length: ", 16);
        size_t body = cl ? (size_t)atol(cl + 16) : 0;
        p = h + 4 + body;
        if (p > end)
            return 0;
    }
    return 1;
}

ssize_t tu_recv_responses(int fd, char *buf, size_t cap, int count, int timeout_ms)
{
    size_t n = 0;
    int64_t end = tu_ms() + timeout_ms;
    while (n < cap - 1 && !tu_complete(buf, n, count)) {
        int64_t left = end - tu_ms();
        struct pollfd p = {.fd = fd, .events = POLLIN};
        if (left <= 0 || poll(&p, 1, (int)left) <= 0)
            break;
        ssize_t r = recv(fd, buf + n, cap - 1 - n, 0);
        if (r <= 0)
            break;
        n += (size_t)r;
        buf[n] = 0;
    }
    buf[n] = 0;
    return (ssize_t)n;
}

int tu_status(const char *text)
{
    int major, minor, status;
    return sscanf(text, "HTTP/%d.%d %d", &major, &minor, &status) == 3 ? status : -1;
}

int tu_count(const char *hay, const char *needle)
{
    int n = 0;
    size_t len = strlen(needle);
    for (const char *p = hay; (p = strstr(p, needle)); p += len)
        n++;
    return n;
}

int tu_shell(const char *cmd, char *out, size_t cap)
{
    FILE *f = popen(cmd, "r");
    size_t n = f ? fread(out, 1, cap - 1, f) : 0;
    out[n] = 0;
    int st = f ? pclose(f) : -1;
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}
