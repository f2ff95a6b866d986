"""CardDesk's two commands.

    python3 -m helpdesk up      set up and run everything (web, chat, worker, beat) with demo data
    python3 -m helpdesk test    run the whole test suite (extra arguments go to pytest)

This module starts on any Python 3.11+ with only the standard library: it creates `.venv/`, installs the
pinned requirements into it (again only when they changed) and re-executes itself there. When DATABASE_URL /
REDIS_URL are unset it starts embedded PostgreSQL and Redis under `var/` and stops them on exit.
"""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV = Path(os.environ.get("CARDDESK_VENV", ROOT / ".venv"))
VAR = Path(os.environ.get("CARDDESK_VAR_DIR", ROOT / "var"))
USAGE = __doc__.split("\n\n")[1]


def say(message: str) -> None:
    print(f"[carddesk] {message}", flush=True)


def die(message: str, code: int = 1) -> None:
    print(f"[carddesk] error: {message}", file=sys.stderr, flush=True)
    sys.exit(code)


# --- 1. virtualenv and pinned requirements ---------------------------------------------------------------


def venv_python() -> Path:
    return VENV / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def running_in_venv() -> bool:
    return Path(sys.prefix).resolve() == VENV.resolve()


def requirements_for(command: str) -> Path:
    return ROOT / ("requirements-dev.txt" if command == "test" else "requirements.txt")


def _fingerprint(requirements: Path) -> str:
    digest = hashlib.sha256()
    for name in ("requirements.txt", requirements.name):
        digest.update((ROOT / name).read_bytes())
    digest.update(sys.version.encode())
    return digest.hexdigest()


def ensure_installed(python: Path, requirements: Path) -> None:
    stamp = VENV / f".installed-{requirements.stem}"
    fingerprint = _fingerprint(requirements)
    if stamp.exists() and stamp.read_text() == fingerprint:
        return
    say(f"installing {requirements.name} into {VENV} (first run takes a minute)")
    pip = [str(python), "-m", "pip", "--disable-pip-version-check"]
    subprocess.run([*pip, "install", "--quiet", "--upgrade", "pip"], check=False)
    result = subprocess.run([*pip, "install", "--quiet", "-r", str(requirements)], check=False)
    if result.returncode != 0:
        die(f"pip could not install {requirements.name} (see above)")
    stamp.write_text(fingerprint)


def bootstrap(command: str) -> None:
    """Make sure we run inside the project's virtualenv with current requirements."""
    if sys.version_info < (3, 11):  # noqa: UP036 (this file runs on whatever python3 the user has)
        die("CardDesk needs Python 3.11 or newer.")
    requirements = requirements_for(command)
    if running_in_venv():
        ensure_installed(Path(sys.executable), requirements)
        return
    python = venv_python()
    if not python.exists():
        say(f"creating virtualenv {VENV}")
        subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
    ensure_installed(python, requirements)
    os.execv(str(python), [str(python), "-m", "helpdesk", *sys.argv[1:]])  # noqa: S606


# --- 2. services -----------------------------------------------------------------------------------------


def ensure_services() -> None:
    """Use DATABASE_URL / REDIS_URL when given; otherwise start the embedded servers (held by this process)."""
    from helpdesk import embedded

    VAR.mkdir(parents=True, exist_ok=True)
    if os.environ.get("DATABASE_URL"):
        embedded.create_database_if_missing(os.environ["DATABASE_URL"])
        say("PostgreSQL: using DATABASE_URL")
    else:
        say("PostgreSQL: DATABASE_URL unset, starting the embedded server in var/pg")
        embedded.ensure_database_url(VAR)
    if os.environ.get("REDIS_URL"):
        say("Redis: using REDIS_URL")
    else:
        say("Redis: REDIS_URL unset, starting the embedded server in var/redis")
        embedded.ensure_redis_url(VAR)


def manage(*args: str) -> None:
    result = subprocess.run([sys.executable, str(ROOT / "manage.py"), *args], cwd=ROOT, check=False)
    if result.returncode != 0:
        die(f"manage.py {' '.join(args)} failed")


# --- 3. the supervised processes -------------------------------------------------------------------------


class Child:
    def __init__(self, name: str, argv: list[str]):
        self.name = name
        self.argv = argv
        self.process: subprocess.Popen | None = None
        self.restarts: list[float] = []

    def start(self) -> None:
        self.process = subprocess.Popen(self.argv, cwd=ROOT, start_new_session=True)

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def stop(self) -> None:
        if self.alive():
            os.killpg(self.process.pid, signal.SIGTERM)

    def kill(self) -> None:
        if self.alive():
            os.killpg(self.process.pid, signal.SIGKILL)


