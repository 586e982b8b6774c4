/* Lock, event, semaphore, condition and queue. */
#include "testutil.h"

TestSuite(sync, .timeout = 30, .fini = tu_fini);

/* --- lock ---------------------------------------------------------------- */

typedef struct {
    aw_lock *l;
    int inside, max_inside;
    int order[8], n;
} lock_state;

static int lock_worker(void *arg)
{
    lock_state *s = ((lock_state **)arg)[0];
    int id = (int)(intptr_t)((void **)arg)[1];
    cr_assert_eq(aw_lock_acquire(s->l, 1000), 0);
    s->order[s->n++] = id;
    if (++s->inside > s->max_inside)
        s->max_inside = s->inside;
    aw_sleep(5);
    s->inside--;
    aw_lock_release(s->l);
    return 0;
}

static int lock_main(void *arg)
{
    (void)arg;
    lock_state s = {.l = aw_lock_new()};
    void *args[5][2];
    aw_task *t[5];
    for (int i = 0; i < 5; i++) {
        args[i][0] = &s;
        args[i][1] = (void *)(intptr_t)i;
        t[i] = aw_spawn(lock_worker, args[i]);
    }
    cr_assert_eq(aw_gather(t, 5, NULL), 0);
    cr_assert_eq(s.max_inside, 1);
    for (int i = 0; i < 5; i++)
        cr_assert_eq(s.order[i], i, "waiters get the lock in FIFO order");
    cr_assert_eq(aw_lock_try_acquire(s.l), 0);
    cr_assert_eq(aw_lock_acquire(s.l, 10), AW_EDEADLK);
    cr_assert_eq(aw_lock_try_acquire(s.l), AW_EBUSY);
    aw_lock_release(s.l);
    aw_lock_free(s.l);
    return 0;
}

Test(sync, lock_excludes_and_hands_over_in_fifo_order) { tu_run(lock_main, NULL); }

static int take_lock_briefly(void *arg) { return aw_lock_acquire(arg, 30); }

static int lock_timeout_main(void *arg)
{
    (void)arg;
    aw_lock *l = aw_lock_new();
    aw_lock_acquire(l, 10);
    int64_t t0 = tu_ms();
    cr_assert_eq(aw_join(aw_spawn(take_lock_briefly, l)), AW_ETIMEDOUT);
    tu_assert_between(tu_ms() - t0, 25, 100);
    aw_lock_release(l);
    cr_assert_not(aw_lock_locked(l), "a timed-out waiter was handed the lock");
    aw_lock_free(l);
    return 0;
}

Test(sync, lock_acquire_times_out) { tu_run(lock_timeout_main, NULL); }

/* --- event --------------------------------------------------------------- */

static int wait_event(void *arg) { return aw_event_wait(arg, 1000); }

static int event_main(void *arg)
{
    (void)arg;
    aw_event *e = aw_event_new();
    aw_task *t[10];
    for (int i = 0; i < 10; i++)
        t[i] = aw_spawn(wait_event, e);
    aw_sleep(10);
    for (int i = 0; i < 10; i++)
        cr_assert_not(aw_task_done(t[i]));
    aw_event_set(e);
    int st[10];
    cr_assert_eq(aw_gather(t, 10, st), 0);
    cr_assert(aw_event_is_set(e));
    cr_assert_eq(aw_event_wait(e, 0), 0, "a set event does not wait");
    aw_event_clear(e);
    cr_assert_eq(aw_event_wait(e, 10), AW_ETIMEDOUT);
    aw_event_free(e);
    return 0;
}

Test(sync, event_wakes_every_waiter) { tu_run(event_main, NULL); }

/* --- semaphore ----------------------------------------------------------- */

typedef struct {
    aw_sem *s;
    int inside, max_inside;
} sem_state;

static int sem_worker(void *arg)
{
    sem_state *s = arg;
    cr_assert_eq(aw_sem_acquire(s->s, 1000), 0);
    if (++s->inside > s->max_inside)
        s->max_inside = s->inside;
    aw_sleep(3);
    s->inside--;
    aw_sem_release(s->s);
    return 0;
}

static int sem_main(void *arg)
{
    (void)arg;
    sem_state s = {.s = aw_sem_new(3)};
    aw_task *t[20];
    for (int i = 0; i < 20; i++)
        t[i] = aw_spawn(sem_worker, &s);
    cr_assert_eq(aw_gather(t, 20, NULL), 0);
    cr_assert_eq(s.max_inside, 3);
    cr_assert_eq(aw_sem_value(s.s), 3);
    for (int i = 0; i < 3; i++)
        cr_assert_eq(aw_sem_try_acquire(s.s), 0);
    cr_assert_eq(aw_sem_try_acquire(s.s), AW_EBUSY);
    cr_assert_eq(aw_sem_acquire(s.s, 10), AW_ETIMEDOUT);
    aw_sem_free(s.s);
    return 0;
}

Test(sync, semaphore_bounds_concurrency) { tu_run(sem_main, NULL); }

/* --- condition ----------------------------------------------------------- */

typedef struct {
    aw_lock *l;
    aw_cond *c;
    int items;
    int consumed;
} cond_state;

static int cond_consumer(void *arg)
{
    cond_state *s = arg;
    aw_lock_acquire(s->l, 1000);
    while (!s->items) {
        int rc = aw_cond_wait(s->c, s->l, 1000);
        cr_assert(aw_lock_locked(s->l));
        if (rc) {
            aw_lock_release(s->l);
            return rc;
        }
    }
    s->items--;
    s->consumed++;
    aw_lock_release(s->l);
    return 0;
}

