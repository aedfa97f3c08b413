"""`python -m workers.supervise CMD...`: restart CMD when it dies, e.g. an RQ worker that lost Redis in a
failover (the rq CLI exits on connection errors). SIGTERM/SIGINT are passed on and end the loop.
Every restart sees the same SUPERVISE_INSTANCE (fresh per supervise process, never shared): the RQ
scheduler takes it as its name, so a restarted one owns the locks its killed predecessor left."""
import os
import signal
import subprocess
import sys
import time
import uuid

MAX_BACKOFF = 30.0
INSTANCE = "SUPERVISE_INSTANCE"


def main(argv: list[str]) -> int:
    if not argv:
        print("usage: python -m workers.supervise COMMAND [ARGS...]", file=sys.stderr)
        return 2
    stopping = False
    child: subprocess.Popen | None = None

    def forward(signum, frame):
        nonlocal stopping
        stopping = True
        if child and child.poll() is None:
            child.send_signal(signum)

    signal.signal(signal.SIGTERM, forward)
    signal.signal(signal.SIGINT, forward)
    backoff = 1.0
    env = {**os.environ, INSTANCE: uuid.uuid4().hex}  # one id for this supervisor's command, whoever runs it
    while True:
        started = time.monotonic()
        child = subprocess.Popen(argv, env=env)
        code = child.wait()
        if stopping or code == 0:
            return code
        backoff = 1.0 if time.monotonic() - started > 60 else min(backoff * 2, MAX_BACKOFF)
        print(f"supervise: {argv[0]} exited with {code}; restarting in {backoff:.0f}s", file=sys.stderr, flush=True)
        time.sleep(backoff)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
