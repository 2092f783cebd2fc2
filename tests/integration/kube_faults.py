"""Scripted failures of the test API server, for tests of how clients
surface them: POST /_control/fail {"method": "PATCH", "path": "/apis/...",
"code": 422, "reason": "Invalid", "message": "...", "causes": [...],
"times": 1} makes the next matching request(s) fail with that Status
(times -1: until replaced; an empty list clears everything)."""
import threading

from kube_store import ApiError


class Faults:
    def __init__(self):
        self.lock = threading.Lock()
        self.rules = []

    def set(self, d):
        with self.lock:
            if isinstance(d, list):
                self.rules = list(d)
            else:
                self.rules.append(dict(d))

    def check(self, method, path):
        """Raises the ApiError of the first rule matching method and path."""
        with self.lock:
            for r in self.rules:
                if r.get("method", method) != method or not path.startswith(r.get("path", "")):
                    continue
                if r.get("times", 1) == 0:
                    continue
                if r.get("times", 1) > 0:
                    r["times"] = r.get("times", 1) - 1
                details = {"causes": r["causes"]} if r.get("causes") else None
                raise ApiError(r.get("code", 500), r.get("reason", "InternalError"),
                               r.get("message", "injected failure"), details)
