/* The task runtime's internals: the per-thread runtime, the task object and the
 * waiting protocol every primitive is built on.
 *
 * Who may resume a task: only the loop, from its own stack (aw__rt_step, called
 * from the check phase). A task that wakes another only queues it. So no task
 * ever runs inside another's step, and ready tasks run in FIFO order.
 *
 * The waiting protocol:
 *   1. the waiter links a node where its waker will find it and sets
 *      t->wait_link to that node (or leaves it NULL for libuv callbacks);
 *   2. aw__wait() suspends the task, with a deadline and interruptible or not;
 *   3. a waker calls aw__wake(t, 0); a deadline or aw_cancel() calls
 *      aw__wake(t, AW_ETIMEDOUT / AW_ECANCELED). The first wake wins, and it
 *      unlinks t->wait_link, so a waker never sees a waiter that already left.
 */
#ifndef AW_RT_INT_H
#define AW_RT_INT_H

#include <stdint.h>
#include <uv.h>

#include "coro_int.h"
#include "ctxvar.h"
#include "list_int.h"
#include "task.h"
#include "timeout.h"

#define AW__NO_DEADLINE UINT64_MAX
#define AW__TRIM_MS 10000

enum aw__task_state {
    AW__T_NEW,     /* spawned, queued, has no stack yet */
    AW__T_READY,   /* queued to run */
    AW__T_RUNNING, /* the current task */
    AW__T_WAITING, /* suspended in aw__wait */
    AW__T_DONE,    /* fn returned, cleanups ran, stack released */
};

enum aw__task_flags {
    AW__TF_JOINED = 1 << 0,   /* aw_join was called (the handle is consumed) */
    AW__TF_OWNED = 1 << 1,    /* a group, shield or job owns and reaps it */
    AW__TF_DETACHED = 1 << 2, /* nobody will look: freed by the loop once done */
    AW__TF_SHIELDED = 1 << 3, /* runs under aw_shield: aw_run's teardown spares it */
    AW__TF_STARTED = 1 << 4,  /* has run at least one step */
    AW__TF_INTR = 1 << 5,     /* the current wait may be ended by timeout or cancel */
    /* Giving back the stack pages a parked task no longer uses (stack.c).
     * aw__wait clears PARK_SEEN and PARK_TRIMMED each time it parks. */
    AW__TF_PARK_SEEN = 1 << 6,    /* parked when the last trim tick came */
    AW__TF_PARK_TRIMMED = 1 << 7, /* this wait's dead pages were given back */
    AW__TF_TRIM_AT_WAIT = 1 << 8, /* give them back when the task next parks */
};

typedef struct aw__stack aw__stack;

typedef struct aw__defer_entry {
    void (*fn)(void *);
    void *arg;
} aw__defer_entry;

#define AW__DEFER_INLINE 4
#define AW__SCOPE_INLINE 3

struct aw_task {
    aw__ctx ctx;
    aw__stack *stack;
    aw_task_fn fn;
    void *arg;
    int status;      /* fn's return value, once DONE */
    int wake_status; /* why the last wait ended */
    uint8_t state;
    uint8_t cancelled;
    uint16_t flags;
    uint32_t heap_idx; /* 1-based position in the deadline heap, 0 = not in it */
    uint64_t deadline; /* heap key while in the heap */
    struct aw_task *next_ready;
    aw__list all;        /* rt->tasks: every task not yet freed */
    aw__list sibling;    /* membership in an owner's list (group, scheduler) */
    aw__list *wait_link; /* node to unlink when woken by timeout or cancel */
    struct aw_task *joiner;
    void (*on_done)(struct aw_task *); /* owner's hook, runs when DONE */
    void *owner;
    size_t stack_size;
    /* timeout scopes: the effective deadline, and the ones pushed before it */
    uint64_t scope_deadline;
    uint32_t nscopes, scope_cap;
    uint64_t *scopes;
    uint64_t scope_inline[AW__SCOPE_INLINE];
    /* cleanup stack */
    uint32_t ndefer, defer_cap;
    aw__defer_entry *defers;
    aw__defer_entry defer_inline[AW__DEFER_INLINE];
    struct aw__ctxvals *vars;
    uint64_t id;
    char *name;             /* NULL: shown as "task-<id>" */
    void *asan_fake_stack;  /* ASan's fake stack of this fiber while switched out */
    uint64_t step_start_ns; /* debug mode: when the current step began */
    const char *park_sp;    /* aw__wait's frame while parked: the frames live above it */
};

