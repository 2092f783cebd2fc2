"""Test servers end with the process that started them.

A unit test that crashes (or a test script killed by ctest's timeout) cannot stop the server it
spawned; the server, still holding ctest's stderr, then makes ctest wait for its whole timeout
instead of reporting the failure. exit_with_parent() ends this process soon after its parent
is gone (it is re-parented, so os.getppid() changes)."""
import os
import threading
import time


BEFORE_EXIT = []  # callables run before that exit (kube_sched_run stops its processes)


def exit_with_parent(poll_seconds=0.5):
    parent = os.getppid()

    def watch():
        while os.getppid() == parent:
            time.sleep(poll_seconds)
        for f in BEFORE_EXIT:
            f()
        os._exit(0)

    threading.Thread(target=watch, name="orphan-guard", daemon=True).start()
