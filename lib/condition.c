/* aw_cond: a condition variable over an aw_lock. */
#include <stdio.h>
#include <stdlib.h>

#include "sync.h"
#include "waiter_int.h"

struct aw_cond {
    aw__list waiters;
};

void aw__lock_acquire_nointr(aw_lock *l, aw_task *t);

aw_cond *aw_cond_new(void)
{
    aw_cond *c = calloc(1, sizeof *c);
    if (c)
        aw__list_init(&c->waiters);
    return c;
}

void aw_cond_free(aw_cond *c)
{
    if (!c)
        return;
    aw__sync_free_check(&c->waiters, "condition");
    free(c);
}

int aw_cond_wait(aw_cond *c, aw_lock *l, int64_t timeout_ms)
{
    aw_task *t;
    uint64_t deadline;
    int rc = aw__wait_prologue(&t, &deadline, timeout_ms);
    if (rc == AW_ENOTASK)
        return rc;
    if (!rc) {
        aw_lock_release(l);
        aw__waiter w;
        rc = aw__wait_on(&c->waiters, &w, t, deadline, 1);
        /* The caller's code after the wait runs under the lock whatever
         * happened, as it would after any return from here. */
        aw__lock_acquire_nointr(l, t);
    }
    return rc;
}

void aw_cond_notify(aw_cond *c, unsigned n)
{
    while (n-- && aw__wake_first(&c->waiters, 0))
        ;
}

void aw_cond_notify_all(aw_cond *c)
{
    while (aw__wake_first(&c->waiters, 0))
        ;
}
