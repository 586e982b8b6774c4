/* chat: a WebSocket chat room with its web page.
 *
 *   GET /               the page (self-contained: no external scripts or fonts)
 *   GET /ws?name=NAME   join the room: every line sent is broadcast to everyone,
 *                       in one order, with name and time; joins and leaves are
 *                       announced; the last 50 messages greet a newcomer
 *
 * Every message is JSON: {"type": "message"|"join"|"leave"|"info", "name",
 * "text", "time", "ts"}: time is the server's HH:MM:SS, ts the same moment in
 * milliseconds since the epoch (the page shows it in the viewer's time zone).
 * Sends never wait for a client, so one that is slow or stuck delays nobody:
 * past its outbound limit it is closed (1008) and the rest carry on.
 *
 * Run: build/examples/chat [--listen HOST:PORT] [--conf FILE]
 */
#include <aweb/aweb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

extern const char chat_page[];

#define HISTORY 50
#define MAX_NAME 32
#define MAX_TEXT 4096
#define MAX_MEMBERS 10000

typedef struct member {
    aw_ws *ws;
    char name[MAX_NAME + 1];
} member;

/* The room lives on the loop's thread, and no send waits, so a broadcast
 * runs to its end before any other task: everyone sees one order. */
static member *members[MAX_MEMBERS];
static size_t nmembers;
static char *history[HISTORY];
static size_t nhistory, history_next;
static unsigned long guests;

static char *event_json(const char *type, const char *name, const char *text)
{
    char when[16];
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    struct tm tm;
    localtime_r(&now.tv_sec, &tm);
    strftime(when, sizeof when, "%H:%M:%S", &tm);
    json_int_t ts = (json_int_t)now.tv_sec * 1000 + now.tv_nsec / 1000000;
    json_t *j = json_pack("{s:s, s:s, s:s, s:s, s:I}", "type", type, "name", name, "text", text,
                          "time", when, "ts", ts);
    char *s = json_dumps(j, JSON_COMPACT);
    json_decref(j);
    return s;
}

static void remember(char *json)
{
    free(history[history_next]);
    history[history_next] = json;
    history_next = (history_next + 1) % HISTORY;
    if (nhistory < HISTORY)
        nhistory++;
}

/* Sends to everyone; the message is kept in the history (which owns it). */
static void broadcast(char *json, int keep)
{
    size_t len = strlen(json);
    for (size_t i = 0; i < nmembers; i++)
        aw_ws_send_text(members[i]->ws, json, len); /* never waits */
    if (keep)
        remember(json);
    else
        free(json);
}

static void sanitize_name(const char *in, char *out)
{
    size_t n = 0;
    for (; in && *in && n < MAX_NAME; in++)
        if ((unsigned char)*in >= 0x20 && *in != 0x7f)
            out[n++] = *in;
    out[n] = 0;
    if (!n)
        snprintf(out, MAX_NAME + 1, "guest-%lu", ++guests);
}

static aw_response *chat_ws(aw_request *req)
{
    if (nmembers == MAX_MEMBERS)
        return aw_http_error(req, 503, "the room is full");
    aw_ws *ws = aw_ws_prepare(req, &(aw_ws_opts){.max_message = MAX_TEXT,
                                                 .heartbeat_ms = 30000,
                                                 .outbound_limit = 1 << 20});
    if (!ws)
        return aw_ws_refusal(req);
    member *me = calloc(1, sizeof *me);
    me->ws = ws;
    sanitize_name(aw_request_query(req, "name"), me->name);
    /* the newcomer first sees what was said before it came */
    for (size_t i = 0; i < nhistory; i++) {
        const char *h = history[(history_next + HISTORY - nhistory + i) % HISTORY];
        aw_ws_send_text(ws, h, strlen(h));
    }
    members[nmembers++] = me;
    broadcast(event_json("join", me->name, "joined"), 0);
    aw_ws_msg m;
    while (aw_ws_recv(ws, &m, AW_FOREVER) == 0)
        if (m.type == AW_WS_TEXT && m.len)
            broadcast(event_json("message", me->name, m.data), 1);
    for (size_t i = 0; i < nmembers; i++)
        if (members[i] == me) {
            members[i] = members[--nmembers];
            break;
        }
    broadcast(event_json("leave", me->name, "left"), 0);
    free(me);
    return aw_ws_finish(ws);
}

static aw_response *page(aw_request *req)
{
    return aw_response_static(req, 200, chat_page, strlen(chat_page), "text/html; charset=utf-8");
}

static int cleanup(aw_app *app, void *arg)
{
    (void)app;
    (void)arg;
    for (size_t i = 0; i < HISTORY; i++) {
        free(history[i]);
        history[i] = NULL;
    }
    nhistory = history_next = 0;
    return 0;
}

int main(int argc, char **argv)
{
    aw_app *app = aw_app_new();
    aw_app_route(app, "GET", "/", page, NULL);
    aw_app_route(app, "GET", "/ws", chat_ws, NULL);
    aw_app_on_cleanup(app, cleanup, NULL);
    int rc = aw_app_main(app, argc, argv);
    aw_app_free(app);
    return rc;
}
