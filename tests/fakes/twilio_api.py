"""A local fake of Twilio's Messages API, over real HTTP, held to Twilio's OpenAPI description.

The contract comes from twilio_api_v2010_subset.json beside this file (the operations we use, extracted
from twilio/twilio-oai, Apache-2.0): paths and their sid patterns, basic auth, the form parameters of
Create Message and its required To, the query parameters of List Messages, 201/200/204 answers with the
schemas' fields. Tests script failures per number (or per message sid, for deletes).
"""
import base64
import json
import re
import threading
import time
import uuid
from dataclasses import dataclass, field
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

SPEC = Path(__file__).with_name("twilio_api_v2010_subset.json")
MESSAGES_PATH = "/2010-04-01/Accounts/{AccountSid}/Messages.json"
MESSAGE_PATH = "/2010-04-01/Accounts/{AccountSid}/Messages/{Sid}.json"
ACCOUNT_PATH = "/2010-04-01/Accounts/{Sid}.json"


def _pattern(template: str, op: dict) -> re.Pattern:
    """The path as a regex, each {Name} replaced by its parameter's pattern from the spec."""
    regex = re.escape(template)
    for param in op["parameters"]:
        if param["in"] == "path":
            regex = regex.replace(re.escape("{" + param["name"] + "}"),
                                  f"(?P<{param['name']}>" + param["schema"]["pattern"].strip("^$") + ")")
    return re.compile("^" + regex + "$")


def _fields(spec: dict, op: dict, status: str) -> tuple[str, ...]:
    ref = op["responses"][status]["content"]["application/json"]["schema"]
    schema = spec["components"]["schemas"][ref["$ref"].rsplit("/", 1)[-1]] if "$ref" in ref else ref
    return tuple(schema["properties"])


@dataclass(frozen=True)
class Contract:
    path: re.Pattern
    params: frozenset[str]
    required: frozenset[str]
    response_fields: tuple[str, ...]
    list_params: frozenset[str]
    list_fields: tuple[str, ...]
    message_path: re.Pattern
    account_path: re.Pattern  # GET Fetch Account: workers call it when they start
    account_fields: tuple[str, ...]
    content_sid: re.Pattern  # ContentSid's pattern (an approved template: WhatsApp after its 24-hour window)

    @classmethod
    def load(cls, spec_path: Path = SPEC) -> "Contract":
        spec = json.loads(spec_path.read_text())
        create, listing = spec["paths"][MESSAGES_PATH]["post"], spec["paths"][MESSAGES_PATH]["get"]
        delete, fetch = spec["paths"][MESSAGE_PATH]["delete"], spec["paths"][ACCOUNT_PATH]["get"]
        body = create["requestBody"]["content"]["application/x-www-form-urlencoded"]["schema"]
        return cls(_pattern(MESSAGES_PATH, create), frozenset(body["properties"]), frozenset(body.get("required", [])),
                   _fields(spec, create, "201"), frozenset(p["name"] for p in listing["parameters"] if p["in"] == "query"),
                   _fields(spec, listing, "200"), _pattern(MESSAGE_PATH, delete), _pattern(ACCOUNT_PATH, fetch),
                   _fields(spec, fetch, "200"), re.compile(body["properties"]["ContentSid"]["pattern"]))


@dataclass
class Received:
    at: float  # time.monotonic() on arrival
    wall: float
    params: dict
    sid: str
    status: int


@dataclass
class FakeTwilio:
    account_sid: str
    auth_token: str
    latency: float = 0.0
    contract: Contract = field(default_factory=Contract.load)
    failures: dict = field(default_factory=dict)  # To (or a message sid) -> list of (http status, code), in order
    received: list = field(default_factory=list)
    hang: set = field(default_factory=set)  # To numbers whose requests never get an answer in time
    in_flight: list = field(default_factory=list)  # To of every valid request as it arrives, answered or not
    account_fetches: int = 0
    messages: dict = field(default_factory=dict)  # sid -> message resource: what Twilio keeps of each text
    deleted: list = field(default_factory=list)

    def start(self) -> "FakeTwilio":
        fake = self

        class Handler(_Handler):
            twilio = fake

        self.server = _QuietServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self._lock = threading.Lock()
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True).start()
        return self

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def fail(self, to: str, status: int, code: int | None = None, times: int = 1) -> None:
        self.failures.setdefault(to, []).extend([(status, code)] * times)

    def sent(self) -> list[Received]:
        return [r for r in self.received if r.status == 201]

    def add_inbound(self, sid: str, from_: str, to: str, body: str) -> None:
        """A text Twilio received for us (it keeps those too, until deleted)."""
        with self._lock:
            self.messages[sid] = {"sid": sid, "from": from_, "to": to, "body": body, "direction": "inbound"}

    def record(self, item: Received) -> None:
        with self._lock:
            self.received.append(item)

    def next_failure(self, key: str):
        with self._lock:
            queue = self.failures.get(key)
            return queue.pop(0) if queue else None


