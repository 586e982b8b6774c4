/* Wait queues for the synchronisation primitives (internal).
 *
 * A waiter node lives on the waiting task's stack. Wakers take the first node,
 * set what they hand over (an item, a status) and wake its task, which unlinks
 * the node; a task woken by timeout or cancellation unlinks itself the same
 * way, so a node in a queue always belongs to a task that still waits.
 */
#ifndef AW_WAITER_INT_H
#define AW_WAITER_INT_H

#include "error.h"
#include "rt_int.h"

typedef struct aw__waiter {
    aw__list link;
    aw_task *task;
    void *item; /* queues: the item handed over, either way */
    int status; /* what the waker says: 0, or AW_ECLOSED */
} aw__waiter;

/* Queues the current task on q and waits; returns 0 when handed what it
 * waited for (then w->status tells more), else AW_ETIMEDOUT / AW_ECANCELED. */
static inline int aw__wait_on(aw__list *q, aw__waiter *w, aw_task *t, uint64_t deadline,
                              int interruptible)
{
    w->task = t;
    w->status = 0;
    aw__list_insert_tail(q, &w->link);
    t->wait_link = &w->link;
    return aw__wait(t, deadline, interruptible);
}

/* Wakes the first waiter of q with `status`, if there is one. */
static inline aw__waiter *aw__wake_first(aw__list *q, int status)
{
    aw__list *n = aw__list_first(q);
    if (!n)
        return NULL;
    aw__waiter *w = aw__container_of(n, aw__waiter, link);
    w->status = status;
    aw__wake(w->task, 0);
    return w;
}

/* The current task, its loop, and the deadline of a wait of timeout_ms; or
 * the code the wait must return at once. */
static inline int aw__wait_prologue(aw_task **t, uint64_t *deadline, int64_t timeout_ms)
{
    aw__rt *rt = aw__rt_get();
    *t = aw__current();
    if (!*t)
        return AW_ENOTASK;
    *deadline = aw__op_deadline(rt, timeout_ms, rt->wait_timeout_ms);
    /* Only cancellation and the scope count here: an operation whose own
     * timeout is 0 still succeeds when it need not wait (aw__wait checks it). */
    return aw__timed_out(*t, AW__NO_DEADLINE);
}

void aw__sync_free_check(const aw__list *waiters, const char *what);

#endif
