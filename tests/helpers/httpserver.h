/* HTTP test helpers: an app served on its own thread (so a test's plain
 * sockets and external clients can talk to it), and raw-socket clients for
 * what well-behaved clients never send. */
#ifndef AW_TEST_HTTPSERVER_H
#define AW_TEST_HTTPSERVER_H

#include <pthread.h>
#include <stddef.h>
#include <sys/types.h>

#include "aweb.h"

typedef struct tu_server {
    aw_app *app;
    aw_config cfg;
    int port;
    pthread_t thread;
    volatile int stop, ready, failed;
    aw_server *srv;
    /* counters the server thread keeps (read them after stop, or loosely) */
    volatile size_t connections;
} tu_server;

/* Starts app on 127.0.0.1:0 in a new thread with cfg (NULL: defaults, access
 * log off). tweak(cfg) may adjust the configuration first. */
void tu_server_start(tu_server *s, aw_app *app, void (*tweak)(aw_config *));
/* Graceful shutdown and join; frees the app. */
void tu_server_stop(tu_server *s);

/* --- raw sockets --- */
int tu_connect(int port);
int tu_send(int fd, const void *data, size_t len);
int tu_sends(int fd, const char *s);
/* Reads until the peer closes or timeout_ms passes; returns the bytes read
 * (NUL-terminated in buf), and sets *closed when the peer closed. */
ssize_t tu_recv_all(int fd, char *buf, size_t cap, int timeout_ms, int *closed);
/* Reads until buf holds `count` complete responses with Content-Length
 * bodies, or the timeout. Returns the bytes read. */
ssize_t tu_recv_responses(int fd, char *buf, size_t cap, int count, int timeout_ms);
/* The status code of the first response in text, or -1. */
int tu_status(const char *text);
/* How many times needle occurs in hay. */
int tu_count(const char *hay, const char *needle);
/* Runs a shell command, captures stdout (and stderr if merged in the
 * command); returns its exit status. */
int tu_shell(const char *cmd, char *out, size_t cap);

#endif
