/* uplink — a machine's link to its hub (kind transport), internal parts.
 *
 * The plugin connects out to the hub's /fleet WebSocket, registers,
 * heartbeats, forwards the machine's stored events and runs the commands
 * the hub sends down; the protocol is bosun-fleet(7)'s.  One file per
 * concern:
 *
 *   uplink.c          the plugin: lifecycle, attempts and back-off, the
 *                     registered link (register, heartbeat, dead link)
 *   uplink_config.c   the uplink: section, checked with FILE:LINE:COL
 *   uplink_backoff.c  the waits between attempts
 *   uplink_token.c    the token files (read, written atomically 0600)
 *   uplink_net.c      DNS off the loop, non-blocking connect, TLS, bytes
 *   uplink_upgrade.c  the HTTP/1.1 upgrade and its 101 (http-parser)
 *   uplink_link.c     the WebSocket session over uplink_net
 *   uplink_proto.c    frames from the hub, validated; frames to it
 *   uplink_agents.c   the configured agents and the running count
 *   uplink_forward.c  events up, in seq order, from the acked seq
 *   uplink_cmd.c      commands down, run on the local bus as "machine"
 */
#ifndef BOSUN_UPLINK_H
#define BOSUN_UPLINK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <bosun/bosun.h>

struct ev_loop;

#define UPLINK_TOKEN_MAX  256 /* bytes of a token, prefix included */
#define UPLINK_HOST_MAX   255
#define UPLINK_NAME_MAX   128
#define UPLINK_REPLY_MAX  128          /* bytes of a hub's reply subject */
#define UPLINK_WHY_MAX    256          /* a failure's reason, for logs */
#define UPLINK_RX_MAX     (4u << 20)   /* a message from the hub */
#define UPLINK_QUEUE_MAX  (16u << 20)  /* bytes queued to the hub */
#define UPLINK_EVENTS_MAX 256          /* events in one machine.events */
#define UPLINK_BATCH_MAX  (256u << 10) /* bytes of one machine.events */
#define UPLINK_EVENT_MAX  (900u << 10) /* one event's encoded size */
#define UPLINK_WINDOW     4096         /* events sent and not acknowledged */

/* ------------------------------------------------------------ config */

typedef struct uplink_cfg {
    char *hub;         /* the URL as written, for logs */
    bool tls;          /* wss:// */
    char *host;        /* for DNS and the certificate check, no brackets */
    char *host_header; /* host[:port] for the Host header */
    char *port;        /* decimal */
    char *path;        /* of the endpoint, "/fleet" by default */
    char *reg_token;   /* registration token written in the config, or NULL */
    char *reg_token_file;
    char *token_file; /* the permanent token */
    char *ca_file;    /* NULL: the system's CAs */
    bool insecure;    /* insecure_skip_verify: no certificate check */
    double heartbeat;
    double backoff_max;
    double reconnect_splay; /* 0: none; see uplink_splay() */
    double connect_timeout;
    char *name;
} uplink_cfg;

/* Reads and checks the uplink: section (state_dir for token_file's
 * default, machine_id for name's); false with messages in d. */
bool uplink_cfg_read(const cfg_node *c, const char *state_dir, const char *machine_id,
                     uplink_cfg *out, cfg_diag *d);
void uplink_cfg_free(uplink_cfg *c);
/* Whether a and b lead to another link (hub, TLS, tokens, name). */
bool uplink_cfg_link_differs(const uplink_cfg *a, const uplink_cfg *b);

/* ------------------------------------------------------------ back-off */

typedef struct uplink_backoff {
    double base; /* the next wait before jitter */
    double cap;
} uplink_backoff;

void uplink_backoff_init(uplink_backoff *b, double cap);
void uplink_backoff_reset(uplink_backoff *b);
/* The wait before the next attempt, r in [0, 1) choosing the jitter:
 * base * (0.8 + 0.4 r), never above the cap; the base then doubles, up to
 * the cap. */
double uplink_backoff_next(uplink_backoff *b, double r);

/* The wait before the first attempt after an established link was lost:
 * splay * r, r in [0, 1) (outside it, the middle), uniform over
 * [0, splay) so that machines cut off together (a hub restart) come back
 * spread out rather than in one second; 0 when splay is 0. */
