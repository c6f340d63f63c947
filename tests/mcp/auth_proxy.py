#!/usr/bin/env python3
"""A loopback reverse proxy that adds `Authorization: Bearer <key>` to every request.

The MCP conformance suite cannot send credentials, and /mcp refuses requests without one; this
proxy stands between them. It forwards method, path, body and every other header unchanged
(Host and Origin too, so the DNS-rebinding checks still see what the suite sent).

    auth_proxy.py LISTEN_PORT TARGET_PORT API_KEY
"""
import http.client
import http.server
import sys

LISTEN, TARGET, KEY = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
HOP = {"connection", "keep-alive", "transfer-encoding", "te", "trailer", "upgrade", "proxy-authorization"}


class Proxy(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def forward(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else None
        upstream = http.client.HTTPConnection("127.0.0.1", TARGET, timeout=60)
        upstream.putrequest(self.command, self.path, skip_host=True, skip_accept_encoding=True)
        for name, value in self.headers.items():
            if name.lower() not in HOP and name.lower() != "authorization":
                upstream.putheader(name, value)
        upstream.putheader("Authorization", f"Bearer {KEY}")
        if body is not None:
            upstream.putheader("Content-Length", str(len(body)))
        upstream.endheaders(body)
        response = upstream.getresponse()
        payload = response.read()
        self.send_response(response.status, response.reason)
        for name, value in response.getheaders():
            if name.lower() not in HOP and name.lower() != "content-length":
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)
        upstream.close()

    do_GET = do_POST = do_DELETE = do_PUT = do_PATCH = do_OPTIONS = forward

    def log_message(self, *args):
        pass


http.server.ThreadingHTTPServer(("127.0.0.1", LISTEN), Proxy).serve_forever()
