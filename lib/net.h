/* Listening and connecting: where streams come from.
 *
 * aw_listen opens a TCP (IPv4 or IPv6) or Unix socket listener, optionally
 * with TLS. Each accepted connection goes to a callback on the loop (servers
 * that keep idle connections without a task, like aweb's HTTP server) or to a
 * new task per connection. With max_connections set, the listener stops
 * accepting while that many of its connections are open (the rest wait in the
 * kernel's backlog), so it never runs out of file descriptors; if the process
 * does (EMFILE), libuv's reserve descriptor sheds the connection and the
 * listener goes on.
 *
 * aw_open_connection resolves a name (under the DNS timeout), tries each
 * address in turn (under the connect timeout for all of them together) and,
 * given a client TLS context, completes the handshake with SNI and
 * certificate and host-name verification.
 *
 * Lifetime: a listener is closed (and freed) with aw_listener_close; its
 * connections are not touched. Streams are the caller's (callback mode) or
 * closed when the handler returns (task mode).
 */
#ifndef AW_NET_H
#define AW_NET_H

#include <stddef.h>
#include <stdint.h>

#include "stream.h"

typedef struct aw_listener aw_listener;

/* Callback mode: runs on the loop; s is the callee's to close. */
typedef void (*aw_accept_cb)(aw_listener *l, aw_stream *s, void *arg);
/* Task mode: runs in a task of its own; the stream is closed after it returns. */
typedef int (*aw_connection_fn)(aw_stream *s, void *arg);

typedef struct aw_listen_opts {
    const char *host;          /* "127.0.0.1", "::", "0.0.0.0", "localhost"; NULL: "127.0.0.1" */
    int port;                  /* 0: any free port (see aw_listener_port) */
    const char *path;          /* a Unix socket path instead of host and port */
    int backlog;               /* 0: 511 */
    int reuseport;             /* SO_REUSEPORT, for several processes on one port */
    aw_tls_ctx *tls;           /* a server context: connections speak TLS */
    size_t max_connections;    /* 0: no limit of its own */
    const aw_stream_opts *stream_opts; /* defaults for accepted streams; must outlive them */
    aw_accept_cb on_accept;    /* one of on_accept ... */
    aw_connection_fn handler;  /* ... or handler */
    void *arg;
} aw_listen_opts;

/* Binds and listens. Returns 0, AW_EADDRINUSE, AW_EDNS, ... */
int aw_listen(const aw_listen_opts *o, aw_listener **out);

/* The bound port (useful after port 0), or 0 for a Unix socket. */
int aw_listener_port(const aw_listener *l);
/* Connections of this listener still open. */
size_t aw_listener_connections(const aw_listener *l);
/* Stops accepting and closes the listening socket (removing a Unix socket's
 * file); returns once closed. Open connections go on. Frees l. */
int aw_listener_close(aw_listener *l);

typedef struct aw_connect_opts {
    const aw_stream_opts *stream_opts; /* timeouts of the new stream; must outlive it */
    aw_tls_ctx *tls;                   /* a client context: start TLS */
    const char *server_name;           /* for SNI and verification; NULL: the host */
    const struct addrinfo *addrs;      /* already resolved (a DNS cache's): host is then
                                          only the name for TLS and messages */
} aw_connect_opts;

struct addrinfo;

/* Resolves host:port for TCP under timeout_ms (AW_DEFAULT: 5 s). Returns 0
 * and a list to release with aw_freeaddrinfo, or AW_EDNS / AW_ETIMEDOUT /
 * AW_ECANCELED with details in aw_last_error(). */
int aw_resolve(const char *host, int port, int64_t timeout_ms, struct addrinfo **res);
void aw_freeaddrinfo(struct addrinfo *res);

/* Connects to host:port. Returns 0, AW_ECONNREFUSED, AW_ETIMEDOUT, AW_EDNS,
 * AW_ECERT, AW_ETLS..., with details in aw_last_error(). */
int aw_open_connection(const char *host, int port, const aw_connect_opts *o, aw_stream **out);

/* Connects to a Unix socket. */
int aw_open_unix(const char *path, const aw_connect_opts *o, aw_stream **out);

#endif