def children(host: str, port: str) -> list[Child]:
    py = sys.executable
    concurrency = os.environ.get("CELERY_CONCURRENCY", "2")
    web_workers = os.environ.get("WEB_WORKERS", "1")  # ASGI processes; chat is CPU-bound per process (README)
    return [
        Child(
            "web",
            [py, "-m", "uvicorn", "helpdesk.asgi:application", "--host", host, "--port", port,
             "--lifespan", "off", "--no-server-header", "--proxy-headers", "--workers", web_workers,
             "--ws-per-message-deflate", "false"],  # small JSON frames: deflate cost 20 % of a chat burst (README)
        ),
        Child(
            "worker",
            [py, "-m", "celery", "-A", "helpdesk", "worker", "--loglevel", "INFO", "--concurrency", concurrency,
             "--without-gossip", "--without-mingle", "--hostname", "worker@%h"],
        ),
        Child(
            "beat",
            [py, "-m", "celery", "-A", "helpdesk", "beat", "--loglevel", "INFO",
             "--schedule", str(VAR / "celerybeat-schedule")],
        ),
    ]  # fmt: skip


def wait_healthy(url: str, timeout: float = 60.0, stop=lambda: False) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and not stop():
        try:
            with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 (our own loopback URL)
                if response.status == 200:
                    return True
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.5)
    return False


def banner(base: str) -> None:
    password = os.environ.get("DEMO_PASSWORD", "carddesk-demo")
    lines = [
        "",
        "CardDesk is running. Press Ctrl-C to stop everything.",
        "",
        f"  Agent console   {base}/console/",
        f"  Admin           {base}/admin/",
        f"  Help centre     {base}/help/   (with the chat widget)",
        f"  Demo shop page  {base}/chat/demo/   (the widget on a shop's site, customer signed in)",
        f"  REST API        {base}/api/v1/",
        f"  Health          {base}/healthz",
        "",
        f"  Demo logins (password: {password})",
        "    supervisor                 supervisor, all queues, Django admin",
        "    agent1 agent2 agent3 agent4  agents with their queues",
        "    merchant1 merchant2        shop owners (see only their shop)",
        "    customer1                  a customer of the first shop",
        "",
    ]
    print("\n".join(lines), flush=True)


def up() -> int:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "helpdesk.settings.local")
    host = os.environ.get("HOST", "127.0.0.1")
    port = os.environ.get("PORT", "8000")
    ensure_services()
    say("migrating the database")
    manage("migrate", "--noinput", "-v", "0")
    manage("seed_automation")
    if os.environ.get("DEMO", "1") != "0":
        say("loading demo data (skipped when already present)")
        manage("seed_demo")
        manage("seed_kb")
        manage("seed_chat")

    stopping = False

    def request_stop(signum, frame):
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)

    procs = children(host, port)
    for child in procs:
        child.start()
    base = f"http://{host}:{port}"
    if wait_healthy(f"{base}/healthz", stop=lambda: stopping):
        banner(base)
    elif not stopping:
        say(f"warning: {base}/healthz did not answer 200 within 60 s; see the logs above")

    while not stopping:
        time.sleep(0.5)
        for child in procs:
            if stopping or child.alive():
                continue
            now = time.monotonic()
            child.restarts = [t for t in child.restarts if now - t < 60] + [now]
            if len(child.restarts) > 5:
                say(f"{child.name} keeps exiting (code {child.process.returncode}); stopping everything")
                stopping = True
                break
            say(f"{child.name} exited with code {child.process.returncode}; restarting")
            time.sleep(min(2 ** len(child.restarts), 10))
            child.start()

    say("stopping web, worker and beat")
    for child in procs:
        child.stop()
    deadline = time.monotonic() + 15
    while any(c.alive() for c in procs) and time.monotonic() < deadline:
        time.sleep(0.2)
    for child in procs:
        child.kill()
    from helpdesk import embedded

    embedded.stop()
    say("stopped")
    return 0


def _migrations_fingerprint() -> str:
    digest = hashlib.sha256()
    for path in sorted(ROOT.glob("*/migrations/*.py")):
        digest.update(str(path.relative_to(ROOT)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def test(pytest_args: list[str]) -> int:
    os.environ["DJANGO_SETTINGS_MODULE"] = "helpdesk.settings.test"
    ensure_services()
    # pytest reuses the test database (--reuse-db); when any migration file changed since the last run here,
    # build it anew so the schema matches the code (a reused one keeps whatever an old migration made).
    stamp = VAR / ".test-db-migrations"
    fingerprint = _migrations_fingerprint()
    if not (stamp.exists() and stamp.read_text() == fingerprint) and "--create-db" not in pytest_args:
        say("migrations changed since the last test run: recreating the test database")
        pytest_args = ["--create-db", *pytest_args]
    result = subprocess.run([sys.executable, "-m", "pytest", *pytest_args], cwd=ROOT, check=False)
    if result.returncode in (0, 1):  # the database was built (tests ran)
        stamp.write_text(fingerprint)
    from helpdesk import embedded

    embedded.stop()
    return result.returncode


def main() -> None:
    args = sys.argv[1:]
    if not args or args[0] not in {"up", "test"}:
        print(USAGE)
        sys.exit(0 if args and args[0] in {"-h", "--help"} else 2)
    command = args[0]
    bootstrap(command)
    os.chdir(ROOT)
    sys.path.insert(0, str(ROOT))
    sys.exit(up() if command == "up" else test(args[1:]))


if __name__ == "__main__":
    main()
