"""Test fixture for plain-errors.sh: forwards HTTP requests to aima's daemon and replaces the
body of every answer with status 400 or more by plain text."""
import http.client
import http.server
import sys

front_host, front_port = sys.argv[1].rsplit(":", 1)
back = sys.argv[2]


class Proxy(http.server.BaseHTTPRequestHandler):
    def forward(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else None
        conn = http.client.HTTPConnection(back, timeout=120)
        headers = {k: v for k, v in self.headers.items() if k.lower() != "host"}
        conn.request(self.command, self.path, body=body, headers=headers)
        reply = conn.getresponse()
        data = reply.read()
        if reply.status >= 400:
            data = b"something went wrong\n"
            kept = [("Content-Type", "text/plain")]
        else:
            kept = [(k, v) for k, v in reply.getheaders() if k.lower() in ("content-type", "allow")]
        self.send_response(reply.status)
        for key, value in kept:
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = do_DELETE = do_PUT = forward

    def log_message(self, *args):
        pass


http.server.ThreadingHTTPServer((front_host, int(front_port)), Proxy).serve_forever()
