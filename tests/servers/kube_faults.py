"""Scripted failures of the test API server, for tests of how clients
surface them: POST /_control/fail {"method": "PATCH", "path": "/apis/...",
"code": 422, "reason": "Invalid", "message": "...", "causes": [...],
"times": 1} makes the next matching request(s) fail with that Status
(times -1: until replaced; an empty list clears everything). A rule with
"delay": SECONDS holds the matching request that long first; without a
"code" it then goes on normally (a slow server). A rule with "hold": NAME
holds it until POST /_control/release {"hold": NAME} (at most 60 s), then
goes on the same way: a test interrupts a client, or writes the object,
while the request is in flight, and releases it when that is done, with no
timing to guess. "query": TEXT narrows a rule to requests whose query string
holds TEXT ("continue=": only the later pages of a LIST). A rule with "cut":
N BYTES lets the request go on but sends only the first N bytes of its
body (the Content-Length still promises the whole), then closes the
connection: a body broken off mid-LIST; with "cut_hold": NAME as well, it
holds the connection open after those bytes until that NAME is released (a
client's timeout fires meanwhile)."""
import threading
import time

from kube_store import ApiError


class Faults:
    def __init__(self):
        self.lock = threading.Lock()
        self.rules = []
        self.holds = {}  # name -> threading.Event, set on release

    def hold_event(self, name):
        with self.lock:
            return self.holds.setdefault(name, threading.Event())

    def release(self, name):
        self.hold_event(name).set()

    def set(self, d):
        with self.lock:
            if isinstance(d, list):
                self.rules = list(d)
            else:
                self.rules.append(dict(d))

    def check(self, method, path, query=""):
        """Raises the ApiError of the first rule matching method and path
        (after its delay, if any); returns a "cut" rule for the response."""
        hit = None
        with self.lock:
            for r in self.rules:
                if r.get("method", method) != method or not path.startswith(r.get("path", "")):
                    continue
                if r.get("query", "") not in query:
                    continue
                if r.get("times", 1) == 0:
                    continue
                if r.get("times", 1) > 0:
                    r["times"] = r.get("times", 1) - 1
                hit = dict(r)
                break
        if hit is None:
            return None
        if "cut" in hit:
            return hit
        # Outside the lock: other requests go on meanwhile.
        if hit.get("delay"):
            time.sleep(float(hit["delay"]))
        if hit.get("hold"):
            self.hold_event(hit["hold"]).wait(60)
        if ("delay" in hit or "hold" in hit) and "code" not in hit:
            return None
        details = {"causes": hit["causes"]} if hit.get("causes") else None
        raise ApiError(hit.get("code", 500), hit.get("reason", "InternalError"),
                       hit.get("message", "injected failure"), details)
