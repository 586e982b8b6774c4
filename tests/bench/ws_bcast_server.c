/* The ws benchmark's aweb broadcast server (tests/bench/bench_ws.sh), beside
 * aiohttp_ws.py --room, with the same load generator (wsload.c bcast).
 *
 *   GET /ws   joins the room; a text message "bcast" makes the server send
 *             one 32-byte text message to every member (the sender too);
 *             any other message is echoed back
 *
 * The options are examples/hello's /ws (a 30 s heartbeat, permessage-deflate
 * accepted if offered: wsload offers none). A broadcast is a loop of
 * aw_ws_send_text, which never waits: it runs to its end before any other
 * task, and a member whose queue is full is closed, not waited for.
 *
 * Run: ws_bcast_server [--listen HOST:PORT] [--conf FILE]
 */
#include <stdlib.h>
#include <string.h>

#include "aweb.h"

#define MSG_LEN 32

static aw_ws **room;
static size_t members, capacity;
static unsigned long broadcasts;

static int join(aw_ws *ws)
{
    if (members == capacity) {
        size_t cap = capacity ? 2 * capacity : 1024;
        aw_ws **r = realloc(room, cap * sizeof *r);
        if (!r)
            return AW_ENOMEM;
        room = r;
        capacity = cap;
    }
    room[members++] = ws;
    return 0;
}

static void leave(aw_ws *ws)
{
    for (size_t i = 0; i < members; i++)
        if (room[i] == ws) {
            room[i] = room[--members];
            return;
        }
}

static void broadcast(void)
{
    char msg[MSG_LEN + 1];
    snprintf(msg, sizeof msg, "broadcast %022lu", ++broadcasts);
    for (size_t i = 0; i < members; i++)
        aw_ws_send_text(room[i], msg, MSG_LEN);
}

static aw_response *room_ws(aw_request *req)
{
    aw_ws *ws = aw_ws_prepare(req, &(aw_ws_opts){.heartbeat_ms = 30000});
    if (!ws)
        return aw_ws_refusal(req);
    if (join(ws))
        return aw_ws_finish(ws);
    aw_ws_msg m;
    while (aw_ws_recv(ws, &m, AW_FOREVER) == 0) {
        if (m.type == AW_WS_TEXT && m.len == 5 && !memcmp(m.data, "bcast", 5))
            broadcast();
        else if (m.type == AW_WS_TEXT)
            aw_ws_send_text(ws, m.data, m.len);
        else if (m.type == AW_WS_BINARY)
            aw_ws_send_binary(ws, m.data, m.len);
    }
    leave(ws);
    return aw_ws_finish(ws);
}

int main(int argc, char **argv)
{
    aw_app *app = aw_app_new();
    if (!app)
        return 1;
    aw_app_route(app, "GET", "/ws", room_ws, NULL);
    int rc = aw_app_main(app, argc, argv);
    aw_app_free(app);
    free(room);
    return rc;
}
