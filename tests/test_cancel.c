/* Cancellation: from every kind of wait, promptly, and sticky afterwards. */
#include <unistd.h>

#include "testutil.h"

TestSuite(cancel, .timeout = 30, .fini = tu_fini);

enum { SLEEP, LOCK, SEM, EVENT, QGET, QPUT, JOIN, THREAD, COND, NKINDS };
static const char *kind_names[] = {"sleep",     "lock", "semaphore", "event",    "queue get",
                                   "queue put", "join", "to_thread", "condition"};

typedef struct {
    int kind;
    aw_lock *lock;
    aw_sem *sem;
    aw_event *ev;
    aw_queue *q;
    aw_cond *cond;
    int rc;
    int later[4]; /* what later awaits returned */
    int64_t woke_at;
} victim;

static int blocker(void *arg)
{
    (void)arg;
    return aw_sleep(60000);
}

static void *slow_thread(void *arg)
{
    usleep(300 * 1000);
    return arg;
}

static int victim_fn(void *arg)
{
    victim *v = arg;
    void *item;
    switch (v->kind) {
    case SLEEP: v->rc = aw_sleep(60000); break;
    case LOCK: v->rc = aw_lock_acquire(v->lock, AW_FOREVER); break;
    case SEM: v->rc = aw_sem_acquire(v->sem, AW_FOREVER); break;
    case EVENT: v->rc = aw_event_wait(v->ev, AW_FOREVER); break;
    case QGET: v->rc = aw_queue_get(v->q, &item, AW_FOREVER); break;
    case QPUT: v->rc = aw_queue_put(v->q, &item, AW_FOREVER); break;
    case JOIN: v->rc = aw_join(aw_spawn(blocker, NULL)); break;
    case THREAD: v->rc = aw_to_thread(slow_thread, NULL, &item); break;
    case COND:
        aw_lock_acquire(v->lock, 100);
        v->rc = aw_cond_wait(v->cond, v->lock, AW_FOREVER);
        cr_assert(aw_lock_locked(v->lock), "the condition re-acquires the lock");
        aw_lock_release(v->lock);
        break;
    }
    v->woke_at = tu_ms();
    /* sticky: every later await fails the same way, even ones that would
     * not have to wait at all */
    aw_lock *free_lock = aw_lock_new();
    v->later[0] = aw_sleep(1);
    v->later[1] = aw_yield();
    v->later[2] = aw_lock_acquire(free_lock, 100);
    v->later[3] = aw_event_wait(v->ev, 100);
    aw_lock_free(free_lock);
    return v->rc;
}

static int cancel_main(void *arg)
{
    (void)arg;
    for (int k = 0; k < NKINDS; k++) {
        victim v = {.kind = k,
                    .lock = aw_lock_new(),
                    .sem = aw_sem_new(0),
                    .ev = aw_event_new(),
                    .q = aw_queue_new(1),
                    .cond = aw_cond_new()};
        if (k == LOCK)
            aw_lock_acquire(v.lock, 100); /* held by main */
        if (k == QPUT)
            aw_queue_put(v.q, NULL, 100); /* full */
        aw_task *t = aw_spawn(victim_fn, &v);
        aw_sleep(20);
        int64_t t0 = tu_ms();
        aw_cancel(t);
        cr_assert_eq(aw_join(t), AW_ECANCELED, "%s", kind_names[k]);
        cr_assert_eq(v.rc, AW_ECANCELED, "%s returned %d", kind_names[k], v.rc);
        cr_assert_lt(v.woke_at - t0, 20, "%s took %lld ms to notice", kind_names[k],
                     (long long)(v.woke_at - t0));
        for (int i = 0; i < 4; i++)
            cr_assert_eq(v.later[i], AW_ECANCELED, "%s: later await %d returned %d", kind_names[k],
                         i, v.later[i]);
        if (k == LOCK)
            aw_lock_release(v.lock);
        aw_lock_free(v.lock);
        aw_sem_free(v.sem);
        aw_event_free(v.ev);
        aw_queue_free(v.q);
        aw_cond_free(v.cond);
    }
    return 0;
}

Test(cancel, every_wait_returns_canceled_promptly_and_stays_canceled) { tu_run(cancel_main, NULL); }

/* A waiter that timed out or was cancelled has left the queue: the next
 * release goes to the one still waiting. */
static int take_lock(void *arg)
{
    int rc = aw_lock_acquire(arg, 5000);
    if (rc == 0)
        aw_lock_release(arg);
    return rc;
}

static int left_queue_main(void *arg)
{
    (void)arg;
    aw_lock *l = aw_lock_new();
    aw_lock_acquire(l, 100);
    aw_task *a = aw_spawn(take_lock, l);
    aw_task *b = aw_spawn(take_lock, l);
    aw_sleep(10);
    aw_cancel(a);
    aw_sleep(10);
    aw_lock_release(l);
    cr_assert_eq(aw_join(a), AW_ECANCELED);
    cr_assert_eq(aw_join(b), 0);
    cr_assert_not(aw_lock_locked(l));
    aw_lock_free(l);
    return 0;
}

Test(cancel, a_cancelled_waiter_leaves_the_queue) { tu_run(left_queue_main, NULL); }

static int self_cancel(void *arg)
{
    (void)arg;
    aw_cancel(aw_current_task());
    cr_assert(aw_cancelled());
    return aw_sleep(10);
}

Test(cancel, a_task_may_cancel_itself) { cr_assert_eq(aw_run(self_cancel, NULL), AW_ECANCELED); }
