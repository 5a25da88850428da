"""The web app's origins for `make browser`: one HTTPS server on loopback
with the run's certificate, answering for every app host Chromium maps to
it (app.nectr.test, app.nectr-web.test, foreign.test). It serves the page
(page.html) and axios from node_modules, nothing else.

usage: app_server.py PORT CERT_FILE KEY_FILE
"""
import http.server
import pathlib
import ssl
import sys

ROOT = pathlib.Path(__file__).resolve().parents[2]
FILES = {
    "/": (ROOT / "scripts/browser/page.html", "text/html; charset=utf-8"),
    "/axios.min.js": (ROOT / "node_modules/axios/dist/axios.min.js", "text/javascript"),
}


class Page(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        path = self.path.split("?")[0]
        if path not in FILES:
            self.send_error(404)
            return
        file, content_type = FILES[path]
        body = file.read_bytes()
        self.send_response(200)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format, *args):
        sys.stderr.write(f"{self.headers.get('Host')} {format % args}\n")


port, cert, key = int(sys.argv[1]), sys.argv[2], sys.argv[3]
server = http.server.ThreadingHTTPServer(("127.0.0.1", port), Page)
context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
context.load_cert_chain(cert, key)
server.socket = context.wrap_socket(server.socket, server_side=True)
server.serve_forever()
