"""Every Redis key name the service uses, in one place. Keys carry HMAC person keys, never numbers, and
every key carries its program as a hash tag (`sms:{harbor}:p:<person key>`): programs may share one Redis,
and the keys of any one Lua call live in one cluster slot (Valkey, Dragonfly, a Redis Cluster).

A program's keys come from the connection that reaches its data: each program's Redis client is named
for its program (CLIENT SETNAME `sms:<program>`, service/runtime.connect), and `of(r)` reads that name, so
the program travels with the connection every store function is already handed."""
from functools import lru_cache

DEFAULT = "main"  # the program of a FLOWS_DIR that is one program, and of an unnamed connection
CLIENT = "sms:"  # a program's connection name: CLIENT + program


def client_name(program: str) -> str:
    return CLIENT + (program or DEFAULT)


def program_of(r) -> str:
    """The program a client (or one of its pipelines) serves: the name its connection was opened with."""
    name = r.connection_pool.connection_kwargs.get("client_name") or ""
    return name[len(CLIENT):] if name.startswith(CLIENT) else DEFAULT


def of(r) -> "Keys":
    return named(program_of(r))


@lru_cache(maxsize=None)
def named(program: str) -> "Keys":
    return Keys(program)


class Keys:
    """One program's key names."""

    def __init__(self, program: str):
        self.program = program
        self.prefix = p = f"sms:{{{program}}}:"
        # people: one hash per person (contact), with the records that hang off it
        self.RECENT = p + "contacts:recent"  # person key -> last message time, for the console's conversation list
        self.FIRST_SEEN = p + "contacts:oldest"  # person key -> time of their oldest kept record: the retention sweep's index
        self.TEXTS = p + "texts"  # digest -> a text sent alike to many (the program's own, a broadcast's): transcripts name it
        # jobs and follow-ups
        self.JOBS_PENDING = p + "jobs:pending"  # "job|id" -> when enqueued: send jobs that have not run yet (service/queues.py)
        self.FOLLOWUPS_DUE = p + "followups:due"  # compact follow-up ids by due time
        # outbound messages
        self.ALERTS_PENDING = p + "alerts:pending"  # staff alerts not yet final, by creation time: the sweeper's index
        self.OUTBOX = p + "outbox"  # development and simulator: texts recorded instead of sent
        self.RATE_LIMIT = p + "ratelimit:outbound"
        # call backs and crisis flags
        self.CALLBACKS_WAITING = p + "callbacks:waiting"  # open requests (waiting or claimed), by request time
        self.CALLBACKS_WAITING_TEST = p + "callbacks:waiting:test"  # the simulator's: never in the real queue or counts
        self.CALLBACKS_ESCALATED = p + "callbacks:escalated"
        self.CRISIS_OPEN = p + "crisis:open"  # open crises (store/crises.py), by when they opened
        self.CRISIS_OPEN_TEST = p + "crisis:open:test"  # the simulator's
        self.CALLBACKS_CLOSED = p + "callbacks:closed"  # closed requests by closing time (their records expire by TTL)
        # contacts the center knows (store/contacts.py), their groups and their journeys (store/journeys.py)
        self.CONTACTS = p + "contacts:known"  # person key -> when their contact data last changed (list, retention)
        self.JOURNEYS_DUE = p + "journeys:due"  # planned journey event ids by due time
        self.GROUPS = p + "groups"  # group name -> how many people are in it
        # API tokens (store/apitokens.py) and broadcasts (store/broadcasts.py)
        self.API_TOKENS = p + "api-tokens"  # token id -> its record (name, digest, who made it, when, disabled)
        self.BROADCASTS = p + "broadcasts"  # broadcast id -> when it was made
        self.BROADCASTS_ACTIVE = p + "broadcasts:active"  # ids scheduled or sending: the dispatcher's round
        # the staff inbox: people staff should look at (an `action: inbox` step), texts the bot did not
        # understand (store/unmatched.py: id -> when it arrived), conversations staff took over
        self.ATTENTION = p + "attention"
        self.UNMATCHED = p + "unmatched"
        self.HOLDS = p + "holds"  # person key -> time of the holder's latest action
        self.INBOX_VERSION = p + "inbox:version"  # bumped by every change an open inbox shows: its pages poll it
        # flow documents and settings
        self.FLOWS_PUBLISHED = p + "flows:published"
        self.FLOWS_DRAFT = p + "flows:draft"
        self.FLOWS_NEXT_VERSION = p + "flows:next-version"
        self.FLOWS_TRANSLATIONS = p + "flows:translations"  # "file|path|language" -> stamp (service/staff/translations.py)
        self.SETTINGS = p + "settings"
        self.SETUP = p + "setup"  # the first run's checklist: step -> when an admin did it (store/setup.py)
        # staff
        self.AUDIT = p + "audit"
        # metrics: Prometheus counters kept in Redis, shared by every process
        self.METRICS_WEBHOOK = p + "metrics:webhook"
        self.METRICS_LATENCY = p + "metrics:latency"
        self.METRICS_REPLIES = p + "metrics:replies"
        self.METRICS_EVENTS = p + "metrics:events"
        self.METRICS_OUTBOUND = p + "metrics:outbound"
        self.METRICS_STATUS = p + "metrics:status"
        # key rotation (store/rotation.py)
        self.ROTATION_PROGRESS = p + "rotation:progress"  # phase -> SCAN cursor of an unfinished run
        self.MIGRATING = p + "migrating"  # set while `flask ops migrate-keys` runs, kept if it stopped (store/legacy.py)

    # The two keys every person keeps have one-letter families: a key of up to 36 characters costs Redis
    # 16 bytes less than a longer one (its allocation's size class), and a program's name of up to 7
    # letters leaves "sms:{name}:p:" + a 20-character person key within that (1 KB a person in all).
    def contact(self, pk: str) -> str:
        """The person: consent, number (encrypted), language, conversation, follow-ups, contact data."""
        return f"{self.prefix}p:{pk}"

    def records(self, pk: str) -> str:
        """Every other key holding this person's data (call backs, crisis flags, outbound texts): erasure
        finds them without a scan."""
        return f"{self.prefix}records:{pk}"

    def consent_log(self, pk: str) -> str:
        return f"{self.prefix}consent:{pk}"

    def transcript(self, pk: str) -> str:
        return f"{self.prefix}t:{pk}"

    def tombstone(self, pk: str) -> str:
        """When a person's data was erased (the person key only, never the number)."""
        return f"{self.prefix}erased:{pk}"

    def provider_erasure(self, work_id: str) -> str:
        """Texts still to delete at Twilio after an erasure (encrypted: it names the number)."""
        return f"{self.prefix}erasure:{work_id}"

    def notes(self, pk: str) -> str:
        """Staff notes about a person (encrypted, with author and time)."""
        return f"{self.prefix}notes:{pk}"

    def replies(self, pk: str, crisis: bool = False) -> str:
        return f"{self.prefix}{'crisis-replies' if crisis else 'replies'}:{pk}"

    # inbound messages
    def inbound(self, sid: str) -> str:
        """A MessageSid's claim, then its TwiML answer (Twilio's retries get the same answer)."""
        return f"{self.prefix}inbound:{sid}"

    def seen(self, bucket: str) -> str:
        """Every MessageSid handled in the retention period, as 8-byte digests spread over 65,536 small
        hashes (~20 bytes a message): a captured, signed request replayed later is refused."""
        return f"{self.prefix}seen:{bucket}"

    # conversations: results per flow version (counts, and people as HyperLogLog sketches)
    def flow_results(self, version: int, flow: str) -> str:
        return f"{self.prefix}results:{version}:{flow}"

    def flow_reach(self, version: int, flow: str, step: str) -> str:
        return f"{self.prefix}results-people:{version}:{flow}:{step}"

    # outbound messages
    def message(self, mid: str) -> str:
        return f"{self.prefix}out:{mid}"

    def provider_sid(self, sid: str) -> str:
        """Twilio's sid of a text we sent -> our message id."""
        return f"{self.prefix}out-sid:{sid}"

    def early_status(self, sid: str) -> str:
        """Status callbacks that arrived before our record of the send (holds only statuses)."""
        return f"{self.prefix}out-early:{sid}"

    # contacts, API tokens, imports
    def group(self, name: str) -> str:
        """The person keys in a group (a group's name is the center's word, never personal)."""
        return f"{self.prefix}group:{name}"

    def api_token(self, digest: str) -> str:
        """A token's SHA-256 digest -> its id (the token itself is never stored)."""
        return f"{self.prefix}api-token:{digest}"

    def contact_import(self, iid: str) -> str:
        """A CSV file uploaded for import, between its preview and the Import button (encrypted, an hour)."""
        return f"{self.prefix}import:{iid}"

    # broadcasts (store/broadcasts.py)
    def broadcast(self, bid: str) -> str:
        """A broadcast: its texts, audience, times, status and funnel counts."""
        return f"{self.prefix}bc:{bid}"

    def broadcast_due(self, bid: str) -> str:
        """Its recipients not yet handed to a worker: person key -> when it is due in their send hours."""
        return f"{self.prefix}bc:{bid}:due"

    def broadcast_inflight(self, bid: str) -> str:
        """Its recipients handed to a worker whose outcome is not counted yet: person key -> when handed over
        (at most ~10 s of sending). Taking one out is what counts its outcome, so it is counted once."""
        return f"{self.prefix}bc:{bid}:inflight"

    def broadcast_failed(self, bid: str) -> str:
        """Its recipients whose text failed or was undelivered (person keys): resend to the failed."""
        return f"{self.prefix}bc:{bid}:failed"

    # texts the bot did not understand
    def unmatched(self, uid: str) -> str:
        return f"{self.prefix}unmatched:{uid}"

    # insights: counts per day in the center's zone (store/daily.py)
    def daily(self, day: str) -> str:
        return f"{self.prefix}daily:{day}"

    def daily_people(self, day: str, which: str) -> str:
        return f"{self.prefix}daily:{day}:{which}"

    # call backs and crisis flags
    def callback(self, callback_id: str) -> str:
        return f"{self.prefix}callback:{callback_id}"

    def crisis_flag(self, flag_id: str) -> str:
        return f"{self.prefix}crisis-flag:{flag_id}"

    # flow documents and settings
    def flows_version(self, n: int) -> str:
        return f"{self.prefix}flows:version:{n}"

    # staff
    def account(self, email: str) -> str:
        return f"{self.prefix}staff:{email.strip().lower()}"

    def session(self, session_id: str) -> str:
        """A staff session, under the digest of its cookie token."""
        return f"{self.prefix}session:{session_id}"

    def account_sessions(self, email: str) -> str:
        return f"{self.prefix}staff-sessions:{email.strip().lower()}"

    def login_failures(self, kind: str, who: str) -> str:
        """Recent failed sign-ins per client address or per email (a digest: attackers choose the text)."""
        return f"{self.prefix}login-failures:{kind}:{who}"