double uplink_splay(double splay, double r);

/* ------------------------------------------------------------ tokens */

/* The token in the file at path, its prefix checked ("bsn_mch_"): a
 * malloc'ed string; NULL with *missing true when there is no such file, or
 * NULL with why. */
char *uplink_token_read(const char *path, const char *prefix, bool *missing, char *why,
                        size_t why_size);
/* Whether text is a token of that prefix (then base64url, 16 to 200). */
bool uplink_token_valid(const char *text, const char *prefix);
/* Writes the token to path atomically, mode 0600: 0, or -1 with why. */
int uplink_token_write(const char *path, const char *token, char *why, size_t why_size);

/* ------------------------------------------------------------ upgrade */

typedef struct uplink_upgrade uplink_upgrade;

enum uplink_upgrade_result {
    UPLINK_UPGRADE_MORE = 0, /* the answer is not all there yet */
    UPLINK_UPGRADE_DONE = 1, /* 101 with the headers that make it ours */
    UPLINK_UPGRADE_FAIL = -1,
};

/* The request for path on host_header with a fresh key; NULL on memory
 * failure.  The reader is for its answer. */
uplink_upgrade *uplink_upgrade_new(const char *host_header, const char *path, char **request,
                                   size_t *request_len);
/* The same with a given Sec-WebSocket-Key (24 bytes), for the fuzzer. */
uplink_upgrade *uplink_upgrade_with_key(const char *host_header, const char *path, const char *key,
                                        char **request, size_t *request_len);
void uplink_upgrade_free(uplink_upgrade *u);
/* Feeds bytes of the answer.  DONE with *used the bytes that were the
 * answer (what follows is the WebSocket's); FAIL with why (and *status the
 * HTTP status, 0 when there was none). */
enum uplink_upgrade_result uplink_upgrade_feed(uplink_upgrade *u, const char *buf, size_t len,
                                               size_t *used, int *status, char *why,
                                               size_t why_size);

/* ------------------------------------------------------------ frames */

enum uplink_msg_kind {
    UPLINK_MSG_ACK,     /* machine.ack {"seq"} */
    UPLINK_MSG_CLOSE,   /* machine.close {"reason"} */
    UPLINK_MSG_ERROR,   /* machine.error, or an error answering no request */
    UPLINK_MSG_COMMAND, /* cmd.… with a reply subject */
    UPLINK_MSG_REPLY,   /* any other subject with no reply: a reply to ours */
};

typedef struct uplink_msg {
    enum uplink_msg_kind kind;
    json_t *root;        /* owns what the pointers below point into */
    const char *subject; /* valid bus subject */
    const char *reply;   /* commands only */
    json_t *data;        /* an object */
    json_int_t seq;      /* acks */
} uplink_msg;

/* Parses and checks one text frame from the hub: 0 with *out filled (free
 * it with uplink_msg_clear), or -1 with why. */
int uplink_msg_parse(const char *text, size_t len, uplink_msg *out, char *why, size_t why_size);
void uplink_msg_clear(uplink_msg *m);

/* The answer to machine.register, checked. */
typedef struct uplink_registered {
    bool ok;
    json_int_t acked_seq;
    const char *machine_id;    /* or NULL */
    const char *machine_token; /* a valid bsn_mch_ token, or NULL */
    const char *code;          /* when !ok: the error code, a [a-z_]{1,64} word */
    const char *message;       /* when !ok, or NULL */
} uplink_registered;

/* 0, or -1 with why: data is not an answer to machine.register. */
int uplink_registered_read(json_t *data, uplink_registered *out, char *why, size_t why_size);

/* A frame {"subject","reply"?,"data","time"} for the hub, malloc'ed, its
 * length in *len; steals data; NULL when it cannot be encoded. */
char *uplink_frame(const char *subject, const char *reply, json_t *data, size_t *len);

/* Outside text fit for a log line: at most max bytes, anything but
 * printable ASCII replaced by '?', into buf. */
const char *uplink_printable(const char *text, size_t max, char *buf, size_t size);

