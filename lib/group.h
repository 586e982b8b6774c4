/* Structured concurrency: task groups, gather and shield.
 *
 * aw_group (asyncio.TaskGroup): spawn children into it, then aw_group_wait
 * waits for all of them. The first child that fails (returns a negative code
 * that is not the group's own cancellation) cancels its siblings, and its code
 * is what aw_group_wait returns. If the waiting task is cancelled or its scope
 * ends, every child is cancelled and waited for. aw_group_wait frees the group;
 * task handles from aw_group_spawn stay valid until then and must not be
 * joined (the group owns them).
 *
 * aw_gather joins tasks spawned by the caller, in order.
 *
 * aw_shield (asyncio.shield): runs fn(arg) in a task of its own that the
 * caller's cancellation and timeouts do not reach. If the caller is cancelled
 * it stops waiting at once (AW_ECANCELED) but the shielded work runs to its
 * end, and aw_run does not return before it has. This is how a handler makes
 * sure an "UPDATE ..." completes when the client hangs up.
 */
#ifndef AW_GROUP_H
#define AW_GROUP_H

#include <stddef.h>

#include "task.h"

typedef struct aw_group aw_group;

aw_group *aw_group_new(void);
/* NULL only on memory exhaustion. Spawning into a group that is already
 * cancelling gives a task that is cancelled before it runs. */
aw_task *aw_group_spawn(aw_group *g, aw_task_fn fn, void *arg);
aw_task *aw_group_spawn_ex(aw_group *g, aw_task_fn fn, void *arg, const aw_task_opts *opts);
/* Cancels every child (the group then returns AW_ECANCELED unless a child
 * failed first). */
void aw_group_cancel(aw_group *g);
/* Waits for every child; returns 0 or the first failure; frees g. */
int aw_group_wait(aw_group *g);
/* Children still running. */
size_t aw_group_running(const aw_group *g);

/* Joins n tasks in order, storing each status in statuses (may be NULL);
 * returns 0 or the first negative status by index. Consumes every handle. */
int aw_gather(aw_task **tasks, size_t n, int *statuses);

/* Runs fn(arg) shielded (see above); returns fn's status, or AW_ECANCELED /
 * AW_ETIMEDOUT when the caller stopped waiting. */
int aw_shield(aw_task_fn fn, void *arg);

#endif
