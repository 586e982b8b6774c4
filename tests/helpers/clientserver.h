/* The server side of the HTTP client tests (test_client*.c): an app served
 * on a thread of its own while the test's main runs in a loop of the test's
 * thread, URLs on it, and a GET that returns the body as text. */
#ifndef AW_TEST_CLIENTSERVER_H
#define AW_TEST_CLIENTSERVER_H

#include "aweb.h"

/* A new app that answers GET /port with the client's address and port: one
 * port, one connection. The test adds its own routes. */
aw_app *tu_client_app(void);

/* Serves app (tweak adjusts its configuration, may be NULL) on 127.0.0.1
 * port 0, points tu_url() at it under scheme_host ("http://127.0.0.1",
 * "https://localhost") and runs main_fn under aw_run; then stops the server
 * (and frees the app). */
void tu_serve_and_run(aw_app *app, int (*main_fn)(void *), void (*tweak)(aw_config *),
                      const char *scheme_host);

/* Points tu_url() at scheme_host:port, for servers that are not an aweb
 * app. */
void tu_url_set_base(const char *scheme_host, int port);

/* The base and path as one URL, in one of eight buffers used in turn. */
const char *tu_url(const char *path);

/* GETs path with c and asserts it succeeds; returns the body (malloc'd, the
 * caller frees it) and, when status is not NULL, the status there. */
char *tu_get_text(aw_client *c, const char *path, int *status);

#endif
