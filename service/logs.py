"""Structured logs: one JSON object per line, MessageSid for correlation, never a number or a body."""
import json
import logging
import sys

FIELDS = ("sid", "person", "intent", "flow", "replies", "silence", "crisis", "mid", "state", "code", "provider_sid",
          "count")
_configured = False


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        event = {"ts": round(record.created, 3), "level": record.levelname.lower(), "logger": record.name,
                 "event": record.getMessage()}
        event |= {k: getattr(record, k) for k in FIELDS if hasattr(record, k)}
        if record.exc_info:
            event["error"] = self.formatException(record.exc_info).splitlines()[-1]
        return json.dumps(event, default=str)


def configure(level: int = logging.INFO) -> None:
    """Attach the JSON handler to our own loggers once per process (libraries keep their own format)."""
    global _configured
    if _configured:
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    for name in ("service", "workers"):
        logger = logging.getLogger(name)
        logger.addHandler(handler)
        logger.setLevel(level)
    _configured = True
