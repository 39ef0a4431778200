#!/usr/bin/env python3
"""A real SMTP server for switchboard-notify's email tests, built on aiosmtpd.

Every message it accepts is written to DIR as N.eml (the bytes received) and N.json (what Python's own
`email` package makes of it: decoded headers and every MIME part), so the Rust tests check the wire
format with an independent parser.

Recipients script the server's answers, so error paths run against a real implementation:
  rcpt-CODE@...   RCPT TO is answered CODE (e.g. rcpt-550@x.test -> "550 5.1.1 ...")
  data-CODE@...   the message is refused with CODE after the final dot

Usage: smtp_sink.py --port PORT --dir DIR [--auth USER:PASS]
With --auth, AUTH PLAIN/LOGIN is offered over plain text (auth_require_tls=False) and required.
Prints "READY" on stdout once it listens; runs until killed.

aiosmtpd's command line (python3 -m aiosmtpd -n -l HOST:PORT -c Handler) cannot configure AUTH, so
the same SMTP server class is started through aiosmtpd's Controller here.
"""

import argparse
import base64
import json
import logging
import os
import sys
import threading
import warnings
from email import policy
from email.parser import BytesParser

try:
    from aiosmtpd.controller import Controller
    from aiosmtpd.smtp import AuthResult, LoginPassword
except ImportError:  # pragma: no cover - reported to the Rust test
    sys.stderr.write("aiosmtpd is not installed: run `python3 -m pip install aiosmtpd`\n")
    sys.exit(3)


def scripted_code(address, prefix):
    local = address.split("@", 1)[0]
    if local.startswith(prefix) and len(local) >= len(prefix) + 3 and local[len(prefix):len(prefix) + 3].isdigit():
        return local[len(prefix):len(prefix) + 3]
    return None


class Sink:
    def __init__(self, outdir):
        self.outdir = outdir
        self.count = 0
        self.lock = threading.Lock()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        code = scripted_code(address, "rcpt-")
        if code:
            return f"{code} {code[0]}.1.1 <{address}>: scripted refusal"
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server, session, envelope):
        for rcpt in envelope.rcpt_tos:
            code = scripted_code(rcpt, "data-")
            if code:
                return f"{code} {code[0]}.6.0 scripted refusal after DATA"
        with self.lock:
            self.count += 1
            n = self.count
        raw = envelope.original_content or envelope.content
        msg = BytesParser(policy=policy.default).parsebytes(raw)
        parts = []
        for part in msg.walk():
            if part.is_multipart():
                continue
            payload = part.get_payload(decode=True) or b""
            parts.append({
                "content_type": part.get_content_type(),
                "filename": part.get_filename(),
                "disposition": part.get_content_disposition(),
                "charset": part.get_content_charset(),
                "base64": base64.b64encode(payload).decode("ascii"),
            })
        login = getattr(session, "login_data", None)
        if isinstance(login, bytes):
            login = login.decode("utf-8", "replace")

        def header(name):
            v = msg.get(name)
            return None if v is None else str(v)

        record = {
            "n": n,
            "mail_from": envelope.mail_from,
            "rcpt_tos": list(envelope.rcpt_tos),
            "mail_options": list(envelope.mail_options),
            "auth_login": login,
            "peer": list(session.peer) if session.peer else None,
            "subject": header("Subject"),
            "from": header("From"),
            "to": header("To"),
            "cc": header("Cc"),
            "bcc": header("Bcc"),
            "reply_to": header("Reply-To"),
            "message_id": header("Message-ID"),
            "date": header("Date"),
            "mime_version": header("MIME-Version"),
            "content_type": msg.get_content_type(),
            "is_7bit": all(b < 128 for b in raw),
            "parts": parts,
        }
        with open(os.path.join(self.outdir, f"{n}.eml"), "wb") as f:
            f.write(raw)
        tmp = os.path.join(self.outdir, f"{n}.json.tmp")
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump(record, f, ensure_ascii=False)
        os.replace(tmp, os.path.join(self.outdir, f"{n}.json"))
        return f"250 2.0.0 Ok: queued as SINK{n:04d}"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--dir", required=True)
    ap.add_argument("--auth")
    args = ap.parse_args()
    os.makedirs(args.dir, exist_ok=True)
    # AUTH over plain text is the point of the auth test (the server is on loopback); keep quiet about it.
    warnings.filterwarnings("ignore", category=UserWarning)
    logging.getLogger("mail.log").setLevel(logging.CRITICAL)

    params = {"enable_SMTPUTF8": True}
    if args.auth:
        user, password = args.auth.split(":", 1)

        def authenticator(server, session, envelope, mechanism, auth_data):
            ok = (isinstance(auth_data, LoginPassword)
                  and auth_data.login.decode() == user
                  and auth_data.password.decode() == password)
            return AuthResult(success=ok, handled=False, auth_data=auth_data if ok else None)

        params.update(authenticator=authenticator, auth_required=True, auth_require_tls=False)

    controller = Controller(Sink(args.dir), hostname="127.0.0.1", port=args.port, **params)
    controller.start()
    print("READY", flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        controller.stop()


if __name__ == "__main__":
    main()
