"""What a worker process needs, built on its first job (never at import) from the same Config."""
from dataclasses import dataclass
from functools import cache

from rq import Queue

from service import logs
from service.config import Config
from service.context import Services, build
from workers.ratelimit import RateLimiter
from workers.sender import Sender, make_sender



@dataclass(frozen=True)
class Runtime:
    svc: Services
    sender: Sender
    limiter: RateLimiter

    def queue(self, name: str) -> Queue:
        return Queue(name, connection=self.svc.redis)


def make_runtime(svc: Services, sender: Sender | None = None) -> Runtime:
    return Runtime(svc, sender or make_sender(svc.config, svc.redis, svc.vault),
                   RateLimiter(svc.redis, svc.config.send_rate_per_second))


@cache
def current() -> Runtime:
    logs.configure()
    return make_runtime(build(Config.from_env()))
