"""The Sender seam: Twilio in production, a Redis outbox in development, simulator and tests."""
import json
import logging
import uuid
from dataclasses import dataclass
from enum import Enum
from typing import Protocol

import requests
from redis import Redis
from twilio.base.exceptions import TwilioException, TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client
from urllib3.exceptions import MaxRetryError, NewConnectionError

from service import channels
from service.clock import Clock
from service.config import Config
from service.privacy import Vault
from service.store import outbox

log = logging.getLogger("workers.sender")
OPTED_OUT_CODES = {21610}
UNDELIVERABLE_CODES = {21211, 21614, 21612, 21408, 21635}
STILL_SENDING = 20009  # Twilio refuses to delete a message it is still delivering


class Failure(str, Enum):
    OPTED_OUT = "opted_out"  # the carrier says this person sent STOP
    UNDELIVERABLE = "undeliverable"  # not a mobile number, or not reachable
    RETRY = "retry"  # nothing was sent; safe to try again later
    UNKNOWN = "unknown"  # the request may have gone through: never resend
    REJECTED = "rejected"  # refused for another reason; resending won't help


class SendError(Exception):
    def __init__(self, failure: Failure, code: int | None = None, detail: str = ""):
        super().__init__(f"{failure.value} (code {code}): {detail}")
        self.failure, self.code = failure, code


@dataclass(frozen=True)
class Sent:
    provider_sid: str


class Sender(Protocol):
    def send(self, to: str, body: str, content: dict | None = None) -> Sent:
        """`to`: a number or channel address; `content`: an approved template ({"sid": "HX...",
        "variables": {...}}) sent instead of the body (WhatsApp after its 24-hour window)."""

    def find(self, number: str) -> list[str]:
        """The ids of every message the provider keeps to or from this number."""

    def delete(self, sid: str) -> None:
        """Delete one message at the provider (gone already counts as done); SendError(RETRY) when it
        can't be done now."""


class OutboxSender:
    """Records instead of sending; messages stay readable for the simulator (encrypted at rest)."""

    def __init__(self, redis: Redis, vault: Vault, clock: Clock):
        self.redis, self.vault, self.clock = redis, vault, clock

    def send(self, to: str, body: str, content: dict | None = None) -> Sent:
        sid = "SM" + uuid.uuid4().hex
        outbox.append(self.redis, self.vault, sid, to, body, self.clock.now())
        return Sent(sid)

    def find(self, number: str) -> list[str]:
        return [m["sid"] for m in outbox.read(self.redis, self.vault) if m["to"] == number]

    def delete(self, sid: str) -> None:
        outbox.remove(self.redis, self.vault, sid)


class TwilioSender:
    """Twilio's own client; TWILIO_API_BASE_URL points it at another origin (a local fake in tests)."""

    def __init__(self, config: Config, timeout: float = 10.0):
        self.client = Client(config.twilio_account_sid, config.twilio_auth_token.reveal(),
                             http_client=TwilioHttpClient(timeout=timeout, pool_connections=True))
        if config.twilio_api_base_url:
            self.client.api.base_url = config.twilio_api_base_url
        self.service_sid, self.from_number = config.twilio_messaging_service_sid, config.twilio_from_number
        self.whatsapp_number = config.twilio_whatsapp_number
        self.own = frozenset(config.program_numbers)  # one program of several: only its texts are its own
        self.status_callback = config.public_base_url + "/twilio/status"

    def warm_up(self) -> bool:
        """Fetch our own account once when a worker starts: a wrong SID or auth token shows in the log
        at once instead of at the first text, and that first text finds the connection open."""
        try:
            self.client.api.v2010.accounts(self.client.account_sid).fetch()
            return True
        except TwilioRestException as exc:
            log.error("twilio_account_check_failed", extra={"code": exc.code, "state": str(exc.status)})
        except (TwilioException, requests.exceptions.RequestException) as exc:
            log.warning("twilio_unreachable_at_start", extra={"state": type(exc).__name__})
        return False

    def origin(self, to: str) -> dict:
        """The Messaging Service picks a sender of the address's channel from its pool; else our number on
        that channel."""
        if self.service_sid:
            return {"messaging_service_sid": self.service_sid}
        return {"from_": channels.sender_for(to, self.from_number, self.whatsapp_number)}

    def send(self, to: str, body: str, content: dict | None = None) -> Sent:
        what = {"content_sid": content["sid"], "content_variables": json.dumps(content.get("variables") or {})} \
            if content else {"body": body}
        try:
            message = self.client.messages.create(to=to, status_callback=self.status_callback, **what,
                                                  **self.origin(to))
        except TwilioRestException as exc:
            raise SendError(classify_status(exc.status, exc.code), exc.code, exc.msg) from None
        except requests.exceptions.RequestException as exc:
            raise SendError(Failure.RETRY if never_sent(exc) else Failure.UNKNOWN, None, type(exc).__name__) from None
        except TwilioException as exc:
            raise SendError(Failure.UNKNOWN, None, type(exc).__name__) from None
        return Sent(message.sid)


    def find(self, number: str) -> list[str]:
        """Texts to and from the number, TwiML replies included (we never learn their sids); with several
        programs on one account, only those to or from this program's own numbers."""
        try:
            sent = [m for m in self.client.messages.stream(to=number, page_size=100)
                    if not self.own or m.from_ in self.own]
            received = [m for m in self.client.messages.stream(from_=number, page_size=100)
                        if not self.own or m.to in self.own]
            return [m.sid for m in sent + received]
        except (TwilioException, requests.exceptions.RequestException) as exc:
            raise SendError(Failure.RETRY, getattr(exc, "code", None), type(exc).__name__) from None

    def delete(self, sid: str) -> None:
        try:
            self.client.messages(sid).delete()
        except TwilioRestException as exc:
            if exc.status == 404:
                return  # gone already
            raise SendError(Failure.RETRY if exc.status in (429, 409) or exc.status >= 500 or exc.code == STILL_SENDING
                            else Failure.REJECTED, exc.code, exc.msg) from None
        except (TwilioException, requests.exceptions.RequestException) as exc:
            raise SendError(Failure.RETRY, None, type(exc).__name__) from None


def classify_status(status: int, code: int | None) -> Failure:
    if code in OPTED_OUT_CODES:
        return Failure.OPTED_OUT
    if code in UNDELIVERABLE_CODES:
        return Failure.UNDELIVERABLE
    if status == 429 or status >= 500:
        return Failure.RETRY
    return Failure.REJECTED


def never_sent(exc: requests.exceptions.RequestException) -> bool:
    """Only a failure to connect proves Twilio never saw the request."""
    if isinstance(exc, requests.exceptions.ConnectTimeout):
        return True
    reason = exc.args[0] if exc.args else None
    return isinstance(reason, MaxRetryError) and isinstance(reason.reason, NewConnectionError)


def make_sender(config: Config, redis: Redis, vault: Vault, clock: Clock) -> Sender:
    return TwilioSender(config) if config.twilio_enabled else OutboxSender(redis, vault, clock)
