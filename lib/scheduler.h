/* The job scheduler (aiojobs): fire-and-forget work, bounded and closable.
 *
 * aw_scheduler_spawn starts fn(arg) as a job. At most `limit` jobs run at once;
 * the rest wait in a pending queue of at most `pending_limit` (spawning past
 * it fails with AW_EFULL). A job that fails (negative status) while nobody
 * waits on it is reported to the exception handler. Closing cancels every job
 * and gives them `close_timeout` to unwind; aw_scheduler_wait_and_close lets
 * them finish first. The HTTP app owns one scheduler and closes it at shutdown.
 *
 * Lifetime: the scheduler is freed with aw_scheduler_free after it was closed
 * (free closes it if needed). A job handle (optional, from spawn) is consumed
 * by exactly one aw_job_wait or aw_job_close; without a handle the scheduler
 * owns the job outright.
 */
#ifndef AW_SCHEDULER_H
#define AW_SCHEDULER_H

#include <stddef.h>
#include <stdint.h>

#include "task.h"

typedef struct aw_scheduler aw_scheduler;
typedef struct aw_job aw_job;

/* Called for a job that failed with nobody waiting on it, and for jobs that
 * had not finished `close_timeout` after close (status AW_ETIMEDOUT). The job
 * pointer is only valid during the call. */
typedef void (*aw_job_exception_fn)(aw_scheduler *s, aw_job *job, int status, void *ctx);

typedef struct aw_scheduler_opts {
    size_t limit;                          /* active jobs at most; 0 = 100 */
    size_t pending_limit;                  /* queued jobs at most; 0 = 10,000 */
    int64_t close_timeout_ms;              /* 0 = 100 ms; AW_FOREVER allowed */
    aw_job_exception_fn exception_handler; /* NULL: log to stderr */
    void *ctx;                             /* passed to the handler */
} aw_scheduler_opts;

/* opts may be NULL for the defaults. NULL on memory exhaustion. */
aw_scheduler *aw_scheduler_new(const aw_scheduler_opts *opts);

/* Spawns a job; stores a handle in *job when job is not NULL. Returns 0,
 * AW_EFULL past pending_limit, AW_ECLOSED after close, AW_ENOMEM. */
int aw_scheduler_spawn(aw_scheduler *s, aw_task_fn fn, void *arg, aw_job **job);
int aw_scheduler_spawn_ex(aw_scheduler *s, aw_task_fn fn, void *arg, const aw_task_opts *opts,
                          aw_job **job);

size_t aw_scheduler_active(const aw_scheduler *s);
size_t aw_scheduler_pending(const aw_scheduler *s);
int aw_scheduler_closed(const aw_scheduler *s);

/* Cancels every job (pending ones never start) and waits up to close_timeout
 * for them to end; returns 0. Idempotent. */
int aw_scheduler_close(aw_scheduler *s);
/* Waits up to timeout_ms for every job, pending ones included, to finish, then
 * closes. Returns 0, or AW_ETIMEDOUT if it had to cancel jobs. */
int aw_scheduler_wait_and_close(aw_scheduler *s, int64_t timeout_ms);
void aw_scheduler_free(aw_scheduler *s);

/* Waits for the job and returns its status; on timeout the job is closed and
 * AW_ETIMEDOUT returned. If the waiting task is cancelled, it stops waiting
 * (AW_ECANCELED) and the job carries on. Consumes the handle. */
int aw_job_wait(aw_job *job, int64_t timeout_ms);
/* Cancels the job, waits up to the close timeout; returns its status.
 * Consumes the handle. */
int aw_job_close(aw_job *job);
int aw_job_active(const aw_job *job);
int aw_job_pending(const aw_job *job);

#endif
