/* A tour of the task runtime: a producer and consumers over a bounded queue, a
 * group fanning out work, a timeout scope and a job scheduler. Run it with
 * AW_DEBUG=1 to see debug mode's report. */
#include <aweb/aweb.h>
#include <stdio.h>

typedef struct {
    aw_queue *q;
    int id;
    int handled;
} consumer;

static int consume(void *arg)
{
    consumer *c = arg;
    void *item;
    int rc;
    while ((rc = aw_queue_get(c->q, &item, AW_FOREVER)) == 0) {
        aw_sleep(5); /* pretend to work */
        c->handled++;
        printf("consumer %d got item %d\n", c->id, (int)(intptr_t)item);
    }
    return rc == AW_ECLOSED ? 0 : rc;
}

static int square(void *arg)
{
    int *n = arg;
    aw_sleep(10 * *n);
    *n *= *n;
    return 0;
}

static int job(void *arg)
{
    printf("job %d runs\n", (int)(intptr_t)arg);
    return aw_sleep(20);
}

static int main_task(void *arg)
{
    (void)arg;
    /* producer / consumers */
    aw_queue *q = aw_queue_new(4);
    consumer c[3] = {{q, 1, 0}, {q, 2, 0}, {q, 3, 0}};
    aw_task *t[3];
    for (int i = 0; i < 3; i++)
        t[i] = aw_spawn(consume, &c[i]);
    for (intptr_t i = 0; i < 12; i++)
        aw_queue_put(q, (void *)i, 1000);
    aw_queue_close(q);
    aw_gather(t, 3, NULL);
    aw_queue_free(q);
    printf("consumers handled %d, %d and %d items\n", c[0].handled, c[1].handled, c[2].handled);

    /* a group */
    int n[4] = {1, 2, 3, 4};
    aw_group *g = aw_group_new();
    for (int i = 0; i < 4; i++)
        aw_group_spawn(g, square, &n[i]);
    int rc = aw_group_wait(g);
    printf("group: %s, squares %d %d %d %d\n", aw_strerror(rc), n[0], n[1], n[2], n[3]);

    /* a timeout scope */
    aw_timeout_push(50);
    rc = aw_sleep(1000);
    aw_timeout_pop();
    printf("sleep(1000) inside a 50 ms scope: %s\n", aw_err_name(rc));

    /* jobs */
    aw_scheduler *s = aw_scheduler_new(&(aw_scheduler_opts){.limit = 2});
    for (intptr_t i = 0; i < 5; i++)
        aw_scheduler_spawn(s, job, (void *)i, NULL);
    printf("jobs: %zu active, %zu pending\n", aw_scheduler_active(s), aw_scheduler_pending(s));
    aw_scheduler_wait_and_close(s, 1000);
    aw_scheduler_free(s);
    return 0;
}

int main(void) { return aw_run(main_task, NULL) == 0 ? 0 : 1; }