class _QuietServer(ThreadingHTTPServer):
    def handle_error(self, request, client_address):
        pass  # a client that timed out and hung up (a test's point) is not an error worth printing


class _Handler(BaseHTTPRequestHandler):
    twilio: FakeTwilio
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body are two writes: without this each keep-alive answer waits 40 ms for an ACK

    def log_message(self, *args):  # keep test output quiet
        pass

    def do_GET(self):
        url = urlsplit(self.path)
        account = self.twilio.contract.account_path.match(url.path)
        listing = self.twilio.contract.path.match(url.path)
        if not (account or listing):
            return self._error(404, 20404, "The requested resource was not found")
        if not self._authorized((account or listing).groupdict().get("Sid") or listing.group("AccountSid")):
            return self._error(401, 20003, "Authenticate")
        if account:
            return self._account(account.group("Sid"))
        self._list(listing.group("AccountSid"), dict(parse_qsl(url.query, keep_blank_values=True)))

    def do_DELETE(self):
        match = self.twilio.contract.message_path.match(urlsplit(self.path).path)
        if not match:
            return self._error(404, 20404, "The requested resource was not found")
        if not self._authorized(match.group("AccountSid")):
            return self._error(401, 20003, "Authenticate")
        sid, fake = match.group("Sid"), self.twilio
        failure = fake.next_failure(sid)
        if failure:
            return self._error(failure[0], failure[1], "scripted failure")
        with fake._lock:
            found = fake.messages.pop(sid, None)
            if found:
                fake.deleted.append(sid)
        if not found:
            return self._error(404, 20404, f"The requested resource /Messages/{sid}.json was not found")
        self.send_response(204)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def do_POST(self):
        arrived, fake = time.monotonic(), self.twilio
        raw = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        match = fake.contract.path.match(self.path)
        if not match:
            return self._error(404, 20404, "The requested resource was not found")
        if not self._authorized(match.group("AccountSid")):
            return self._error(401, 20003, "Authenticate")
        if self.headers.get("Content-Type", "").split(";")[0] != "application/x-www-form-urlencoded":
            return self._error(400, 20001, "Content-Type must be form-urlencoded")
        params = dict(parse_qsl(raw.decode(), keep_blank_values=True))
        problem = self._validate(params)
        if problem:
            return self._error(400, *problem, params=params, arrived=arrived)
        fake.in_flight.append(params["To"])
        if fake.latency:
            time.sleep(fake.latency)
        if params["To"] in fake.hang:
            time.sleep(30)
        failure = fake.next_failure(params["To"])
        if failure:
            return self._error(failure[0], failure[1], "scripted failure", params=params, arrived=arrived)
        sid = "SM" + uuid.uuid4().hex
        message = self._message(match.group("AccountSid"), sid, params)
        with fake._lock:
            fake.messages[sid] = message
        fake.record(Received(arrived, time.time(), params, sid, 201))
        self._json(201, message)

    def _account(self, sid: str) -> None:
        self.twilio.account_fetches += 1
        now = formatdate(usegmt=True).replace("GMT", "+0000")
        values = {"auth_token": "[redacted]", "date_created": now, "date_updated": now, "friendly_name": "Fake",
                  "owner_account_sid": sid, "sid": sid, "status": "active", "subresource_uris": {},
                  "type": "Full", "uri": f"/2010-04-01/Accounts/{sid}.json"}
        self._json(200, {name: values.get(name) for name in self.twilio.contract.account_fields})

    def _list(self, account: str, query: dict) -> None:
        fake = self.twilio
        unknown = set(query) - fake.contract.list_params
        if unknown:
            return self._error(400, 20001, f"Unknown parameters: {', '.join(sorted(unknown))}")
        size, page = int(query.get("PageSize", 50)), int(query.get("Page", 0))
        with fake._lock:
            found = [m for m in fake.messages.values()
                     if query.get("To") in (None, m.get("to")) and query.get("From") in (None, m.get("from"))]
        chunk = found[page * size:(page + 1) * size]
        base = f"/2010-04-01/Accounts/{account}/Messages.json"
        filters = "".join(f"&{k}={query[k]}" for k in ("To", "From") if k in query)
        more = (page + 1) * size < len(found)
        values = {"messages": [self._full(m, account) for m in chunk], "page": page, "page_size": size,
                  "start": page * size, "end": page * size + max(len(chunk) - 1, 0),
                  "uri": f"{base}?PageSize={size}&Page={page}{filters}",
                  "first_page_uri": f"{base}?PageSize={size}&Page=0{filters}",
                  "next_page_uri": f"{base}?PageSize={size}&Page={page + 1}&PageToken=PA{page + 1}{filters}" if more else None,
                  "previous_page_uri": f"{base}?PageSize={size}&Page={page - 1}{filters}" if page else None}
        self._json(200, {name: values.get(name) for name in fake.contract.list_fields})

    def _full(self, message: dict, account: str) -> dict:
        return message if "account_sid" in message else self._message(account, message["sid"], {
            "To": message["to"], "From": message["from"], "Body": message["body"]}) | {"direction": "inbound"}

    def _authorized(self, sid: str) -> bool:
        expected = base64.b64encode(f"{self.twilio.account_sid}:{self.twilio.auth_token}".encode()).decode()
        return sid == self.twilio.account_sid and self.headers.get("Authorization") == f"Basic {expected}"

    def _validate(self, params: dict):
        unknown = set(params) - self.twilio.contract.params
        if unknown:
            return 20001, f"Unknown parameters: {', '.join(sorted(unknown))}"
        if not self.twilio.contract.required <= set(params):
            return 21604, "A 'To' phone number is required."
        if not (params.get("From") or params.get("MessagingServiceSid")):
            return 21603, "A 'From' or 'MessagingServiceSid' parameter is required"
        problem = self._content(params) or self._channels(params)
        if problem:
            return problem
        if not (params.get("Body") or params.get("MediaUrl") or params.get("ContentSid")):
            return 21602, "Message body is required."
        if len(params.get("Body", "")) > 1600:
            return 21617, "The concatenated message body exceeds the 1600 character limit."
        return None

    def _content(self, params: dict):
        """A template: ContentSid as the spec's pattern says, ContentVariables (only with it) a JSON object."""
        if "ContentSid" in params and not self.twilio.contract.content_sid.match(params["ContentSid"]):
            return 21655, "The ContentSid is Invalid."
        if "ContentVariables" in params:
            if "ContentSid" not in params:
                return 21658, "ContentVariables can only be used with a ContentSid."
            try:
                variables = json.loads(params["ContentVariables"])
            except ValueError:
                variables = None
            if not isinstance(variables, dict) or not all(isinstance(v, str) for v in variables.values()):
                return 21656, "The ContentVariables Parameter is invalid."
        return None

    @staticmethod
    def _channels(params: dict):
        """From and To on one channel: a whatsapp: address from a whatsapp: sender, a number from a number."""
        to, from_ = params.get("To", ""), params.get("From", "")
        if from_ and to.startswith("whatsapp:") != from_.startswith("whatsapp:"):
            return 21910, "Invalid From and To pair. From and To should be of the same channel."
        return None

    def _message(self, account: str, sid: str, params: dict) -> dict:
        now = formatdate(usegmt=True).replace("GMT", "+0000")
        values = {
            "account_sid": account, "api_version": "2010-04-01", "body": params.get("Body", ""),
            "date_created": now, "date_sent": None, "date_updated": now, "direction": "outbound-api",
            "error_code": None, "error_message": None, "from": params.get("From"), "num_media": "0",
            "num_segments": "1", "price": None, "price_unit": "USD", "sid": sid, "status": "queued",
            "messaging_service_sid": params.get("MessagingServiceSid"), "to": params["To"],
            "subresource_uris": {"media": f"/2010-04-01/Accounts/{account}/Messages/{sid}/Media.json"},
            "uri": f"/2010-04-01/Accounts/{account}/Messages/{sid}.json",
        }
        return {name: values.get(name) for name in self.twilio.contract.response_fields}

    def _error(self, status: int, code: int | None, message: str, params=None, arrived=None):
        if params is not None:
            self.twilio.record(Received(arrived, time.time(), params, "", status))
        body = {"code": code, "message": message, "more_info": f"https://www.twilio.com/docs/errors/{code}",
                "status": status}
        self._json(status, body)

    def _json(self, status: int, body: dict) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)
