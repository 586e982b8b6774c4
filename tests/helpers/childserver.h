/* A test server in a process of its own, for the abuse tests: its memory
 * (RSS and peak), open descriptors and file-descriptor limit are its own, so
 * they can be measured and squeezed without touching the test process.
 *
 *     tu_child c;
 *     tu_child_start(&c, make_app, tweak, 256);   // RLIMIT_NOFILE 256
 *     ... talk to 127.0.0.1:c.port ...
 *     cr_assert_lt(tu_child_rss(&c), limit);
 *     cr_assert_eq(tu_child_stop(&c), 0);          // SIGTERM, graceful, exit 0
 *
 * The app is built in the child (make_app runs after the fork), so the test
 * process owns nothing of it. The child's connection counters are shared
 * memory, refreshed every few milliseconds.
 */
#ifndef AW_TEST_CHILDSERVER_H
#define AW_TEST_CHILDSERVER_H

#include <stddef.h>
#include <sys/types.h>

#include "aweb.h"

typedef struct tu_child_shared {
    volatile int ready, failed, port;
    volatile size_t connections, active;
} tu_child_shared;

typedef struct tu_child {
    pid_t pid;
    int port;
    tu_child_shared *sh;
} tu_child;

/* Forks a server for make_app() on 127.0.0.1:0 (access log off), with
 * tweak(cfg) applied (may be NULL) and, if nofile > 0, RLIMIT_NOFILE set to
 * it first. Asserts that it started within 5 s. */
void tu_child_start(tu_child *c, aw_app *(*make_app)(void), void (*tweak)(aw_config *), int nofile);
size_t tu_child_connections(const tu_child *c);
/* From /proc/PID/status: VmRSS and VmHWM (peak), in bytes. */
size_t tu_child_rss(const tu_child *c);
size_t tu_child_peak_rss(const tu_child *c);
/* Entries in /proc/PID/fd. */
int tu_child_open_fds(const tu_child *c);
/* Waits up to ms for the connection count to satisfy (count <= max);
 * returns the last count seen. */
size_t tu_child_wait_connections(const tu_child *c, size_t max, int ms);
/* SIGTERM, then waits up to 10 s (SIGKILL after). Returns the exit status
 * (0 after a graceful shutdown), or -1 if it had to be killed or crashed. */
int tu_child_stop(tu_child *c);

#endif
