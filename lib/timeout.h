/* Deadlines: per-operation timeouts and nested timeout scopes.
 *
 * Every call that can wait takes its deadline from two places: its own timeout
 * (an explicit `timeout_ms`, or AW_DEFAULT for the operation's configured
 * default) and the innermost timeout scope of the calling task. The earlier
 * wins, and the call returns AW_ETIMEDOUT when it passes. Waiting without end
 * must be asked for with AW_FOREVER; even then the scope applies.
 *
 * Scopes nest like async_timeout: aw_timeout_push(ms) opens one, and the
 * effective deadline is the earliest of all open scopes, so an inner scope can
 * shorten but never extend its outer one. aw_timeout_pop() restores the one
 * before. Once a scope's deadline passes, every wait inside it returns
 * AW_ETIMEDOUT at once until it is popped. Scopes belong to a task and are not
 * inherited by the tasks it spawns.
 */
#ifndef AW_TIMEOUT_H
#define AW_TIMEOUT_H

#include <stdint.h>

#define AW_FOREVER ((int64_t)-1) /* no deadline of the operation's own */
#define AW_DEFAULT ((int64_t)-2) /* the operation's configured default */

/* Opens a scope ending `ms` from now (AW_FOREVER: adds no deadline). Returns 0,
 * AW_ENOTASK outside a task, AW_ENOMEM. Pair every push with a pop. */
int aw_timeout_push(int64_t ms);

/* Closes the innermost scope. */
void aw_timeout_pop(void);

/* Milliseconds left before the effective scope deadline (0 when passed), or
 * AW_FOREVER when no scope is open. */
int64_t aw_timeout_remaining(void);

/* Suspends the task for `ms` milliseconds (0 yields). Returns 0, or
 * AW_ETIMEDOUT when a scope ends first, AW_ECANCELED. AW_FOREVER sleeps until
 * cancelled or a scope ends. */
int aw_sleep(int64_t ms);

#endif
