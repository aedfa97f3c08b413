"""flows.schedule: the send window across zones, jitter, weekly cap and horizon (pure, fixed times)."""
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from flows.hours import WeeklyHours, parse_weekly
from flows.schedule import (DAY, JITTER_SECONDS, WEEK, NoSharedWindow, SendRules, Slot, Timing, first_due,
                            in_window, jitter, next_slot, recent_sends, send_time)

NY = ZoneInfo("America/New_York")
LA = ZoneInfo("America/Los_Angeles")
SEND = parse_weekly("Mon-Sun 09:00-20:00")
RULES = SendRules(SEND, NY, per_week=3, horizon_days=14)
FID = "person:signs:0:abc"
J = timedelta(seconds=jitter(FID))


def ny(y, mo, d, h=0, mi=0, s=0, fold=0) -> datetime:
    return datetime(y, mo, d, h, mi, s, tzinfo=NY, fold=fold)


def jan(day, h=0, mi=0, s=0) -> datetime:  # 2025-01-13 is a Monday
    return ny(2025, 1, day, h, mi, s)


def at(rules, local: datetime, zones=(NY,), fid=FID) -> datetime:
    return datetime.fromtimestamp(send_time(rules, zones, local.timestamp(), fid), NY)


def test_jitter_is_stable_and_within_the_hour():
    assert jitter(FID) == jitter(FID) and 0 <= jitter(FID) < JITTER_SECONDS
    assert len({jitter(f"p:signs:{i}:x") for i in range(50)}) > 40


@pytest.mark.parametrize("local,expected", [
    (jan(15, 3, 0), jan(15, 9) + J),          # before the window: today's opening plus jitter
    (jan(15, 8, 59, 59), jan(15, 9) + J),
    (jan(15, 9, 0), jan(15, 9, 0)),           # open: unchanged, no jitter
    (jan(15, 12, 0), jan(15, 12, 0)),
    (jan(15, 19, 59, 59), jan(15, 19, 59, 59)),
    (jan(15, 20, 0), jan(16, 9) + J),         # window end is exclusive
    (jan(15, 21, 0), jan(16, 9) + J),         # after the window: next day's opening plus jitter
    (jan(16, 0, 0), jan(16, 9) + J),
])
def test_send_time_in_one_zone(local, expected):
    assert at(RULES, local) == expected


def test_jitter_never_pushes_past_a_short_window():
    short = SendRules(parse_weekly("Mon-Sun 09:00-09:01"), NY)
    fid = next(f"p:s:0:{i}" for i in range(100) if jitter(f"p:s:0:{i}") > 60)
    assert at(short, jan(15, 3), fid=fid) == jan(15, 9)


def test_send_time_skips_closed_days():
    business = SendRules(parse_weekly("Mon-Fri 09:00-17:00"), NY)
    assert at(business, jan(17, 18, 0)) == jan(20, 9) + J  # Friday evening -> Monday morning


def test_never_open_raises():
    with pytest.raises(NoSharedWindow):
        send_time(SendRules(WeeklyHours((None,) * 7), NY), (NY,), jan(15, 3).timestamp(), FID)


def test_every_zone_must_be_open():
    la_8am = datetime(2025, 1, 15, 8, 0, tzinfo=LA)  # 11:00 in New York
    assert not in_window(RULES, (NY, LA), la_8am.timestamp())
    assert datetime.fromtimestamp(send_time(RULES, (NY, LA), la_8am.timestamp(), FID), LA) \
        == datetime(2025, 1, 15, 9, 0, tzinfo=LA) + J


def test_zones_without_a_shared_window_fall_back_to_the_center():
    narrow = SendRules(parse_weekly("Mon-Sun 09:00-10:00"), NY)
    tokyo = ZoneInfo("Asia/Tokyo")
    result = send_time(narrow, (NY, tokyo), jan(15, 3).timestamp(), FID)
    assert 9 <= datetime.fromtimestamp(result, NY).hour < 10


@pytest.mark.parametrize("local,expected_local,offset_hours", [
    # spring forward, 2025-03-09: 02:00 EST -> 03:00 EDT
    (ny(2025, 3, 9, 3, 0), ny(2025, 3, 9, 9), -4),
    (ny(2025, 3, 9, 1, 30), ny(2025, 3, 9, 9), -4),
    (ny(2025, 3, 8, 21, 0), ny(2025, 3, 9, 9), -4),
    (ny(2025, 3, 9, 2, 30), ny(2025, 3, 9, 9), -4),   # a wall time that does not exist
    # fall back, 2025-11-02: 02:00 EDT -> 01:00 EST
    (ny(2025, 11, 1, 21, 0), ny(2025, 11, 2, 9), -5),
    (ny(2025, 11, 2, 1, 30), ny(2025, 11, 2, 9), -5),            # first 01:30 (EDT)
    (ny(2025, 11, 2, 1, 30, fold=1), ny(2025, 11, 2, 9), -5),    # second 01:30 (EST)
    (ny(2025, 11, 2, 21, 0), ny(2025, 11, 3, 9), -5),
])
def test_send_time_on_dst_transition_days(local, expected_local, offset_hours):
    result = datetime.fromtimestamp(send_time(RULES, (NY,), local.timestamp(), FID), NY)
    assert result == expected_local + J
    assert result.utcoffset() == timedelta(hours=offset_hours)
    assert result.astimezone(timezone.utc) >= local.astimezone(timezone.utc)


def test_dst_night_is_real_elapsed_time():
    # Saturday 21:00 EST to Sunday 09:00 EDT is 11 real hours on the spring-forward night.
    local = ny(2025, 3, 8, 21, 0)
    assert send_time(RULES, (NY,), local.timestamp(), FID) - local.timestamp() == 11 * 3600 + J.total_seconds()


def test_first_due_respects_the_horizon():
    noon = jan(15, 12).timestamp()
    assert first_due(RULES, (NY,), noon, DAY, FID) == noon + DAY
    assert first_due(RULES, (NY,), noon, 15 * DAY, FID) is None


def test_recent_sends_keep_the_last_week_in_order():
    now = jan(15, 12).timestamp()
    assert recent_sends((int(now - 10), int(now - WEEK - 1), int(now - 20)), now) == (int(now - 20), int(now - 10))


def test_next_slot_now_later_expired():
    noon = jan(15, 12).timestamp()
    assert next_slot(RULES, (NY,), noon, (), noon, FID) == Slot(Timing.NOW)
    night = jan(15, 22).timestamp()
    assert next_slot(RULES, (NY,), noon, (), night, FID) == Slot(Timing.LATER, (jan(16, 9) + J).timestamp(), "send_hours")
    assert next_slot(RULES, (NY,), noon - 15 * DAY, (), noon, FID) == Slot(Timing.EXPIRED)


def test_weekly_cap_waits_for_the_oldest_send_to_age_out():
    noon = jan(15, 12).timestamp()
    sent = (int(noon - 3 * DAY), int(noon - 2 * DAY), int(noon - DAY))
    slot = next_slot(RULES, (NY,), noon, sent, noon, FID)
    assert slot == Slot(Timing.LATER, noon - 3 * DAY + WEEK, "weekly_cap")
    assert next_slot(RULES, (NY,), noon - 11 * DAY, sent, noon, FID).timing is Timing.EXPIRED
