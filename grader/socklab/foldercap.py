"""A cap on what a case's programs may write into the case's folder, the
only place on the host they can write to: a thread measures the folder a few
times a second and stops the programs once it holds more than the cap, so a
program that writes without end fills no disk (it may overshoot by what it
writes between two looks)."""

import os
import threading


def folder_bytes(top):
    """Bytes of the regular files below TOP (links not followed); 0 if gone."""
    total = 0
    stack = [top]
    while stack:
        try:
            with os.scandir(stack.pop()) as entries:
                for entry in entries:
                    if entry.is_dir(follow_symlinks=False):
                        stack.append(entry.path)
                    elif entry.is_file(follow_symlinks=False):
                        total += entry.stat(follow_symlinks=False).st_blocks * 512
        except OSError:
            continue
    return total


class FolderCap:
    """Calls ON_EXCEEDED(bytes) once when TOP holds more than CAP bytes."""

    def __init__(self, top, cap, on_exceeded, interval=0.2):
        self.top = top
        self.cap = cap
        self.exceeded = None          # the size seen over the cap, once
        self._on_exceeded = on_exceeded
        self._interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True, name="folder-cap")
        self._thread.start()

    def _watch(self):
        while not self._stop.wait(self._interval):
            size = folder_bytes(self.top)
            if size > self.cap:
                self.exceeded = size
                self._on_exceeded(size)
                return

    def close(self):
        self._stop.set()
        self._thread.join(5)
