"""`make run`: dev secrets, an embedded Redis unless REDIS_URL is set, then the Procfile under honcho."""
import os
import secrets
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from cryptography.fernet import Fernet

from devtools.embedded_redis import from_environment

ROOT = Path(__file__).resolve().parent.parent
VAR = ROOT / "var"
DEV_ENV = VAR / "dev.env"
RUN_ENV = VAR / "run.env"
LOGIN = VAR / "dev-login.txt"  # the development admin's sign-in, kept where the README says
READY_TIMEOUT = 60


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
    """A development admin, so the console and simulator work right after `make run` (never in production);
    var/'s data from an older layout is moved first, as `flask ops migrate-keys` would."""
    from redis import Redis

    from service import migration
    from service.store import accounts, keys, legacy
    email, password = "admin@localhost", env["DEV_ADMIN_PASSWORD"]
    r = Redis.from_url(url, client_name=keys.client_name(""))  # the one program of the default FLOWS_DIR
    if legacy.left(r):  # var/redis from a release before programs: `flask ops migrate-keys`, done for you
        migration.migrate(r, time.time())
    if accounts.get(r, email) is None:
        accounts.create(r, email, password, accounts.Role.ADMIN, now=time.time())
    return email, password


def write_run_env(env: dict[str, str]) -> None:
    """var/run.env: what `flask --app service ...` commands need to reach this running instance."""
    names = ("APP_ENV", "REDIS_URL", "PUBLIC_BASE_URL", "PORT", "CONSOLE_PORT", *dev_values())
    RUN_ENV.write_text("FLASK_APP=service\n" + "".join(f"{n}={env[n]}\n" for n in names if n in env))
    RUN_ENV.chmod(0o600)


def main() -> int:
    env = {**dev_values(), **{k: v for k, v in os.environ.items() if v}}
    env.setdefault("APP_ENV", "development")
    env.setdefault("PORT", "5000")
    env.setdefault("CONSOLE_PORT", "5001")
    env.setdefault("PUBLIC_BASE_URL", f"http://localhost:{env['PORT']}")
    url, server = from_environment(VAR / "redis")
    env["REDIS_URL"] = url
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])
    write_run_env(env)
    admin = ensure_dev_admin(url, env) if env["APP_ENV"] == "development" else None
    banner = _banner(env, admin, "embedded, data in var/redis" if server else "REDIS_URL")
    if admin:
        LOGIN.write_text(banner + "\n")
        LOGIN.chmod(0o600)
    print(banner, flush=True)
    honcho = subprocess.Popen([sys.executable, "-m", "honcho", "start", "-f", str(ROOT / "Procfile")],
                              cwd=ROOT, env={**os.environ, **env})
    signal.signal(signal.SIGTERM, _raise_interrupt)
    try:
        web, console = (f"http://localhost:{env[p]}/healthz" for p in ("PORT", "CONSOLE_PORT"))
        if _wait_until_up(web, honcho) and _wait_until_up(console, honcho):
            print("\n" + "=" * 72 + "\nReady.\n" + banner + "\n" + "=" * 72, flush=True)
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


def _banner(env: dict[str, str], admin: tuple[str, str] | None, redis: str) -> str:
    lines = [f"redis: {redis}; Twilio webhook on {env['PUBLIC_BASE_URL']}/twilio/sms",
             f"staff console: http://localhost:{env['CONSOLE_PORT']}/staff/"]
    if admin:
        lines.append(f"sign in as {admin[0]} / {admin[1]}   (kept in var/dev-login.txt)")
    return "\n".join(lines)


def _wait_until_up(url: str, honcho: subprocess.Popen) -> bool:
    """Poll the web process until it answers, so the banner comes after the start-up noise."""
    deadline = time.monotonic() + READY_TIMEOUT
    while time.monotonic() < deadline and honcho.poll() is None:
        try:
            with urllib.request.urlopen(url, timeout=1) as response:
                if response.status == 200:
                    time.sleep(1.0)  # let the workers' start-up lines pass first
                    return True
        except OSError:
            time.sleep(0.3)
    return False


def _raise_interrupt(signum, frame):
    raise KeyboardInterrupt


if __name__ == "__main__":
    sys.exit(main())