/* ------------------------------------------------------------ transport */

typedef struct uplink_link uplink_link;

typedef struct uplink_link_ops {
    void (*on_open)(void *arg); /* the WebSocket is up */
    void (*on_text)(void *arg, const char *text, size_t len);
    void (*on_rx)(void *arg); /* any frame arrived, a pong included */
    /* Once, when the link failed or was closed by the hub (why says how);
     * never after uplink_link_free.  The owner frees the link after it
     * returns (from the loop, not from inside this callback). */
    void (*on_closed)(void *arg, const char *why);
    void (*on_drained)(void *arg); /* the send queue went below half */
} uplink_link_ops;

/* A link to cfg's hub with its TLS context (NULL for ws://): resolves,
 * connects, handshakes and upgrades in the background. */
uplink_link *uplink_link_new(struct ev_loop *loop, const uplink_cfg *cfg, void *tls_ctx,
                             const uplink_link_ops *ops, void *arg);
int uplink_link_send(uplink_link *l, const char *text, size_t len);
int uplink_link_ping(uplink_link *l);
size_t uplink_link_queued(const uplink_link *l);
/* A close frame, written with what is queued as far as the socket takes
 * it now, then the link is freed (as uplink_link_free). */
void uplink_link_close(uplink_link *l, unsigned code, const char *reason);
/* Safe from inside the link's callbacks: the memory goes after they
 * return. */
void uplink_link_free(uplink_link *l);

/* A client TLS context for cfg (CA file or the system's, TLS 1.2 at
 * least, peer verified unless insecure): NULL with why. */
void *uplink_tls_new(const uplink_cfg *cfg, char *why, size_t why_size);
void uplink_tls_free(void *ctx);
/* getaddrinfo_a lookups still running when the plugin stops. */
void uplink_net_shutdown(void);

/* ------------------------------------------------------------ agents */

typedef struct uplink_agents uplink_agents;

uplink_agents *uplink_agents_new(bus_t *bus);
void uplink_agents_free(uplink_agents *a);
/* Asks the supervisor and the store for what it missed (a plugin added
 * by a reload). */
void uplink_agents_seed(uplink_agents *a);
bool uplink_agents_has(const uplink_agents *a, const char *name);
/* [{"name","type"}…], a new reference. */
json_t *uplink_agents_json(const uplink_agents *a);
size_t uplink_agents_running(const uplink_agents *a);

/* ------------------------------------------------------------ forwarding */

typedef struct uplink_fwd uplink_fwd;

typedef struct uplink_sender {
    /* Sends one text frame to the hub: 0, or -1 (the link failed). */
    int (*send)(void *arg, const char *text, size_t len);
    size_t (*queued)(void *arg); /* bytes waiting to go out */
    void *arg;
} uplink_sender;

uplink_fwd *uplink_fwd_new(struct ev_loop *loop, bus_t *bus, const char *machine_id,
                           const uplink_sender *out);
void uplink_fwd_free(uplink_fwd *f);
/* The hub has the machine's events up to acked: send from there. */
void uplink_fwd_linked(uplink_fwd *f, json_int_t acked);
void uplink_fwd_unlinked(uplink_fwd *f);
/* machine.ack: false when seq is beyond what was sent. */
bool uplink_fwd_ack(uplink_fwd *f, json_int_t seq);
/* The send queue drained: go on. */
void uplink_fwd_kick(uplink_fwd *f);
json_int_t uplink_fwd_sent(const uplink_fwd *f);
json_int_t uplink_fwd_acked(const uplink_fwd *f);

/* ------------------------------------------------------------ commands */

typedef struct uplink_cmd uplink_cmd;

uplink_cmd *uplink_cmd_new(bus_t *bus, const uplink_agents *agents, const uplink_sender *out);
void uplink_cmd_free(uplink_cmd *c);
/* Runs a hub command (a UPLINK_MSG_COMMAND) and answers it up the link. */
void uplink_cmd_run(uplink_cmd *c, const uplink_msg *m);
/* The link went: replies still due are dropped. */
void uplink_cmd_unlinked(uplink_cmd *c);

#endif
