/* Running the loop: aw_run, aweb's asyncio.run.
 *
 * aw_run() makes a libuv loop for the calling thread, runs `main` as the first
 * task, and when main returns cancels and reaps every task it left behind
 * (tasks running under aw_shield are waited for, not cancelled), closes the
 * loop and returns main's status. One loop per thread; aw_run does not nest.
 * It sets SIGPIPE to be ignored (if it was at its default), so that writing
 * to a peer that hung up fails with AW_EPIPE instead of killing the process.
 *
 * Debug mode (AW_DEBUG=1 in the environment, or opts.debug = 1) reports task
 * steps that hold the loop longer than slow_step_ms, tasks that finished or
 * were dropped without being joined, objects never closed, and each task
 * name's stack high-water mark at exit, all on stderr.
 */
#ifndef AW_RUNTIME_H
#define AW_RUNTIME_H

#include <stddef.h>
#include <stdint.h>

#include "task.h"

typedef struct aw_run_opts {
    size_t stack_size;       /* default task stack (virtual) size; 0 = 64 KiB */
    int64_t wait_timeout_ms; /* what AW_DEFAULT means for runtime waits; 0 = 60 s */
    int debug;               /* 0 = from AW_DEBUG, 1 = on, -1 = off */
    int64_t slow_step_ms;    /* debug: warn about steps longer than this; 0 = 100 ms */
    int64_t pool_trim_ms;    /* how often pooled stacks and buffers that went unused
                                are released; 0 = 10 s */
} aw_run_opts;

/* Runs main(arg) as a task on a new loop in this thread; returns its status,
 * or AW_EBUSY if this thread already runs a loop, AW_ENOMEM. */
int aw_run(aw_task_fn main, void *arg);
int aw_run_ex(aw_task_fn main, void *arg, const aw_run_opts *opts);

/* The running loop of this thread (a uv_loop_t), or NULL outside aw_run. */
struct uv_loop_s *aw_loop(void);

/* The loop's clock in milliseconds (libuv's cached loop time). */
uint64_t aw_now(void);

/* Whether debug mode is on for this thread's loop. */
int aw_debug_enabled(void);

/* Runs fn(arg) when this thread's loop ends (after every task), latest
 * registered first: for per-thread caches of the layers above (a zlib
 * stream, a pool). Returns 0, AW_ENOTASK outside aw_run, AW_ENOMEM. */
int aw_at_loop_exit(void (*fn)(void *), void *arg);

/* libuv handles of this loop that are open, not counting the runtime's own:
 * streams, listeners, timers a program made. A leak check for tests. */
size_t aw_open_handles(void);

#endif
