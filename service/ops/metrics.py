"""/metrics for Prometheus: a bearer token (METRICS_TOKEN) or a signed-in ops account. A process serving
several programs exports one program a scrape: `/metrics?program=<name>` (one scrape job per program,
its name as a target label), else the program of the ops sign-in, else the first."""
import hmac

from flask import Blueprint, Response, abort, current_app, request
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily

from service.ops.summary import summary
from service.programs import TABLE
from service.runtime import services
from service.staff.auth import current_account
from service.store import metrics
from service.store.accounts import Role

bp = Blueprint("metrics", __name__)


@bp.get("/metrics")
def scrape():
    svc = services(checked=False)
    if not _authorized(svc):
        abort(401, "metrics need 'Authorization: Bearer <METRICS_TOKEN>' or an ops sign-in")
    if request.args.get("program"):
        table = current_app.extensions.get(TABLE) or {}
        if request.args["program"] not in table:
            abort(404, f"program: not one this process serves ({', '.join(sorted(table)) or 'it serves one'})")
        svc = table[request.args["program"]]
    registry = CollectorRegistry(auto_describe=False)
    registry.register(RedisCollector(svc))
    return Response(generate_latest(registry), mimetype=CONTENT_TYPE_LATEST)


def _authorized(svc) -> bool:
    token = svc.config.metrics_token.reveal().encode()
    offered = request.headers.get("Authorization", "").removeprefix("Bearer ").strip().encode("utf-8", "replace")
    if token and offered and hmac.compare_digest(offered, token):  # bytes: any header value compares, never raises
        return True
    account = current_account()
    return bool(account and account.may(Role.OPS))


class RedisCollector:
    def __init__(self, svc):
        self.svc = svc

    def collect(self):
        r = self.svc.redis
        self.svc.counters.flush(r)  # this process's own recent counts; others arrive within a second
        counts = metrics.read(r)
        yield _labelled(CounterMetricFamily("sms_webhook_requests", "Inbound webhook requests by outcome",
                                            labels=["outcome"]), counts["webhook"])
        yield _latency(counts["latency"])
        yield _labelled(CounterMetricFamily("sms_replies", "Inbound messages by flow or intent", labels=["flow"]),
                        counts["replies"])
        yield CounterMetricFamily("sms_opt_outs", "Consent changes to opted out",
                                  value=int(counts["events"].get("opt_outs", 0)))
        yield CounterMetricFamily("sms_followups_gone", "Pending follow-ups dropped because their flow or step "
                                  "no longer exists", value=int(counts["events"].get("followups_gone", 0)))
        yield _pairs(CounterMetricFamily("sms_outbound", "Outbound messages by state and error code",
                                         labels=["state", "code"]), counts["outbound"])
        yield _pairs(CounterMetricFamily("sms_status_callbacks", "Twilio status callbacks by status and code",
                                         labels=["status", "code"]), counts["status"])
        yield from _queues(summary(r), self.svc.now())


def _latency(raw: dict[str, str]):
    total, buckets = 0, []
    for i, bound in enumerate((*metrics.BUCKETS, float("inf"))):
        total += int(raw.get(str(i), 0))
        buckets.append(("+Inf" if bound == float("inf") else str(bound), total))
    family = HistogramMetricFamily("sms_webhook_latency_seconds", "Webhook handling time")
    family.add_metric([], buckets, float(raw.get("sum", 0)))
    return family


def _queues(s, now: float):
    depth = GaugeMetricFamily("sms_queue_depth", "Jobs waiting per RQ queue", labels=["queue"])
    failed = GaugeMetricFamily("sms_failed_jobs", "Jobs in RQ's failed registry", labels=["queue"])
    for row in s.queues:
        depth.add_metric([row.name], row.waiting)
        failed.add_metric([row.name], row.failed)
    yield depth
    yield failed
    yield GaugeMetricFamily("sms_followups_pending", "Pending follow-ups", value=s.followups_pending)
    overdue = max(0.0, now - s.followups_oldest_due) if s.followups_oldest_due is not None else 0.0
    yield GaugeMetricFamily("sms_followup_oldest_overdue_seconds", "How late the most overdue follow-up is",
                            value=overdue)
    yield GaugeMetricFamily("sms_callbacks_waiting", "Open call back requests", value=s.callbacks_waiting)
    wait = now - s.callbacks_oldest if s.callbacks_oldest is not None else 0.0
    yield GaugeMetricFamily("sms_callback_oldest_wait_seconds", "Longest wait for a call back", value=wait)


def _labelled(family, raw: dict[str, str]):
    for label, value in sorted(raw.items()):
        family.add_metric([label], int(value))
    return family


def _pairs(family, raw: dict[str, str]):
    for label, value in sorted(raw.items()):
        first, _, second = label.partition("|")
        family.add_metric([first, second], int(value))
    return family
