"""What every benchmark starts and measures: gunicorn arbiters in their own process groups, CPU time of
process trees, how busy the whole machine was, and the environment a service process needs."""
import http.client
import os
import secrets
import signal
import subprocess
import sys
import time
from pathlib import Path

from cryptography.fernet import Fernet

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
TICK = os.sysconf("SC_CLK_TCK")
AUTH_TOKEN = "bench-auth-token-0123456789abcdef"


def service_env(redis_url: str, public_base_url: str, **extra: str) -> dict[str, str]:
    """A service process's environment: test mode (no production checks), fresh secrets."""
    env = {k: v for k, v in os.environ.items() if k not in ("GUNICORN_CMD_ARGS", "WEB_CONCURRENCY")}
    env["PATH"] = os.pathsep.join([str(BIN), os.environ.get("PATH", "")])
    env.update({"APP_ENV": "test", "REDIS_URL": redis_url, "SECRET_KEY": secrets.token_urlsafe(32),
                "PUBLIC_BASE_URL": public_base_url, "TWILIO_ACCOUNT_SID": "AC" + "0" * 32,
                "TWILIO_AUTH_TOKEN": AUTH_TOKEN, "DATA_ENCRYPTION_KEY": Fernet.generate_key().decode(),
                "PHONE_HASH_KEY": secrets.token_urlsafe(32), "REPLIES_PER_HOUR": "100000", **extra})
    return env


class Gunicorn:
    """One gunicorn arbiter in its own process group, logs to a file; stop() always leaves nothing behind."""

    def __init__(self, name: str, app: str, workers: int, env: dict[str, str], logdir: Path, port: int,
                 cwd: Path = ROOT):
        self.name, self.app, self.workers, self.env, self.port, self.cwd = name, app, workers, env, port, cwd
        self.log = logdir / f"{name}.gunicorn.log"
        self.process: subprocess.Popen | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> "Gunicorn":
        cmd = [str(BIN / "gunicorn"), "--bind", f"127.0.0.1:{self.port}", "--workers", str(self.workers),
               "--worker-class", "sync", "--log-level", "info", self.app]
        with open(self.log, "wb") as log:
            self.process = subprocess.Popen(cmd, cwd=self.cwd, env=self.env, stdout=log, stderr=subprocess.STDOUT,
                                            stdin=subprocess.DEVNULL, start_new_session=True)
        return self

    def wait_ready(self, timeout: float = 60.0) -> None:
        """Ready when all workers have booted and one of them answers HTTP (any status)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name}: gunicorn exited {self.process.returncode}\n{self.log_tail()}")
            booted = self.log.read_text(errors="replace").count("Booting worker")
            if booted >= self.workers and self._answers():
                return
            time.sleep(0.1)
        raise RuntimeError(f"{self.name}: not ready within {timeout}s\n{self.log_tail()}")

    def _answers(self) -> bool:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
        try:
            conn.request("GET", "/")
            conn.getresponse().read()
            return True
        except OSError:
            return False
        finally:
            conn.close()

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def cpu_seconds(self) -> float:
        return tree_cpu_seconds(self.process.pid) if self.process else 0.0

    def stop(self) -> None:
        if not self.process or self.process.poll() is not None:
            return
        self.process.terminate()  # graceful: the arbiter stops its workers
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)  # the group this script created for it
            self.process.wait(timeout=5)


def tree_cpu_seconds(pid: int) -> float:
    """user+system CPU of a live process and its live descendants, from /proc."""
    total = 0.0
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        total += (int(fields[11]) + int(fields[12])) / TICK
        for task in Path(f"/proc/{pid}/task").iterdir():
            for child in (task / "children").read_text().split():
                total += tree_cpu_seconds(int(child))
    except (OSError, IndexError, ValueError):
        pass
    return total


class CpuMeter:
    """CPU used by the app's server processes, redis and this load generator over one phase."""

    def __init__(self, server: Gunicorn, redis_pid: int | None):
        self.server, self.redis_pid = server, redis_pid

    def sample(self) -> tuple[float, ...]:
        return (time.monotonic(), self.server.cpu_seconds(),
                tree_cpu_seconds(self.redis_pid) if self.redis_pid else 0.0, time.process_time(), machine_busy())

    @staticmethod
    def delta(before, after, requests: int) -> dict:
        wall, server, redis, loadgen, busy = (a - b for a, b in zip(after, before))
        per = 1000.0 / requests if requests else float("nan")
        return {"server_cpu_ms_per_req": round(server * per, 3), "redis_cpu_ms_per_req": round(redis * per, 3),
                "loadgen_cpu_ms_per_req": round(loadgen * per, 3),
                "server_cpu_cores": round(server / wall, 2), "redis_cpu_cores": round(redis / wall, 2),
                "loadgen_cpu_cores": round(loadgen / wall, 2), "machine_busy_cores": round(busy / wall, 2),
                # softirq/loopback work plus anything else running on the machine (other benchmarks, tests)
                "other_cpu_cores": round(max(busy - server - redis - loadgen, 0.0) / wall, 2)}


def machine_busy() -> float:
    """Non-idle CPU seconds of the whole machine since boot, from /proc/stat."""
    try:
        values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    except (OSError, ValueError):
        return 0.0
    # user nice system idle iowait irq softirq steal: busy is what ran here, not idle/iowait/steal
    return sum(v for i, v in enumerate(values[:7]) if i not in (3, 4)) / TICK
