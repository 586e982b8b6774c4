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
 */
#ifndef AWEB_H
#define AWEB_H

#include "config.h"
#include "ctxvar.h"
#include "error.h"
#include "group.h"
#include "net.h"
#include "runtime.h"
#include "scheduler.h"
#include "stream.h"
#include "sync.h"
#include "task.h"
#include "thread.h"
#include "timeout.h"
#include "tls.h"

#endif
