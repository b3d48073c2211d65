/* /ws (scaffold: the endpoint arrives with the WebSocket work). */
#include <stdlib.h>

#include "http.h"

struct http_ws_hub {
    http_server *srv;
};

const http_route http_ws_routes[1] = {{0}};
const size_t http_ws_n_routes = 0;

http_ws_hub *http_ws_hub_new(http_server *srv)
{
    http_ws_hub *hub = calloc(1, sizeof *hub);
    if (hub)
        hub->srv = srv;
    return hub;
}

void http_ws_hub_free(http_ws_hub *hub)
{
    free(hub);
}
