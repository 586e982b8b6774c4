/* aw_shield: work that the caller's cancellation does not reach. The shielded
 * task carries AW__TF_SHIELDED (inherited by what it spawns), which aw_run's
 * teardown respects: it waits for shielded work instead of cancelling it. */
#include "error.h"
#include "group.h"
#include "rt_int.h"

int aw_shield(aw_task_fn fn, void *arg)
{
    aw__rt *rt = aw__rt_get();
    aw_task *self = aw__current();
    if (!self)
        return AW_ENOTASK;
    int rc = aw__timed_out(self, AW__NO_DEADLINE);
    if (rc)
        return rc;
    aw_task *t = aw__spawn(rt, fn, arg, NULL);
    if (!t)
        return AW_ENOMEM;
    t->flags |= AW__TF_OWNED | AW__TF_SHIELDED;
    t->cancelled = 0; /* even during aw_run's teardown */
    t->joiner = self;
    rc = aw__wait(self, AW__NO_DEADLINE, 1);
    if (t->state == AW__T_DONE) {
        int status = t->status;
        aw__task_free(rt, t);
        return status;
    }
    /* The caller stops waiting; the work goes on, and the loop frees it. */
    t->joiner = NULL;
    t->flags |= AW__TF_DETACHED;
    return rc;
}
