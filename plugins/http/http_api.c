/* The REST API v1 (scaffold: the routes arrive with the REST work). */
#include "http.h"

const http_route http_api_routes[1] = {{0}};
const size_t http_api_n_routes = 0;