static int cond_main(void *arg)
{
    (void)arg;
    cond_state s = {.l = aw_lock_new(), .c = aw_cond_new()};
    aw_task *t[4];
    for (int i = 0; i < 4; i++)
        t[i] = aw_spawn(cond_consumer, &s);
    aw_sleep(10);
    cr_assert_eq(s.consumed, 0);
    aw_lock_acquire(s.l, 100);
    s.items = 1;
    aw_cond_notify(s.c, 1);
    aw_lock_release(s.l);
    aw_sleep(10);
    cr_assert_eq(s.consumed, 1);
    aw_lock_acquire(s.l, 100);
    s.items = 3;
    aw_cond_notify_all(s.c);
    aw_lock_release(s.l);
    cr_assert_eq(aw_gather(t, 4, NULL), 0);
    cr_assert_eq(s.consumed, 4);
    /* a wait that times out still returns with the lock held */
    aw_lock_acquire(s.l, 100);
    cr_assert_eq(aw_cond_wait(s.c, s.l, 10), AW_ETIMEDOUT);
    cr_assert(aw_lock_locked(s.l));
    aw_lock_release(s.l);
    aw_cond_free(s.c);
    aw_lock_free(s.l);
    return 0;
}

Test(sync, condition_notifies_one_or_all) { tu_run(cond_main, NULL); }

/* --- queue --------------------------------------------------------------- */

static int producer(void *arg)
{
    aw_queue *q = arg;
    for (intptr_t i = 0; i < 100; i++)
        cr_assert_eq(aw_queue_put(q, (void *)i, 1000), 0);
    aw_queue_close(q);
    return 0;
}

static int queue_main(void *arg)
{
    (void)arg;
    aw_queue *q = aw_queue_new(3);
    aw_task *p = aw_spawn(producer, q);
    void *item;
    intptr_t expect = 0;
    int rc;
    while ((rc = aw_queue_get(q, &item, 1000)) == 0) {
        cr_assert_eq((intptr_t)item, expect, "items come out in order");
        cr_assert_leq(aw_queue_size(q), 3);
        expect++;
    }
    cr_assert_eq(rc, AW_ECLOSED);
    cr_assert_eq(expect, 100);
    cr_assert_eq(aw_join(p), 0);
    cr_assert_eq(aw_queue_put(q, NULL, 10), AW_ECLOSED);
    aw_queue_free(q);
    return 0;
}

Test(sync, queue_passes_items_in_order_and_close_ends_it) { tu_run(queue_main, NULL); }

static int put_one(void *arg) { return aw_queue_put(arg, (void *)1, AW_FOREVER); }
static int get_one(void *arg)
{
    void *item;
    return aw_queue_get(arg, &item, AW_FOREVER);
}

static int queue_bounds_main(void *arg)
{
    (void)arg;
    aw_queue *q = aw_queue_new(2);
    cr_assert_eq(aw_queue_capacity(q), 2);
    cr_assert_eq(aw_queue_try_put(q, (void *)1), 0);
    cr_assert_eq(aw_queue_try_put(q, (void *)2), 0);
    cr_assert_eq(aw_queue_try_put(q, (void *)3), AW_EFULL);
    cr_assert_eq(aw_queue_put(q, (void *)3, 20), AW_ETIMEDOUT);
    /* a blocked putter is let in by a get, keeping order */
    aw_task *p = aw_spawn(put_one, q);
    aw_sleep(5);
    cr_assert_not(aw_task_done(p));
    void *item;
    cr_assert_eq(aw_queue_try_get(q, &item), 0);
    cr_assert_eq((intptr_t)item, 1);
    cr_assert_eq(aw_join(p), 0);
    cr_assert_eq(aw_queue_size(q), 2);
    aw_queue_try_get(q, &item);
    cr_assert_eq((intptr_t)item, 2);
    aw_queue_try_get(q, &item);
    cr_assert_eq((intptr_t)item, 1);
    cr_assert_eq(aw_queue_try_get(q, &item), AW_EAGAIN);
    cr_assert_eq(aw_queue_get(q, &item, 20), AW_ETIMEDOUT);
    /* close wakes blocked getters and putters alike */
    aw_task *g1 = aw_spawn(get_one, q), *g2 = aw_spawn(get_one, q);
    aw_sleep(5);
    aw_queue_close(q);
    cr_assert_eq(aw_join(g1), AW_ECLOSED);
    cr_assert_eq(aw_join(g2), AW_ECLOSED);
    aw_queue_free(q);

    q = aw_queue_new(1);
    aw_queue_try_put(q, NULL);
    aw_task *p1 = aw_spawn(put_one, q);
    aw_sleep(5);
    aw_queue_close(q);
    cr_assert_eq(aw_join(p1), AW_ECLOSED);
    cr_assert_eq(aw_queue_get(q, &item, 10), 0, "what was queued before close drains");
    cr_assert_eq(aw_queue_get(q, &item, 10), AW_ECLOSED);
    aw_queue_free(q);
    cr_assert_null(aw_queue_new(0));
    return 0;
}

Test(sync, queue_is_bounded_and_close_wakes_everyone) { tu_run(queue_bounds_main, NULL); }
