/* Synchronisation between tasks of one loop: lock, event, semaphore,
 * condition and bounded queue (asyncio.Lock, Event, Semaphore, Condition,
 * Queue).
 *
 * Every waiting call takes a timeout in milliseconds (or AW_FOREVER /
 * AW_DEFAULT, see timeout.h), honours the task's timeout scope and
 * cancellation, and returns 0 or AW_ETIMEDOUT / AW_ECANCELED. Waiters are
 * served in FIFO order, and a released lock or semaphore unit, or a queued
 * item, is handed straight to the first waiter, so no latecomer can barge in.
 *
 * Lifetime: each object is made with _new and freed with _free by its owner;
 * freeing one that tasks still wait on is a bug (debug builds abort). These
 * objects are not thread-safe: use them from tasks of one loop.
 */
#ifndef AW_SYNC_H
#define AW_SYNC_H

#include <stddef.h>
#include <stdint.h>

/* Lock (mutex). Not re-entrant; only the owner may release. */
typedef struct aw_lock aw_lock;
aw_lock *aw_lock_new(void);
void aw_lock_free(aw_lock *l);
int aw_lock_acquire(aw_lock *l, int64_t timeout_ms);
int aw_lock_try_acquire(aw_lock *l); /* 0 or AW_EBUSY */
void aw_lock_release(aw_lock *l);
int aw_lock_locked(const aw_lock *l);

/* Event: a flag tasks can wait for. */
typedef struct aw_event aw_event;
aw_event *aw_event_new(void);
void aw_event_free(aw_event *e);
void aw_event_set(aw_event *e); /* wakes every waiter */
void aw_event_clear(aw_event *e);
int aw_event_is_set(const aw_event *e);
int aw_event_wait(aw_event *e, int64_t timeout_ms);

/* Counting semaphore. */
typedef struct aw_sem aw_sem;
aw_sem *aw_sem_new(unsigned value);
void aw_sem_free(aw_sem *s);
int aw_sem_acquire(aw_sem *s, int64_t timeout_ms);
int aw_sem_try_acquire(aw_sem *s); /* 0 or AW_EBUSY */
void aw_sem_release(aw_sem *s);
unsigned aw_sem_value(const aw_sem *s);

/* Condition variable over an aw_lock. aw_cond_wait releases the lock, waits
 * for a notify, and re-acquires the lock before returning, whatever it
 * returns (timeouts and cancellation included). */
typedef struct aw_cond aw_cond;
aw_cond *aw_cond_new(void);
void aw_cond_free(aw_cond *c);
int aw_cond_wait(aw_cond *c, aw_lock *l, int64_t timeout_ms);
void aw_cond_notify(aw_cond *c, unsigned n);
void aw_cond_notify_all(aw_cond *c);

/* Bounded FIFO queue of pointers. aw_queue_close() wakes everyone: puts then
 * fail with AW_ECLOSED, gets drain what is left and then fail with AW_ECLOSED. */
typedef struct aw_queue aw_queue;
aw_queue *aw_queue_new(size_t capacity); /* capacity >= 1 */
void aw_queue_free(aw_queue *q);
int aw_queue_put(aw_queue *q, void *item, int64_t timeout_ms);
int aw_queue_get(aw_queue *q, void **item, int64_t timeout_ms);
int aw_queue_try_put(aw_queue *q, void *item);  /* 0, AW_EFULL, AW_ECLOSED */
int aw_queue_try_get(aw_queue *q, void **item); /* 0, AW_EAGAIN, AW_ECLOSED */
void aw_queue_close(aw_queue *q);
size_t aw_queue_size(const aw_queue *q);
size_t aw_queue_capacity(const aw_queue *q);

#endif
