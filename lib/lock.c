/* aw_lock: a FIFO mutex with direct hand-off to the first waiter. */
#include <stdio.h>
#include <stdlib.h>

#include "sync.h"
#include "waiter_int.h"

struct aw_lock {
    aw_task *owner; /* NULL when free */
    aw__list waiters;
};

aw_lock *aw_lock_new(void)
{
    aw_lock *l = calloc(1, sizeof *l);
    if (l)
        aw__list_init(&l->waiters);
    return l;
}

void aw__sync_free_check(const aw__list *waiters, const char *what)
{
    if (!aw__list_empty(waiters)) {
        fprintf(stderr, "aweb: %s freed while tasks wait on it\n", what);
        abort();
    }
}

void aw_lock_free(aw_lock *l)
{
    if (!l)
        return;
    aw__sync_free_check(&l->waiters, "lock");
    free(l);
}

/* Internal: the condition's re-acquire, which no timeout or cancel may end. */
void aw__lock_acquire_nointr(aw_lock *l, aw_task *t)
{
    if (!l->owner) {
        l->owner = t;
        return;
    }
    aw__waiter w;
    aw__wait_on(&l->waiters, &w, t, AW__NO_DEADLINE, 0);
}

int aw_lock_acquire(aw_lock *l, int64_t timeout_ms)
{
    aw_task *t;
    uint64_t deadline;
    int rc = aw__wait_prologue(&t, &deadline, timeout_ms);
    if (rc)
        return rc;
    if (l->owner == t)
        return AW_EDEADLK;
    if (!l->owner) {
        l->owner = t;
        return 0;
    }
    aw__waiter w;
    return aw__wait_on(&l->waiters, &w, t, deadline, 1);
}

int aw_lock_try_acquire(aw_lock *l)
{
    aw_task *t = aw__current();
    if (!t)
        return AW_ENOTASK;
    if (l->owner)
        return AW_EBUSY;
    l->owner = t;
    return 0;
}

void aw_lock_release(aw_lock *l)
{
    if (l->owner != aw__current()) {
        fprintf(stderr, "aweb: lock released by a task that does not hold it\n");
        abort();
    }
    /* Hand-off: the first waiter owns the lock before it even runs. */
    aw__waiter *w = aw__wake_first(&l->waiters, 0);
    l->owner = w ? w->task : NULL;
}

int aw_lock_locked(const aw_lock *l) { return l->owner != NULL; }
