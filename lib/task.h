/* Tasks: stackful coroutines on the loop.
 *
 * A task runs `int fn(void *arg)` on its own stack; whenever it waits (I/O, a
 * lock, a sleep) it suspends and the loop runs others. Tasks run one at a time
 * per loop, in FIFO order of readiness; a task is only ever resumed by the
 * loop, never from inside another task.
 *
 * Lifetime: aw_spawn returns a handle that must be consumed by exactly one
 * aw_join (or aw_wait_for, aw_gather), or the task must be started through a
 * group, aw_shield or a job scheduler, which own their tasks. Debug mode names
 * tasks that nobody joined. A handle stays valid until it is consumed.
 *
 * Return values: fn returns 0 or a positive value for success and a negative
 * AW_E* code for failure; aw_join hands that value back.
 *
 * Cancellation: aw_cancel(t) makes t's current wait (and every later one)
 * return AW_ECANCELED. It is sticky, so code that forgets one check still
 * unwinds. A task cancelled before its first step never runs fn.
 *
 * Cleanup: aw_defer(fn, arg) registers fn(arg) on the current task; it runs
 * when the task returns, whatever the path, latest registered first: the C
 * stand-in for `async with`.
 */
#ifndef AW_TASK_H
#define AW_TASK_H

#include <stddef.h>
#include <stdint.h>

typedef struct aw_task aw_task;
typedef int (*aw_task_fn)(void *arg);

typedef struct aw_task_opts {
    const char *name;  /* copied; NULL: "task-<id>" */
    size_t stack_size; /* 0: the loop's default (64 KiB) */
} aw_task_opts;

/* Starts fn(arg) as a new task (it runs once the current one waits or yields).
 * The new task inherits a copy of the caller's context variables. Returns NULL
 * outside aw_run or on memory exhaustion. */
aw_task *aw_spawn(aw_task_fn fn, void *arg);
aw_task *aw_spawn_ex(aw_task_fn fn, void *arg, const aw_task_opts *opts);

/* Waits until t has finished and returns its status; consumes the handle. If
 * the caller is cancelled or its timeout scope ends first, t is cancelled,
 * waited for, and the caller's AW_ECANCELED / AW_ETIMEDOUT is returned. */
int aw_join(aw_task *t);

/* aw_join bounded by `ms` (asyncio.wait_for): on expiry t is cancelled and
 * waited for, and AW_ETIMEDOUT is returned. */
int aw_wait_for(aw_task *t, int64_t ms);

/* Requests cancellation of t (see above). No effect on a finished task. */
void aw_cancel(aw_task *t);

/* Gives the loop to the other ready tasks and I/O; returns 0, or
 * AW_ECANCELED / AW_ETIMEDOUT as any wait would. */
int aw_yield(void);

/* The running task, or NULL when called from the loop outside any task. */
aw_task *aw_current_task(void);

/* Whether the current task has been cancelled. */
int aw_cancelled(void);

/* Names for logs and debug reports. aw_task_name returns the set name or
 * "task-<id>" (the latter in a buffer that the next call may reuse). */
int aw_task_set_name(aw_task *t, const char *name);
const char *aw_task_name(const aw_task *t);
uint64_t aw_task_id(const aw_task *t);

/* Whether t has finished (its status can then be joined without waiting). */
int aw_task_done(const aw_task *t);

/* Introspection: stores up to `cap` live tasks of this loop (finished ones not
 * yet joined included) into out and returns how many there are in all. */
size_t aw_all_tasks(aw_task **out, size_t cap);

/* Registers fn(arg) to run when the current task ends. Returns 0, AW_ENOTASK,
 * AW_ENOMEM (nothing registered). */
int aw_defer(void (*fn)(void *), void *arg);

/* For long-lived tasks that handle many units of work (a connection's
 * requests): aw_defer_depth() marks the cleanup stack, aw_defer_run_to(mark)
 * runs and removes what was registered since. */
size_t aw_defer_depth(void);
void aw_defer_run_to(size_t mark);

#endif
