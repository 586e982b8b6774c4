/* Test utilities (aiohttp's TestServer and TestClient): serve an app on
 * 127.0.0.1, port 0, inside the calling task's loop, and make requests to it
 * in a few lines:
 *
 *     aw_test_server *ts;
 *     aw_test_server_start(app, NULL, &ts);
 *     aw_test_response r;
 *     aw_test_get(ts, "/hello/bob", &r);
 *     cr_assert_eq(r.status, 200);
 *     cr_assert_str_eq(r.body, "Hello, bob!");
 *     aw_test_response_free(&r);
 *     aw_test_server_stop(ts);
 *
 * Each request opens a connection of its own. The access log is off.
 */
#ifndef AW_TESTING_H
#define AW_TESTING_H

#include <sys/types.h>

#include "app.h"
#include "arena.h"
#include "config.h"
#include "headers.h"

typedef struct aw_test_server aw_test_server;

/* cfg: NULL for the defaults; its listen list and access log are replaced.
 * The config is copied. Returns 0 or the start-up error. */
int aw_test_server_start(aw_app *app, const aw_config *cfg, aw_test_server **out);
int aw_test_server_port(const aw_test_server *ts);
aw_server *aw_test_server_server(aw_test_server *ts);
/* Graceful shutdown, then frees ts. */
int aw_test_server_stop(aw_test_server *ts);

typedef struct aw_test_response {
    int status;
    aw_headers headers;
    const char *body; /* NUL-terminated */
    size_t body_len;
    aw_arena arena;
} aw_test_response;

/* headers: extra header lines, "Name: value\r\n..." or NULL. body may be NULL.
 * Returns 0 or a stream / protocol error. */
int aw_test_request(aw_test_server *ts, const char *method, const char *path,
                    const char *headers, const void *body, size_t body_len,
                    aw_test_response *out);
int aw_test_get(aw_test_server *ts, const char *path, aw_test_response *out);
void aw_test_response_free(aw_test_response *r);
const char *aw_test_header(const aw_test_response *r, const char *name);

#endif
