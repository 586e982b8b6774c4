/* The chat example as people run it: the built program on a free port,
 * three python3-websockets clients, a fourth that gets the history. */
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "example.h"
#include "httpserver.h"
#include "testutil.h"

TestSuite(chat, .timeout = 60, .fini = tu_fini);

Test(chat, the_page_is_served_whole_and_self_contained)
{
    tu_example c = tu_example_start("chat", "conf/aweb.conf");
    char cmd[256], out[65536];
    snprintf(cmd, sizeof cmd, "curl -s http://127.0.0.1:%d/", c.port);
    cr_assert_eq(tu_shell(cmd, out, sizeof out), 0);
    cr_assert(strstr(out, "<!doctype html>") && strstr(out, "new WebSocket("), "%.200s", out);
    cr_assert_null(strstr(out, "src=\"http"), "an external script");
    cr_assert_null(strstr(out, "href=\"http"), "an external stylesheet or font");
    tu_example_stop(&c, NULL, 0);
}

Test(chat, three_clients_see_every_message_in_one_order_and_a_fourth_gets_history)
{
    tu_example c = tu_example_start("chat", "conf/aweb.conf");
    char cmd[256], out[8192];
    snprintf(cmd, sizeof cmd,
             "timeout 30 /usr/bin/python3 tests/ws/wsclient.py chat %d alice,bob,carol 2>&1",
             c.port);
    cr_assert_eq(tu_shell(cmd, out, sizeof out), 0, "%s", out);
    cr_assert(strstr(out, "OK chat 3 messages in one order, history replayed"), "%s", out);
    tu_example_stop(&c, NULL, 0);
}
