"""One REDIS_URL, three client dialects (redis-py, kombu, channels-redis)."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit


@dataclass(frozen=True)
class RedisUrl:
    url: str
    scheme: str
    db: int
    socket_path: str | None

    @classmethod
    def parse(cls, url: str) -> RedisUrl:
        parts = urlsplit(url)
        if parts.scheme not in {"redis", "rediss", "unix"}:
            raise ValueError(f"REDIS_URL must start with redis://, rediss:// or unix://, not {parts.scheme}://")
        query = parse_qs(parts.query)
        if parts.scheme == "unix":
            db = int(query.get("db", ["0"])[0])
            return cls(url=url, scheme="unix", db=db, socket_path=parts.path)
        path = parts.path.lstrip("/")
        db = int(path) if path else int(query.get("db", ["0"])[0])
        return cls(url=url, scheme=parts.scheme, db=db, socket_path=None)

    def with_db(self, db: int) -> RedisUrl:
        if self.socket_path:
            return RedisUrl(f"unix://{self.socket_path}?db={db}", "unix", db, self.socket_path)
        parts = urlsplit(self.url)
        url = f"{parts.scheme}://{parts.netloc}/{db}" + (f"?{parts.query}" if parts.query else "")
        return RedisUrl(url, self.scheme, db, None)

    def kombu_url(self) -> str:
        """Celery's broker URL: kombu spells a unix socket `redis+socket://`."""
        if self.socket_path:
            return f"redis+socket://{self.socket_path}?virtual_host={self.db}"
        return self.with_db(self.db).url
