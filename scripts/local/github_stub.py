#!/usr/bin/env python3
"""A stand-in for api.github.com on loopback, for the demo.

    python3 scripts/local/github_stub.py PORT [ADDRESS] [--tls CERT KEY]

With --tls it serves HTTPS with that certificate chain and key, as GitHub
does (the local world's, issued by the run's CA).

DELETE /repos/{owner}/{repo}/hooks/{id} answers 204 the first time and 404
after that, as GitHub does. GET /_received lists every request it got, with
the Authorization header shortened so the demo never prints a whole token;
POST /_fail?times=N makes the next N hook DELETEs fail as GitHub does when
it is down (502); POST /_reset forgets everything.
"""
import json
import re
import ssl
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

HOOK = re.compile(r"^/repos/[^/]+/[^/]+/hooks/\d+$")
received = []
removed = set()
failures = {"left": 0}


def shorten(value: str) -> str:
    scheme, _, token = value.partition(" ")
    return f"{scheme} {token[:8]}…" if token else value


class Handler(BaseHTTPRequestHandler):
    def do_DELETE(self):
        headers = {k: (shorten(v) if k.lower() == "authorization" else v) for k, v in self.headers.items()}
        if not HOOK.match(self.path):
            status, body = 404, {"message": "Not Found"}
        elif failures["left"] > 0:
            failures["left"] -= 1
            status, body = 502, {"message": "Server Error"}
        elif self.path in removed:
            status, body = 404, {"message": "Not Found"}
        else:
            removed.add(self.path)
            status, body = 204, None
        received.append({"method": "DELETE", "path": self.path, "headers": headers, "answered": status})
        self.answer(status, body)

    def do_POST(self):
        if self.path == "/_reset":
            received.clear()
            removed.clear()
            failures["left"] = 0
            self.answer(204, None)
        elif self.path.startswith("/_fail?times="):
            failures["left"] = int(self.path.split("=", 1)[1])
            self.answer(204, None)
        else:
            self.answer(404, {"message": "Not Found"})

    def do_GET(self):
        if self.path == "/_received":
            self.answer(200, received)
        else:
            self.answer(404, {"message": "Not Found"})

    def do_HEAD(self):
        # The function opens its connection at init with HEAD /.
        self.send_response(200 if self.path == "/" else 404)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def answer(self, status, body):
        payload = b"" if body is None else json.dumps(body, indent=2).encode()
        self.send_response(status)
        if body is not None:
            self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args):
        pass


if __name__ == "__main__":
    args = sys.argv[1:]
    tls = None
    if "--tls" in args:
        at = args.index("--tls")
        tls, args = args[at + 1 : at + 3], args[:at] + args[at + 3 :]
    address = args[1] if len(args) > 1 else "127.0.0.1"
    server = ThreadingHTTPServer((address, int(args[0])), Handler)
    if tls:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(*tls)
        server.socket = context.wrap_socket(server.socket, server_side=True)
    server.serve_forever()
