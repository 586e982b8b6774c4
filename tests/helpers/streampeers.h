/* Peers for the stream tests (test_stream*.c): a server on a loop of its own
 * in a second thread, so both cores work, and a raw peer on the test's own
 * loop that accepts and then does what the test says. */
#ifndef AW_STREAMPEERS_H
#define AW_STREAMPEERS_H

#include <pthread.h>
#include <stdint.h>

#include "aweb.h"

typedef struct tu_stream_server {
    /* set by the test */
    const char *path; /* Unix socket instead of TCP */
    aw_tls_ctx *tls;
    aw_connection_fn handler;
    int connections; /* how many to serve before stopping */
    /* set by the server */
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int port, ready, served;
    aw_event *done;
    unsigned char digest[32]; /* for the handler's use */
    uint64_t bytes;           /* likewise */
} tu_stream_server;

/* Starts the server thread; returns once it listens (sv->port is set). */
void tu_stream_server_start(tu_stream_server *sv);
/* Waits for the thread: it ends once it has served sv->connections. */
void tu_stream_server_join(tu_stream_server *sv);

typedef struct tu_peer {
    aw_listener *l;
    aw_stream *accepted; /* the last connection accepted (earlier ones are aborted) */
    int port;
} tu_peer;

/* Listens on 127.0.0.1, port 0, with stream options so (or the defaults). */
void tu_peer_start(tu_peer *p, const aw_stream_opts *so);
void tu_peer_stop(tu_peer *p);

/* Handles still open once pending close callbacks have run. */
int tu_open_handles(void);

#endif
