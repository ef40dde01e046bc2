"""Waits until URL answers 2xx, polling from this one process (a curl per poll costs the 2-core
machine about 20 ms of CPU, which the benches would measure as the kernel's). Exits non-zero as
soon as process PID has exited, or after TIMEOUT seconds (default 300).

    python3 bench/runs/await_http.py URL PID [TIMEOUT]
"""
import os
import sys
import time
import urllib.request

url, pid = sys.argv[1], int(sys.argv[2])
deadline = time.monotonic() + (float(sys.argv[3]) if len(sys.argv) > 3 else 300)
while True:
    try:
        urllib.request.urlopen(url, timeout=2).close()
        break
    except Exception:
        try:
            os.kill(pid, 0)
        except OSError:
            sys.exit(f"process {pid} exited before {url} answered")
        if time.monotonic() > deadline:
            sys.exit(f"{url} did not answer within {sys.argv[3] if len(sys.argv) > 3 else 300} s")
        time.sleep(0.05)
