"""Every Redis key name the service uses, in one place. Keys carry HMAC person keys, never numbers."""

PREFIX = "sms:"

# people: one hash per person, with the records that hang off it
RECENT = "sms:contacts:recent"  # person key -> last message time, for the console's conversation list
FIRST_SEEN = "sms:contacts:oldest"  # person key -> time of their oldest kept record: the retention sweep's index


def contact(pk: str) -> str:
    return f"sms:contact:{pk}"


def records(pk: str) -> str:
    """Every other key holding this person's data (call backs, crisis flags, outbound texts): erasure
    finds them without a scan."""
    return f"sms:records:{pk}"


def consent_log(pk: str) -> str:
    return f"sms:consent:{pk}"


def transcript(pk: str) -> str:
    return f"sms:transcript:{pk}"


def tombstone(pk: str) -> str:
    """When a person's data was erased (the person key only, never the number)."""
    return f"sms:erased:{pk}"


def provider_erasure(work_id: str) -> str:
    """Texts still to delete at Twilio after an erasure (encrypted: it names the number)."""
    return f"sms:erasure:{work_id}"


def notes(pk: str) -> str:
    """Staff notes about a person (encrypted, with author and time)."""
    return f"sms:notes:{pk}"


TEXTS = "sms:texts"  # digest -> a text sent alike to many (the program's own, a broadcast's): transcripts name it


def replies(pk: str, crisis: bool = False) -> str:
    return f"sms:{'crisis-replies' if crisis else 'replies'}:{pk}"


# inbound messages
def inbound(sid: str) -> str:
    """A MessageSid's claim, then its TwiML answer (Twilio's retries get the same answer)."""
    return f"sms:inbound:{sid}"


def seen(bucket: str) -> str:
    """Every MessageSid handled in the retention period, as 8-byte digests spread over 65,536 small
    hashes (~20 bytes a message): a captured, signed request replayed later is refused."""
    return f"sms:seen:{bucket}"


JOBS_PENDING = "sms:jobs:pending"  # "job|id" -> when enqueued: send jobs that have not run yet (service/queues.py)

# follow-ups
FOLLOWUPS_DUE = "sms:followups:due"  # compact follow-up ids by due time

# conversations: results per flow version (counts, and people as HyperLogLog sketches)
def flow_results(version: int, flow: str) -> str:
    return f"sms:results:{version}:{flow}"


def flow_reach(version: int, flow: str, step: str) -> str:
    return f"sms:results-people:{version}:{flow}:{step}"


# outbound messages
ALERTS_PENDING = "sms:alerts:pending"  # staff alerts not yet final, by creation time: the sweeper's index
OUTBOX = "sms:outbox"  # development and simulator: texts recorded instead of sent
RATE_LIMIT = "sms:ratelimit:outbound"


def message(mid: str) -> str:
    return f"sms:out:{mid}"


def provider_sid(sid: str) -> str:
    """Twilio's sid of a text we sent -> our message id."""
    return f"sms:out-sid:{sid}"


def early_status(sid: str) -> str:
    """Status callbacks that arrived before our record of the send (holds only statuses)."""
    return f"sms:out-early:{sid}"


# call backs and crisis flags
CALLBACKS_WAITING = "sms:callbacks:waiting"  # open requests (waiting or claimed), by request time
CALLBACKS_WAITING_TEST = "sms:callbacks:waiting:test"  # the simulator's: never in the real queue or counts
CALLBACKS_ESCALATED = "sms:callbacks:escalated"
CRISIS_OPEN = "sms:crisis:open"  # open crises (store/crises.py), by when they opened
CRISIS_OPEN_TEST = "sms:crisis:open:test"  # the simulator's
CALLBACKS_CLOSED = "sms:callbacks:closed"  # closed requests by closing time (their records expire by TTL)

# contacts the center knows (store/contacts.py) and their journeys (store/journeys.py)
CONTACTS = "sms:contacts:known"  # person key -> when their contact data last changed (list, retention)
JOURNEYS_DUE = "sms:journeys:due"  # planned journey event ids by due time