typedef struct aw__rt {
    uv_loop_t loop;
    uv_check_t check; /* runs the ready queue after each poll */
    uv_idle_t idle;   /* active while tasks are ready, so poll does not block */
    uv_timer_t timer; /* armed to the earliest deadline in the heap */
    aw__ctx sched;    /* the loop's own context */
    aw_task *current;
    aw_task *ready_head, *ready_tail;
    /* deadlines of waiting tasks: a binary min-heap on t->deadline */
    aw_task **heap;
    uint32_t heap_len, heap_cap;
    uint64_t timer_due;
    aw__list tasks;      /* every task not yet freed */
    size_t nlive;        /* tasks not yet done */
    /* Pools of task objects, stacks and I/O buffers. They have no fixed size:
     * the trim timer releases, every AW__TRIM_MS, what stayed unused through
     * the whole interval (the low-water mark of each free list). */
    aw_task *free_tasks; /* recycled task objects, linked through next_ready */
    size_t nfree_tasks, low_tasks;
    aw__stack *free_stacks;
    size_t nfree_stacks, low_stacks;
    union aw__freebuf *free_bufs; /* buf.c */
    size_t nfree_bufs, low_bufs;
    uv_timer_t trim;
    size_t stack_size;
    int64_t wait_timeout_ms;
    uint64_t next_id;
    int debug;
    uint64_t slow_step_ms;
    int teardown; /* aw_run is cancelling what main left behind */
    aw_task *main;
    const void *sched_stack_bottom; /* ASan: the loop stack's bounds */
    size_t sched_stack_size;
    void *sched_fake_stack;
    struct aw__debug_state *dbg;
    void *altstack;
    struct aw__exit_hook *exit_hooks; /* aw_at_loop_exit */
} aw__rt;

extern __thread aw__rt *aw__rt_tls;

static inline aw__rt *aw__rt_get(void) { return aw__rt_tls; }
static inline aw_task *aw__current(void) { return aw__rt_tls ? aw__rt_tls->current : NULL; }
static inline uint64_t aw__now(aw__rt *rt) { return uv_now(&rt->loop); }

/* runtime.c: queueing and switching */
void aw__ready_push(aw__rt *rt, aw_task *t);
void aw__suspend(aw__rt *rt, aw_task *t);
int aw__wait(aw_task *t, uint64_t deadline, int interruptible);
void aw__wake(aw_task *t, int status);
int aw__timed_out(aw_task *t, uint64_t op_deadline);

/* task.c: lifecycle */
aw_task *aw__spawn(aw__rt *rt, aw_task_fn fn, void *arg, const aw_task_opts *opts);
/* For the layers above (a server's connection tasks): a task nobody joins,
 * freed by the loop when it ends. Its owner must track and cancel it. */
aw_task *aw__spawn_detached(aw_task_fn fn, void *arg, const aw_task_opts *opts);
void aw__task_finish(aw__rt *rt, aw_task *t);
void aw__task_free(aw__rt *rt, aw_task *t);
void aw__task_trim(aw__rt *rt, size_t n);
const char *aw__task_name(const aw_task *t, char *buf, size_t len);
void aw__defer_run_all(aw_task *t);

/* timeout.c: the deadline heap and scopes */
void aw__heap_insert(aw__rt *rt, aw_task *t, uint64_t deadline);
void aw__heap_remove(aw__rt *rt, aw_task *t);
void aw__timer_cb(uv_timer_t *timer);
uint64_t aw__op_deadline(aw__rt *rt, int64_t timeout_ms, int64_t default_ms);
void aw__scopes_free(aw_task *t);

/* stack.c: pooled, guarded stacks and the overflow report */
aw__stack *aw__stack_get(aw__rt *rt, size_t size);
void aw__stack_put(aw__rt *rt, aw__stack *s);
void *aw__stack_lo(const aw__stack *s);
size_t aw__stack_size(const aw__stack *s);
int aw__stack_check(aw__rt *rt, aw_task *t);
size_t aw__stack_used(const aw__stack *s);
void aw__stack_pool_free(aw__rt *rt);
void aw__stack_trim(aw__rt *rt, size_t n);
void aw__stack_release_below(aw__rt *rt, aw__stack *s, const char *sp);
/* task.c: what parked tasks do not use of their stacks */
void aw__task_park_trim(aw__rt *rt);
/* Asks that the running task's dead stack pages be given back when it next
 * parks: for a task about to wait long after deep work (an upgraded
 * WebSocket after its handshake). One system call, then. */
void aw__task_trim_at_next_wait(void);
int aw__overflow_handler_install(aw__rt *rt);
void aw__overflow_handler_remove(aw__rt *rt);

/* arena.c: the thread's pool of arena chunks */
void aw__arena_pool_trim(void);

/* ctxvar.c */
struct aw__ctxvals *aw__ctxvals_ref(struct aw__ctxvals *v);
void aw__ctxvals_unref(struct aw__ctxvals *v);

/* debug.c: AW_DEBUG=1 */
void aw__debug_init(aw__rt *rt);
void aw__debug_step(aw__rt *rt, aw_task *t, uint64_t ns);
void aw__debug_task_done(aw__rt *rt, aw_task *t);
void aw__debug_report(aw__rt *rt);
void aw__debug_free(aw__rt *rt);

#endif
