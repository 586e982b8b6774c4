/* aw_sem: a counting semaphore with direct hand-off to the first waiter. */
#include <stdlib.h>

#include "sync.h"
#include "waiter_int.h"

struct aw_sem {
    unsigned value;
    aw__list waiters;
};

aw_sem *aw_sem_new(unsigned value)
{
    aw_sem *s = calloc(1, sizeof *s);
    if (s) {
        s->value = value;
        aw__list_init(&s->waiters);
    }
    return s;
}

void aw_sem_free(aw_sem *s)
{
    if (!s)
        return;
    aw__sync_free_check(&s->waiters, "semaphore");
    free(s);
}

int aw_sem_acquire(aw_sem *s, int64_t timeout_ms)
{
    aw_task *t;
    uint64_t deadline;
    int rc = aw__wait_prologue(&t, &deadline, timeout_ms);
    if (rc)
        return rc;
    if (s->value > 0) {
        s->value--;
        return 0;
    }
    aw__waiter w;
    return aw__wait_on(&s->waiters, &w, t, deadline, 1);
}

int aw_sem_try_acquire(aw_sem *s)
{
    if (s->value == 0)
        return AW_EBUSY;
    s->value--;
    return 0;
}

void aw_sem_release(aw_sem *s)
{
    if (!aw__wake_first(&s->waiters, 0))
        s->value++;
}

unsigned aw_sem_value(const aw_sem *s) { return s->value; }
