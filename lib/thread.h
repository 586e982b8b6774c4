/* Running blocking or CPU-heavy work on libuv's thread pool
 * (asyncio.to_thread / run_in_executor).
 *
 * aw_to_thread(fn, arg, &result) runs fn(arg) on a pool thread while the task
 * waits, then stores fn's return value in *result. fn must not call aweb's
 * task functions. If the task is cancelled or its scope ends first, the call
 * returns AW_ECANCELED / AW_ETIMEDOUT at once: work not yet started is
 * dropped, work already running runs to its end on its thread (its result is
 * discarded), so `arg` must then stay valid without the caller, e.g. be
 * allocated rather than on the caller's stack. The loop does not close before
 * such work has finished. The pool has UV_THREADPOOL_SIZE threads (default 4).
 */
#ifndef AW_THREAD_H
#define AW_THREAD_H

#include <stdint.h>

typedef void *(*aw_thread_fn)(void *arg);

/* Returns 0, AW_ECANCELED, AW_ETIMEDOUT, AW_ENOTASK, AW_ENOMEM. No timeout
 * of its own: the work's length is the caller's to know (wrap it in a scope). */
int aw_to_thread(aw_thread_fn fn, void *arg, void **result);

#endif
