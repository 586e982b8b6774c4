/* The soak test's server (tests/soak/soak.sh): one aweb process that takes
 * every kind of load at once and counts what it did, so that the load
 * generator (soak_load.c) can check that nothing was lost.
 *
 *   GET  /                plain text
 *   GET  /hello/{name}    "Hello, NAME!" (the pipelined clients put a sequence
 *                         number in NAME to check the order of answers)
 *   GET  /json            a JSON object
 *   POST /echo            the body back
 *   POST /jobs?n=N        spawns N jobs on the app's scheduler; answers the
 *                         number spawned
 *   GET  /ws?name=NAME    a chat room (examples/chat's, without the page):
 *                         every text message is broadcast as JSON to every
 *                         member, the sender included, and joins and leaves
 *                         are announced. The text "bye" takes the member out
 *                         of the room and answers {"type":"bye","delivered":N},
 *                         N being the frames the room sent it, which the
 *                         client compares with what it received.
 *   GET  /stats           the counters as a JSON object (not counted), with
 *                         the heap's figures (mallinfo2: in use, arena, mmapped)
 *
 * Counters live on the loop's thread (one process, one loop): no locks.
 *
 * Run: soak_server --listen 127.0.0.1:0 --conf tests/soak/soak.conf
 */
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aweb.h"

#define MAX_NAME 32
#define HISTORY 10

static struct {
    unsigned long long requests; /* HTTP requests answered by handlers */
    unsigned long long jobs_spawned, jobs_finished, jobs_refused;
    unsigned long long ws_sessions, ws_byes; /* upgrades; members that said bye */
    unsigned long long ws_in;                /* chat messages received */
    unsigned long long ws_out, ws_out_acked; /* frames sent; of them, to members
                                                that said bye */
} st;

typedef struct member {
    aw_ws *ws;
    unsigned long long delivered; /* frames the room sent to this member */
    char name[MAX_NAME + 1];
} member;

static member **room;
static size_t members, capacity;
static char *history[HISTORY];
static size_t nhistory, history_next;

/* --- HTTP --------------------------------------------------------------------- */

static aw_response *index_page(aw_request *req)
{
    st.requests++;
    return aw_response_text(req, 200, "Hello, World!");
}

static aw_response *hello_name(aw_request *req)
{
    st.requests++;
    return aw_response_textf(req, 200, "Hello, %s!", aw_request_match(req, "name"));
}

static aw_response *json_page(aw_request *req)
{
    st.requests++;
    return aw_response_json(req, 200,
                            json_pack("{s:s, s:s}", "message", "Hello, World!", "server", "aweb"));
}

static aw_response *echo(aw_request *req)
{
    const char *body;
    size_t len;
    int rc = aw_request_body(req, &body, &len);
    if (rc)
        return aw_fail(req, rc);
    st.requests++;
    return aw_response_bytes(req, 200, body, len, "application/octet-stream");
}

/* A job does what fire-and-forget work does: waits a little, holds some
 * memory meanwhile, and ends. */
static int job(void *arg)
{
    size_t n = (size_t)(uintptr_t)arg;
    char *scratch = malloc(n);
    if (scratch)
        memset(scratch, 0x5a, n);
    int rc = aw_sleep((int64_t)(n % 20) + 1);
    free(scratch);
    st.jobs_finished++;
    return rc;
}

static aw_response *jobs(aw_request *req)
{
    const char *q = aw_request_query(req, "n");
    long n = q ? atol(q) : 1;
    if (n < 0 || n > 1000)
        return aw_http_error(req, 400, "n: 0 to 1000");
    aw_scheduler *s = aw_app_scheduler(aw_request_app(req));
    long spawned = 0;
    for (; spawned < n; spawned++) {
        uintptr_t size = 256 + (uintptr_t)(rand() % 8192);
        if (aw_scheduler_spawn(s, job, (void *)size, NULL)) {
            st.jobs_refused += (unsigned long long)(n - spawned);
            break;
        }
        st.jobs_spawned++;
    }
    st.requests++;
    return aw_response_textf(req, 200, "%ld", spawned);
}

static aw_response *stats(aw_request *req)
{
    aw_scheduler *s = aw_app_scheduler(aw_request_app(req));
    /* the heap, to tell a leak (in use grows) from fragmentation (only the
     * arena does) when the RSS grows */
    struct mallinfo2 mi = mallinfo2();
    const struct {
        const char *key;
        unsigned long long value;
    } f[] = {
        {"requests", st.requests},
        {"jobs_spawned", st.jobs_spawned},
        {"jobs_finished", st.jobs_finished},
        {"jobs_refused", st.jobs_refused},
        {"jobs_active", aw_scheduler_active(s)},
        {"jobs_pending", aw_scheduler_pending(s)},
        {"ws_sessions", st.ws_sessions},
        {"ws_byes", st.ws_byes},
        {"ws_members", members},
        {"ws_in", st.ws_in},
        {"ws_out", st.ws_out},
        {"ws_out_acked", st.ws_out_acked},
        {"heap_in_use", mi.uordblks},
        {"heap_arena", mi.arena},
        {"heap_mmapped", mi.hblkhd},
    };
    json_t *j = json_object();
    for (size_t i = 0; i < sizeof f / sizeof f[0]; i++)
        json_object_set_new(j, f[i].key, json_integer((json_int_t)f[i].value));
    return aw_response_json(req, 200, j);
}

