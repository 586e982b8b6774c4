/* aw_event: a flag that tasks wait for. */
#include <stdlib.h>

#include "sync.h"
#include "waiter_int.h"

struct aw_event {
    int set;
    aw__list waiters;
};

aw_event *aw_event_new(void)
{
    aw_event *e = calloc(1, sizeof *e);
    if (e)
        aw__list_init(&e->waiters);
    return e;
}

void aw_event_free(aw_event *e)
{
    if (!e)
        return;
    aw__sync_free_check(&e->waiters, "event");
    free(e);
}

void aw_event_set(aw_event *e)
{
    e->set = 1;
    while (aw__wake_first(&e->waiters, 0))
        ;
}

void aw_event_clear(aw_event *e) { e->set = 0; }

int aw_event_is_set(const aw_event *e) { return e->set; }

int aw_event_wait(aw_event *e, int64_t timeout_ms)
{
    aw_task *t;
    uint64_t deadline;
    int rc = aw__wait_prologue(&t, &deadline, timeout_ms);
    if (rc || e->set)
        return rc;
    aw__waiter w;
    return aw__wait_on(&e->waiters, &w, t, deadline, 1);
}
