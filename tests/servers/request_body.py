"""The body of a request a test server's BaseHTTPRequestHandler received:
Content-Length or chunked (extensions and trailers skipped), as the agent's
clients send them."""


def read(handler):
    n = int(handler.headers.get("Content-Length") or 0)
    if n:
        return handler.rfile.read(n)
    if handler.headers.get("Transfer-Encoding", "").lower() == "chunked":
        out = b""
        while True:
            size = int(handler.rfile.readline().split(b";")[0], 16)
            if size == 0:
                handler.rfile.readline()
                return out
            out += handler.rfile.read(size)
            handler.rfile.readline()
    return b""
