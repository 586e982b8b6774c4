/* aweb: the umbrella header. Include <aweb/aweb.h> and link with
 * `pkg-config --libs aweb`.
 *
 * The task runtime: runtime.h (aw_run), task.h (tasks, cancellation, cleanup),
 * timeout.h (deadlines), group.h (groups, gather, shield), sync.h (lock, event,
 * semaphore, condition, queue), thread.h (aw_to_thread), ctxvar.h (context
 * variables), scheduler.h (jobs), error.h (codes).
 *
 * I/O: stream.h (aw_stream: TCP, Unix sockets, TLS), net.h (listening and
 * connecting), tls.h (TLS contexts). config.h: conf/aweb.conf and aw_config.
 * arena.h (memory freed at once), log.h (the error log).
 *
 * HTTP: app.h (applications, running them), request.h, response.h, headers.h.
 */
#ifndef AWEB_H
#define AWEB_H

#include "arena.h"
#include "config.h"
#include "ctxvar.h"
#include "error.h"
#include "group.h"
#include "log.h"
#include "net.h"
#include "runtime.h"
#include "scheduler.h"
#include "stream.h"
#include "sync.h"
#include "task.h"
#include "thread.h"
#include "timeout.h"
#include "tls.h"

/* HTTP */
#include "app.h"
#include "client.h"
#include "headers.h"
#include "request.h"
#include "response.h"
#include "testing.h"

/* WebSockets */
#include "ws.h"

/* middlewares and static files */
#include "middleware.h"

#endif
