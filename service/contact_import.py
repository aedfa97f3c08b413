"""Contacts from a CSV file (columns `number`, `language`, `groups` (;-separated), `consent_source`,
`consent_at`, and any declared field), checked row by row by the same rules as the API: a preview says
how many would be created, updated and left unchanged and lists every bad row by its number as a
spreadsheet shows it (the header is row 1) and why; nothing is written until it is committed, and the
same file twice changes nothing. Written in batches, each one WATCHed transaction (journeys replanned
with it), so 100,000 rows take seconds, not an hour of round trips."""
import csv
import io
from dataclasses import dataclass, field

from redis import WatchError

from service import contacts as rules
from service import journey_planning
from service.runtime import Services
from service.store import contacts, daily, keys

BATCH = 500
MAX_ROWS = 200_000
BASE_COLUMNS = ("number", "language", "groups", "consent_source", "consent_at")


@dataclass
class Report:
    rows: int = 0
    bad: list[tuple[int, str]] = field(default_factory=list)  # (row number as a spreadsheet shows it, why)
    created: int = 0
    updated: int = 0
    unchanged: int = 0

    @property
    def valid(self) -> int:
        return self.rows - len([n for n, _ in self.bad if n > 1])  # row 1 is the header, not a row

    def lines(self, committed: bool) -> list[str]:
        counts = f"{self.created} created, {self.updated} updated, {self.unchanged} unchanged"
        head = counts if committed else f"{self.rows} rows: {self.valid} good ({counts} if imported), {len(self.bad)} bad"
        return [head] + [f"row {n}: {why}" for n, why in self.bad]


def parse(svc: Services, text: str) -> tuple[list[tuple[int, str, rules.Change]], Report]:
    """Each good row as (row number, number, change), and the report of the bad ones."""
    flows = svc.flows()
    declared, languages = flows.program.fields, flows.program.languages
    records = csv.reader(io.StringIO(text.lstrip("\ufeff")))
    header = [h.strip() for h in next(records, [])]
    report, rows, seen = Report(), [], {}
    unknown = [h for h in header if h not in BASE_COLUMNS and h not in declared]
    if "number" not in header or unknown:
        why = "needs a number column" if "number" not in header else \
            f"unknown column '{unknown[0]}' (number, language, groups, consent_source, consent_at, or a declared field: " \
            f"{', '.join(declared) or 'none'})"
        report.bad.append((1, why))
        return [], report
    for n, record in enumerate(records, start=2):  # a spreadsheet's row numbers: blank rows count too
        if not any(cell.strip() for cell in record):
            continue
        if n - 1 > MAX_ROWS:
            report.bad.append((n, f"more than {MAX_ROWS} rows: import the rest in another file"))
            break
        report.rows += 1
        values = {k: (v or "").strip() for k, v in zip(header, record) if k}
        try:
            e164 = rules.number(values.get("number", ""), svc.config.default_region)
            if e164 in seen:
                raise rules.Refused("number", f"the same number as row {seen[e164]}")
            change = _change(values, declared, languages)
        except rules.Refused as refused:
            report.bad.append((n, str(refused)))
            continue
        seen[e164] = n
        rows.append((n, e164, change))
    return rows, report


def _change(values: dict, declared, languages) -> rules.Change:
    data = {"fields": {k: v for k, v in values.items() if k in declared and v}}
    if values.get("language"):
        data["language"] = values["language"]
    if "groups" in values:
        data["groups"] = values["groups"]
    if values.get("consent_source") or values.get("consent_at"):
        data["consent"] = {"source": values.get("consent_source", ""), "at": values.get("consent_at", "")}
    return rules.change_from(data, declared, languages)


def run(svc: Services, text: str, commit: bool) -> Report:
    """The preview (commit=False) or the import: the same counts either way."""
    rows, report = parse(svc, text)
    for start in range(0, len(rows), BATCH):
        counts = _batch(svc, rows[start:start + BATCH], commit)
        report.created += counts["created"]
        report.updated += counts["updated"]
        report.unchanged += counts["unchanged"]
    return report


def _batch(svc: Services, rows, commit: bool) -> dict[str, int]:
    r, now = svc.redis, svc.now()
    config, flows = svc.current_config(), svc.flows()
    day = daily.day_of(now, config.timezone)
    pks = [svc.vault.person_key(e164) for _, e164, _ in rows]
    with r.pipeline() as pipe:
        while True:
            try:
                if commit:
                    pipe.watch(*(keys.of(r).contact(pk) for pk in pks))
                before = contacts.read_batch(r, svc.vault, pks)
                counts, writes = {"created": 0, "updated": 0, "unchanged": 0}, []
                for (_, e164, change), pk in zip(rows, pks):
                    old = before[pk][0]
                    after = rules.merged(svc, old, pk, e164, change, before[pk][2])
                    if old is not None and old.digest == after.digest:
                        counts["unchanged"] += 1
                        continue
                    counts["created" if old is None else "updated"] += 1
                    writes.append((old, after, before[pk][1]))
                if commit and writes:
                    pipe.multi()
                    for old, after, planned in writes:
                        contacts.write(pipe, svc.vault, old, after, now, flows.program.default_language)
                        journey_planning.replan_into(pipe, flows, config, after, planned, now, day)
                    pipe.execute()
                return counts
            except WatchError:
                continue
