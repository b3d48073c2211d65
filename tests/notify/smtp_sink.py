#!/usr/bin/python3
"""An SMTP sink for the notify tests (Debian's python3-aiosmtpd), on
127.0.0.1, with STARTTLS and AUTH PLAIN/LOGIN, or (implicit) TLS from the
first byte as for smtps://.

Usage: smtp_sink.py PORTFILE LOGFILE CERT KEY USER PASSWORD [implicit]

Writes its port to PORTFILE, then appends one JSON line per message to
LOGFILE: mail_from, rcpt_tos, the message text, whether the session was
under TLS when the message came, and the user who logged in (null when
none).  AUTH is refused before STARTTLS (aiosmtpd's default) and for any
other user or password.  In implicit mode the listening socket speaks TLS
only (a client that does not finish the handshake never reaches SMTP)
and offers no STARTTLS.
"""
import asyncio
import json
import os
import socket
import ssl
import sys

from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword

PORTFILE, LOGFILE, CERT, KEY, USER, PASSWORD = sys.argv[1:7]
IMPLICIT = sys.argv[7:8] == ["implicit"]


class Handler:
    async def handle_DATA(self, server, session, envelope):
        with open(LOGFILE, "a") as f:
            f.write(json.dumps({
                "mail_from": envelope.mail_from,
                "rcpt_tos": envelope.rcpt_tos,
                "data": envelope.content.decode("utf-8", "replace"),
                "tls": session.ssl is not None or
                       server.transport.get_extra_info("sslcontext") is not None,
                "user": session.login_data.decode() if session.authenticated else None,
            }) + "\n")
        return "250 OK"


def authenticator(server, session, envelope, mechanism, auth_data):
    ok = (isinstance(auth_data, LoginPassword) and auth_data.login.decode() == USER and
          auth_data.password.decode() == PASSWORD)
    # handled=False: aiosmtpd answers 535 itself (True would leave the
    # client waiting for an answer nobody sends).
    return AuthResult(success=ok, handled=False, auth_data=auth_data if ok else None)


async def main():
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(CERT, KEY)
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    loop = asyncio.get_running_loop()
    if IMPLICIT:
        # The socket is TLS before SMTP starts: AUTH is under TLS already
        # (aiosmtpd's auth_require_tls knows only of STARTTLS).
        server = await loop.create_server(
            lambda: SMTP(Handler(), hostname="sink.test", authenticator=authenticator,
                         auth_require_tls=False),
            sock=sock, ssl=ctx)
    else:
        server = await loop.create_server(
            lambda: SMTP(Handler(), hostname="sink.test", tls_context=ctx, require_starttls=False,
                         authenticator=authenticator, auth_require_tls=True),
            sock=sock)
    with open(PORTFILE + ".tmp", "w") as f:
        f.write(str(port))
    os.rename(PORTFILE + ".tmp", PORTFILE)
    async with server:
        await server.serve_forever()


asyncio.run(main())