def group(name: str) -> str:
    """The person keys in a group (a group's name is the center's word, never personal)."""
    return f"sms:group:{name}"


GROUPS = "sms:groups"  # group name -> how many people are in it


# API tokens (store/apitokens.py)
API_TOKENS = "sms:api-tokens"  # token id -> its record (name, digest, who made it, when, disabled)


def api_token(digest: str) -> str:
    """A token's SHA-256 digest -> its id (the token itself is never stored)."""
    return f"sms:api-token:{digest}"


def contact_import(iid: str) -> str:
    """A CSV file uploaded for import, between its preview and the Import button (encrypted, an hour)."""
    return f"sms:import:{iid}"


# broadcasts (store/broadcasts.py)
BROADCASTS = "sms:broadcasts"  # broadcast id -> when it was made
BROADCASTS_ACTIVE = "sms:broadcasts:active"  # ids scheduled or sending: the dispatcher's round


def broadcast(bid: str) -> str:
    """A broadcast: its texts, audience, times, status and funnel counts."""
    return f"sms:bc:{bid}"


def broadcast_due(bid: str) -> str:
    """Its recipients not yet handed to a worker: person key -> when it is due in their send hours."""
    return f"sms:bc:{bid}:due"


def broadcast_inflight(bid: str) -> str:
    """Its recipients handed to a worker whose outcome is not counted yet: person key -> when handed over
    (at most ~10 s of sending). Taking one out is what counts its outcome, so it is counted once."""
    return f"sms:bc:{bid}:inflight"


def broadcast_failed(bid: str) -> str:
    """Its recipients whose text failed or was undelivered (person keys): resend to the failed."""
    return f"sms:bc:{bid}:failed"


# people staff should look at (an `action: inbox` step), by when they were put there
ATTENTION = "sms:attention"


# texts the bot did not understand (store/unmatched.py)
UNMATCHED = "sms:unmatched"  # id -> when it arrived


def unmatched(uid: str) -> str:
    return f"sms:unmatched:{uid}"


# insights: counts per day in the center's zone (store/daily.py)


def daily(day: str) -> str:
    return f"sms:daily:{day}"


def daily_people(day: str, which: str) -> str:
    return f"sms:daily:{day}:{which}"


# the staff inbox
HOLDS = "sms:holds"  # person key -> time of the holder's latest action: conversations staff took over
INBOX_VERSION = "sms:inbox:version"  # bumped by every change an open inbox shows: its pages poll it


def callback(callback_id: str) -> str:
    return f"sms:callback:{callback_id}"


def crisis_flag(flag_id: str) -> str:
    return f"sms:crisis-flag:{flag_id}"


# flow documents and settings
FLOWS_PUBLISHED = "sms:flows:published"
FLOWS_DRAFT = "sms:flows:draft"
FLOWS_NEXT_VERSION = "sms:flows:next-version"
FLOWS_TRANSLATIONS = "sms:flows:translations"  # "file|path|language" -> stamp (service/staff/translations.py)
SETTINGS = "sms:settings"
SETUP = "sms:setup"  # the first run's checklist: step -> when an admin did it (store/setup.py)


def flows_version(n: int) -> str:
    return f"sms:flows:version:{n}"


# staff
AUDIT = "sms:audit"


def account(email: str) -> str:
    return f"sms:staff:{email.strip().lower()}"


def session(session_id: str) -> str:
    """A staff session, under the digest of its cookie token."""
    return f"sms:session:{session_id}"


def account_sessions(email: str) -> str:
    return f"sms:staff-sessions:{email.strip().lower()}"


def login_failures(kind: str, who: str) -> str:
    """Recent failed sign-ins per client address or per email (a digest: attackers choose the text)."""
    return f"sms:login-failures:{kind}:{who}"


# metrics: Prometheus counters kept in Redis, shared by every process
METRICS_WEBHOOK = "sms:metrics:webhook"
METRICS_LATENCY = "sms:metrics:latency"
METRICS_REPLIES = "sms:metrics:replies"
METRICS_EVENTS = "sms:metrics:events"
METRICS_OUTBOUND = "sms:metrics:outbound"
METRICS_STATUS = "sms:metrics:status"
