/* Peers for the stream tests: see streampeers.h. */
#include "streampeers.h"

#include "testutil.h"

/* --- a server on its own thread ------------------------------------------ */

static int counted_handler(aw_stream *s, void *arg)
{
    tu_stream_server *sv = arg;
    int rc = sv->handler(s, arg);
    if (++sv->served == sv->connections)
        aw_event_set(sv->done);
    return rc;
}

static int server_main(void *arg)
{
    tu_stream_server *sv = arg;
    aw_listener *l;
    sv->done = aw_event_new();
    aw_listen_opts o = {
        .port = 0, .path = sv->path, .tls = sv->tls, .handler = counted_handler, .arg = sv};
    cr_assert_eq(aw_listen(&o, &l), 0, "listen: %s", aw_last_error());
    pthread_mutex_lock(&sv->mu);
    sv->port = aw_listener_port(l);
    sv->ready = 1;
    pthread_cond_signal(&sv->cv);
    pthread_mutex_unlock(&sv->mu);
    aw_event_wait(sv->done, 100000);
    aw_listener_close(l);
    aw_event_free(sv->done);
    return 0;
}

static void *server_thread(void *arg)
{
    aw_run(server_main, arg);
    return NULL;
}

void tu_stream_server_start(tu_stream_server *sv)
{
    pthread_mutex_init(&sv->mu, NULL);
    pthread_cond_init(&sv->cv, NULL);
    pthread_create(&sv->thread, NULL, server_thread, sv);
    pthread_mutex_lock(&sv->mu);
    while (!sv->ready)
        pthread_cond_wait(&sv->cv, &sv->mu);
    pthread_mutex_unlock(&sv->mu);
}

void tu_stream_server_join(tu_stream_server *sv) { pthread_join(sv->thread, NULL); }

/* --- a raw peer on the loop ---------------------------------------------- */

static void keep_accepted(aw_listener *l, aw_stream *s, void *arg)
{
    (void)l;
    tu_peer *p = arg;
    if (p->accepted)
        aw_stream_abort(p->accepted);
    p->accepted = s;
}

void tu_peer_start(tu_peer *p, const aw_stream_opts *so)
{
    aw_listen_opts o = {.on_accept = keep_accepted, .arg = p, .stream_opts = so};
    cr_assert_eq(aw_listen(&o, &p->l), 0);
    p->port = aw_listener_port(p->l);
}

void tu_peer_stop(tu_peer *p)
{
    if (p->accepted)
        aw_stream_abort(p->accepted);
    aw_listener_close(p->l);
}

int tu_open_handles(void)
{
    aw_yield();
    aw_yield();
    return (int)aw_open_handles();
}
