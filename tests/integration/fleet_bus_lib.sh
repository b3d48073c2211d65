# Shared by the hub tests that play a machine's link at the bus, after
# lib.sh: a link is a conn id whose frames go in on fleet.link.in, as the
# http plugin relays a /fleet WebSocket's.

# link CONN SUBJECT DATA [REPLY]: one frame in, the hub's answer out.
link() {
    _r=${4:+,\"reply\":\"$4\"}
    ctl --json request fleet.link.in \
        "{\"conn\":\"$1\",\"peer\":\"127.0.0.1:5$1\",\"frame\":{\"subject\":\"$2\",\"data\":$3$_r}}"
}
