/* Context variables (Python's contextvars) for request ids in logs and traces.
 *
 * A variable is a static object; each task sees its own value. A spawned task
 * starts with a copy of its parent's values, so what a handler sets is seen by
 * the tasks it starts, and what they set is not seen back. Values are
 * pointers owned by whoever set them; they must outlive the tasks that read
 * them. Outside any task, get returns the default and set fails.
 *
 *     static aw_ctxvar request_id = AW_CTXVAR_INIT("request_id", NULL);
 *     aw_ctxvar_set(&request_id, id);
 *     const char *id = aw_ctxvar_get(&request_id);
 */
#ifndef AW_CTXVAR_H
#define AW_CTXVAR_H

typedef struct aw_ctxvar {
    const char *name;
    void *default_value;
} aw_ctxvar;

#define AW_CTXVAR_INIT(name, default_value)                                                        \
    {                                                                                              \
        (name), (default_value)                                                                    \
    }

/* The current task's value of v, or v's default. */
void *aw_ctxvar_get(const aw_ctxvar *v);

/* Sets v for the current task (and tasks it spawns from now on). Returns 0,
 * AW_ENOTASK, AW_ENOMEM. */
int aw_ctxvar_set(const aw_ctxvar *v, void *value);

#endif