/* --- the chat room ------------------------------------------------------------ */

static void send_to(member *m, const char *json, size_t len)
{
    if (aw_ws_send_text(m->ws, json, len) == 0) { /* never waits */
        m->delivered++;
        st.ws_out++;
    }
}

static char *event_json(const char *type, const char *name, const char *text)
{
    json_t *j = json_pack("{s:s, s:s, s:s}", "type", type, "name", name, "text", text);
    char *s = json_dumps(j, JSON_COMPACT);
    json_decref(j);
    return s;
}

/* Sends to every member, then keeps the message in the history (which owns
 * it) or frees it. */
static void broadcast(char *json, int keep)
{
    if (!json)
        return;
    size_t len = strlen(json);
    for (size_t i = 0; i < members; i++)
        send_to(room[i], json, len);
    if (keep) {
        free(history[history_next]);
        history[history_next] = json;
        history_next = (history_next + 1) % HISTORY;
        if (nhistory < HISTORY)
            nhistory++;
    } else {
        free(json);
    }
}

static int join(member *me)
{
    if (members == capacity) {
        size_t cap = capacity ? 2 * capacity : 64;
        member **r = realloc(room, cap * sizeof *r);
        if (!r)
            return AW_ENOMEM;
        room = r;
        capacity = cap;
    }
    for (size_t i = 0; i < nhistory; i++) {
        const char *h = history[(history_next + HISTORY - nhistory + i) % HISTORY];
        send_to(me, h, strlen(h));
    }
    room[members++] = me;
    broadcast(event_json("join", me->name, "joined"), 0);
    return 0;
}

/* Idempotent: a member that said bye has left already. */
static void leave(member *me)
{
    for (size_t i = 0; i < members; i++)
        if (room[i] == me) {
            room[i] = room[--members];
            broadcast(event_json("leave", me->name, "left"), 0);
            return;
        }
}

static aw_response *chat_ws(aw_request *req)
{
    aw_ws *ws = aw_ws_prepare(
        req, &(aw_ws_opts){.max_message = 4096, .heartbeat_ms = 30000, .outbound_limit = 1 << 20});
    if (!ws)
        return aw_ws_refusal(req);
    st.ws_sessions++;
    member me = {.ws = ws};
    const char *name = aw_request_query(req, "name");
    snprintf(me.name, sizeof me.name, "%s", name ? name : "guest");
    if (join(&me))
        return aw_ws_finish(ws);
    aw_ws_msg m;
    while (aw_ws_recv(ws, &m, AW_FOREVER) == 0) {
        if (m.type != AW_WS_TEXT)
            continue;
        if (m.len == 3 && !memcmp(m.data, "bye", 3)) {
            leave(&me);
            char ack[64];
            int n =
                snprintf(ack, sizeof ack, "{\"type\":\"bye\",\"delivered\":%llu}", me.delivered);
            if (aw_ws_send_text(ws, ack, (size_t)n) == 0) {
                st.ws_byes++;
                st.ws_out_acked += me.delivered;
            }
            continue;
        }
        st.ws_in++;
        broadcast(event_json("message", me.name, m.data), 1);
    }
    leave(&me);
    return aw_ws_finish(ws);
}

static int cleanup(aw_app *app, void *arg)
{
    (void)app;
    (void)arg;
    for (size_t i = 0; i < HISTORY; i++) {
        free(history[i]);
        history[i] = NULL;
    }
    free(room);
    room = NULL;
    members = capacity = 0;
    return 0;
}

int main(int argc, char **argv)
{
    aw_app *app = aw_app_new();
    if (!app)
        return 1;
    aw_app_route(app, "GET", "/", index_page, NULL);
    aw_app_route(app, "GET", "/hello/{name}", hello_name, NULL);
    aw_app_route(app, "GET", "/json", json_page, NULL);
    aw_app_route(app, "POST", "/echo", echo, NULL);
    aw_app_route(app, "POST", "/jobs", jobs, NULL);
    aw_app_route(app, "GET", "/ws", chat_ws, NULL);
    aw_app_route(app, "GET", "/stats", stats, NULL);
    aw_app_on_cleanup(app, cleanup, NULL);
    int rc = aw_app_main(app, argc, argv);
    aw_app_free(app);
    return rc;
}
