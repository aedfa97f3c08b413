"""What a worker process needs, built before its first job (never at import) from the same Config."""
from dataclasses import dataclass
from functools import cache

from service import logs
from service.config import Config
from service.runtime import Services, build, refuse_unmoved
from service.store.ratelimit import RateLimiter
from workers.sender import OutboxSender, Sender, make_sender


@dataclass(frozen=True)
class Runtime:
    svc: Services
    sender: Sender
    limiter: RateLimiter

    def sender_for(self, record: dict) -> Sender:
        """What the console's simulator caused never reaches a phone, whatever sender is configured."""
        if record.get("simulated") == "1":
            return OutboxSender(self.svc.redis, self.svc.vault, self.svc.clock)
        return self.sender


def make_runtime(svc: Services, sender: Sender | None = None) -> Runtime:
    return Runtime(svc, sender or make_sender(svc.config, svc.redis, svc.vault, svc.clock),
                   RateLimiter(svc.redis, svc.config.send_rate_per_second))


@cache
def current() -> Runtime:
    logs.configure()
    svc = build(Config.from_env())
    refuse_unmoved([svc], strict=True)  # a Redis that does not answer: this job fails, the next checks again
    return make_runtime(svc)
