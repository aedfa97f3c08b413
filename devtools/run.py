"""`make run`: dev secrets, an embedded Redis unless REDIS_URL is set, then the Procfile under honcho."""
import os
import secrets
import signal
import subprocess
import sys
import time
from pathlib import Path

from cryptography.fernet import Fernet

from devtools.embedded_redis import from_environment

ROOT = Path(__file__).resolve().parent.parent
VAR = ROOT / "var"
DEV_ENV = VAR / "dev.env"
RUN_ENV = VAR / "run.env"


def dev_values() -> dict[str, str]:
    """Generated once and kept in var/dev.env, so data encrypted yesterday still decrypts today."""
    VAR.mkdir(exist_ok=True)
    if not DEV_ENV.exists():
        values = {
            "SECRET_KEY": secrets.token_urlsafe(32),
            "DATA_ENCRYPTION_KEY": Fernet.generate_key().decode(),
            "PHONE_HASH_KEY": secrets.token_urlsafe(32),
            "TWILIO_ACCOUNT_SID": "AC" + secrets.token_hex(16),
            "TWILIO_AUTH_TOKEN": secrets.token_hex(16),
            "DEV_ADMIN_PASSWORD": secrets.token_urlsafe(12),
        }
        DEV_ENV.write_text("".join(f"{k}={v}\n" for k, v in values.items()))
        DEV_ENV.chmod(0o600)
    values = dict(line.split("=", 1) for line in DEV_ENV.read_text().splitlines() if "=" in line)
    if "DEV_ADMIN_PASSWORD" not in values:  # dev.env from before this setting existed
        values["DEV_ADMIN_PASSWORD"] = secrets.token_urlsafe(12)
        DEV_ENV.write_text("".join(f"{k}={v}\n" for k, v in values.items()))
    return values


def ensure_dev_admin(url: str, env: dict[str, str]) -> tuple[str, str]:
    """A development admin, so the console and simulator work right after `make run` (never in production)."""
    from redis import Redis

    from service.store import accounts
    email, password = "admin@localhost", env["DEV_ADMIN_PASSWORD"]
    r = Redis.from_url(url)
    if accounts.get(r, email) is None:
        accounts.create(r, email, password, accounts.Role.ADMIN, now=time.time())
    return email, password


def write_run_env(env: dict[str, str]) -> None:
    """var/run.env: what `flask --app service ...` commands need to reach this running instance."""
    names = ("APP_ENV", "REDIS_URL", "PUBLIC_BASE_URL", "PORT", *dev_values())
    RUN_ENV.write_text("FLASK_APP=service\n" + "".join(f"{n}={env[n]}\n" for n in names if n in env))
    RUN_ENV.chmod(0o600)


def main() -> int:
    env = {**dev_values(), **{k: v for k, v in os.environ.items() if v}}
    env.setdefault("APP_ENV", "development")
    env.setdefault("PORT", "5000")
    env.setdefault("PUBLIC_BASE_URL", f"http://localhost:{env['PORT']}")
    url, server = from_environment(VAR / "redis")
    env["REDIS_URL"] = url
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])
    write_run_env(env)
    admin = ensure_dev_admin(url, env) if env["APP_ENV"] == "development" else None
    print(f"redis: {'embedded, data in var/redis' if server else 'REDIS_URL'}; web on {env['PUBLIC_BASE_URL']}")
    print(f"staff console: {env['PUBLIC_BASE_URL']}/staff/" + (f"  (sign in as {admin[0]} / {admin[1]})" if admin else ""))
    workers = f"worker={env.get('WORKER_PROCESSES', '4')}"
    honcho = subprocess.Popen([sys.executable, "-m", "honcho", "start", "-f", str(ROOT / "Procfile"), "-c", workers],
                              cwd=ROOT, env={**os.environ, **env})
    signal.signal(signal.SIGTERM, _raise_interrupt)
    try:
        return honcho.wait()
    except KeyboardInterrupt:
        honcho.send_signal(signal.SIGINT)
        return honcho.wait()
    finally:
        if honcho.poll() is None:
            honcho.terminate()
            honcho.wait()
        if server:
            server.stop()


def _raise_interrupt(signum, frame):
    raise KeyboardInterrupt


if __name__ == "__main__":
    sys.exit(main())
