"""HTTP servers the tests run on loopback: the fake Twilio API and webhook receivers."""

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def serve_on_loopback(handler: type[BaseHTTPRequestHandler], port: int = 0) -> ThreadingHTTPServer:
    """Serve `handler` on 127.0.0.1:`port` (a free one for 0) from a daemon thread."""
    server = ThreadingHTTPServer(("127.0.0.1", port), handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def stop_serving(server: ThreadingHTTPServer | None) -> None:
    """Stop `server` (if it was started) and close its socket."""
    if server is not None:
        server.shutdown()
        server.server_close()
