/* uplink — the byte stream to the hub (uplink_net.c): the name looked up
 * off the loop (getaddrinfo_a), each address tried with a non-blocking
 * connect, TLS with the hub's certificate checked, then a bounded send
 * queue and reads, all driven by libev.  Used by uplink_link.c only. */
#ifndef BOSUN_UPLINK_NET_H
#define BOSUN_UPLINK_NET_H

#include <stdbool.h>
#include <stddef.h>

struct ev_loop;

typedef struct uplink_net uplink_net;

typedef struct uplink_net_ops {
    void (*on_connected)(void *arg); /* TCP, and TLS when asked, are up */
    void (*on_data)(void *arg, const char *buf, size_t len);
    void (*on_drained)(void *arg); /* the send queue emptied */
    /* Once: the stream failed or the hub closed it; nothing follows. */
    void (*on_failed)(void *arg, const char *why);
} uplink_net_ops;

/* Starts the lookup of host (without brackets) and port.  tls_ctx NULL:
 * plain TCP, and then only to loopback addresses.  NULL on memory
 * failure. */
uplink_net *uplink_net_new(struct ev_loop *loop, const char *host, const char *port, void *tls_ctx,
                           bool insecure, const uplink_net_ops *ops, void *arg);
/* Queues bytes: false when the queue would pass UPLINK_QUEUE_MAX or the
 * stream is not open. */
bool uplink_net_write(uplink_net *n, const void *data, size_t len);
size_t uplink_net_queued(const uplink_net *n);
/* "ADDRESS:PORT" of the peer once connected, else the host. */
const char *uplink_net_peer(const uplink_net *n);
/* Writes what the queue holds now, without waiting (a goodbye). */
void uplink_net_flush(uplink_net *n);
/* Closes and frees; from inside its own callbacks too (the memory goes
 * when they return). */
void uplink_net_free(uplink_net *n);

#endif
