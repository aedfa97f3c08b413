"""service.config, service.privacy and service.phone: pure, from dicts, no Redis."""
from datetime import time
from pathlib import Path
from zoneinfo import ZoneInfo

import phonenumbers
import pytest
from cryptography.fernet import Fernet
from hypothesis import given, settings
from hypothesis import strategies as st

from flows.hours import Window
from service.config import PRODUCTION_SECRETS, Config, ConfigError, Secret
from service.phone import InvalidNumber, mask, to_e164
from service.privacy import Vault

REDIS = "redis://localhost:6379/0"
SECRETS = {
    "SECRET_KEY": "sk-very-secret-0001",
    "TWILIO_AUTH_TOKEN": "twilio-token-secret-0002",
    "DATA_ENCRYPTION_KEY": Fernet.generate_key().decode(),
    "PHONE_HASH_KEY": "phone-hash-secret-0003",
}
PRODUCTION = {**SECRETS, "PUBLIC_BASE_URL": "https://sms.example.org/", "REDIS_URL": REDIS,
              "TWILIO_ACCOUNT_SID": "AC" + "1" * 32, "TWILIO_FROM_NUMBER": "+18555909944"}


def dev(**extra) -> dict[str, str]:
    return {"APP_ENV": "development", "REDIS_URL": REDIS, **SECRETS, **extra}


def config_error(env) -> str:
    with pytest.raises(ConfigError) as info:
        Config.from_env(env)
    return str(info.value)


# -- production secrets --------------------------------------------------------------------------------

@pytest.mark.parametrize("app_env", [None, "", "production", "  production  "])
def test_production_without_secrets_names_every_missing_one(app_env):
    env = {"REDIS_URL": REDIS} if app_env is None else {"APP_ENV": app_env, "REDIS_URL": REDIS}
    message = config_error(env)
    for name in PRODUCTION_SECRETS:
        assert name in message


@pytest.mark.parametrize("missing", PRODUCTION_SECRETS)
def test_production_names_only_the_missing_secret_and_never_prints_values(missing):
    env = {k: v for k, v in PRODUCTION.items() if k != missing}
    message = config_error(env)
    assert missing in message
    for name, value in PRODUCTION.items():
        if name != "REDIS_URL":
            assert value not in message
        if name != missing and name in PRODUCTION_SECRETS:
            assert name not in message


@pytest.mark.parametrize("blank", ["", "   ", "\t\n"])
def test_blank_secret_counts_as_missing(blank):
    message = config_error({**PRODUCTION, "TWILIO_AUTH_TOKEN": blank})
    assert "TWILIO_AUTH_TOKEN" in message


def test_production_with_all_secrets():
    cfg = Config.from_env(PRODUCTION)
    assert cfg.production and not cfg.testing
    assert cfg.secret_key.reveal() == SECRETS["SECRET_KEY"]
    assert cfg.twilio_auth_token.reveal() == SECRETS["TWILIO_AUTH_TOKEN"]
    assert cfg.public_base_url == "https://sms.example.org"  # trailing slash dropped


def test_production_needs_a_way_to_send():
    message = config_error({k: v for k, v in PRODUCTION.items() if k != "TWILIO_FROM_NUMBER"})
    assert "TWILIO_MESSAGING_SERVICE_SID or TWILIO_FROM_NUMBER" in message


def test_production_still_needs_redis():
    message = config_error({k: v for k, v in PRODUCTION.items() if k != "REDIS_URL"})
    assert "REDIS_URL" in message


def test_only_tests_run_without_secrets():
    cfg = Config.from_env({"APP_ENV": "test", "REDIS_URL": REDIS})
    assert cfg.secret_key.reveal() == "test-only-secret-key"
    assert not cfg.twilio_auth_token and not cfg.data_encryption_key and not cfg.phone_hash_key
    assert cfg.public_base_url == "http://localhost:5000"
    assert cfg.testing and not cfg.production


def test_development_refuses_to_start_without_real_secrets():
    """A guessable session key would let anyone forge an admin cookie, an empty auth token would accept
    any signature: outside tests both are refused (make run generates real ones)."""
    message = config_error({"APP_ENV": "development", "REDIS_URL": REDIS})
    for name in ("SECRET_KEY", "TWILIO_AUTH_TOKEN", "DATA_ENCRYPTION_KEY", "PHONE_HASH_KEY"):
        assert name in message
    assert "SECRET_KEY" in config_error(dev(SECRET_KEY="dev-secret-key"))  # too short to be a secret
    cfg = Config.from_env(dev())
    assert cfg.secret_key.reveal() == SECRETS["SECRET_KEY"] and not cfg.testing


@pytest.mark.parametrize("app_env", ["prod", "PRODUCTION", "dev", "staging"])
def test_unknown_app_env(app_env):
    message = config_error({"APP_ENV": app_env, "REDIS_URL": REDIS})
    assert "APP_ENV" in message and repr(app_env) in message


def test_redis_url_required():
    assert "REDIS_URL" in config_error({"APP_ENV": "test"})
    assert "REDIS_URL" in config_error({"APP_ENV": "test", "REDIS_URL": "  "})


# -- secrets never printed ------------------------------------------------------------------------------------

def test_repr_and_str_of_config_never_contain_secret_values():
    cfg = Config.from_env(PRODUCTION)
    for text in (repr(cfg), str(cfg), f"{cfg}", f"{cfg!r}"):
        for name, value in SECRETS.items():
            assert value not in text, name
    assert "**********" in repr(cfg)


def test_secret_wrapper():
    secret = Secret("hunter2")
    assert "hunter2" not in repr(secret) and "hunter2" not in str(secret) and "hunter2" not in f"{secret}"
    assert secret.reveal() == "hunter2" and bool(secret)
    assert not Secret("") and repr(Secret("")) == "Secret('')"


def test_repr_of_config_hides_a_password_in_redis_url():
    cfg = Config.from_env({**PRODUCTION, "REDIS_URL": "redis://:redis-pass-0004@redis.example.org:6379/0"})
    assert "redis-pass-0004" not in repr(cfg)


# -- bad values name their variable --------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["CALLBACK_WITHIN_MINUTES", "REPLIES_PER_HOUR", "CRISIS_REPLIES_PER_HOUR",
                                  "SEND_RATE_PER_SECOND", "FOLLOWUPS_PER_WEEK", "FOLLOWUP_HORIZON_DAYS"])
@pytest.mark.parametrize("value", ["abc", "0", "-1", "1.5", "1e3", "ten", "3 0", "0x10"])
def test_bad_integers(name, value):
    message = config_error(dev(**{name: value}))
    assert message.startswith(name) and repr(value) in message


@pytest.mark.parametrize("value,expected", [("45", 45), (" 45 ", 45), ("007", 7), ("", 30)])
def test_good_integers(value, expected):
    assert Config.from_env(dev(CALLBACK_WITHIN_MINUTES=value)).callback_within_minutes == expected


def test_superscript_digit_is_a_config_error():
    config_error(dev(CALLBACK_WITHIN_MINUTES="²"))


@pytest.mark.parametrize("value", ["Mars/Olympus", "EST-5", "New York", "../../etc/passwd", "/etc/localtime",
                                   "America/New_York/", "UTC\x00"])
def test_bad_time_zone(value):
    message = config_error(dev(CENTER_TIMEZONE=value))
    assert message.startswith("CENTER_TIMEZONE") and "unknown time zone" in message


def test_good_time_zone():
    assert Config.from_env(dev(CENTER_TIMEZONE="America/Chicago")).timezone == ZoneInfo("America/Chicago")
    assert Config.from_env(dev()).timezone == ZoneInfo("America/New_York")


@pytest.mark.parametrize("name", ["BUSINESS_HOURS", "SEND_HOURS"])
@pytest.mark.parametrize("value", ["Mon-Fri 9-5", "Monday 09:00-17:00", "Mon 17:00-09:00", "Mon 25:00-26:00",
                                   "Xyz 09:00-17:00"])
def test_bad_hours(name, value):
    assert config_error(dev(**{name: value})).startswith(name + ": ")


def test_hours_and_defaults():
    cfg = Config.from_env(dev(BUSINESS_HOURS="Mon-Sat 08:00-18:00"))
    assert cfg.business_hours.window(5) == Window(time(8), time(18)) and cfg.business_hours.window(6) is None
    assert cfg.send_hours.window(6) == Window(time(9), time(20))
    assert (cfg.replies_per_hour, cfg.crisis_replies_per_hour, cfg.callback_within_minutes) == (10, 3, 30)
    assert cfg.flows_dir == Path(__file__).resolve().parents[2] / "flows" / "definitions"


def test_staff_alert_numbers_and_twilio_enabled():
    cfg = Config.from_env(dev(STAFF_ALERT_NUMBERS=" +16175550100, ,+16175550101 ", TWILIO_ACCOUNT_SID="AC1",
                              TWILIO_AUTH_TOKEN="t", TWILIO_FROM_NUMBER="+18555909944"))
    assert cfg.staff_alert_numbers == ("+16175550100", "+16175550101")
    assert cfg.twilio_enabled
    assert not Config.from_env(dev(TWILIO_ACCOUNT_SID="AC1", TWILIO_AUTH_TOKEN="t")).twilio_enabled


def test_staff_alert_numbers_are_normalized():
    cfg = Config.from_env(dev(STAFF_ALERT_NUMBERS="(617) 555-0100, +1 617 555 0101"))
    assert cfg.staff_alert_numbers == ("+16175550100", "+16175550101")


@pytest.mark.parametrize("value", ["+16175550100, nope", "123", "+1"])
def test_bad_staff_alert_numbers(value):
    assert config_error(dev(STAFF_ALERT_NUMBERS=value)).startswith("STAFF_ALERT_NUMBERS")


# -- privacy.Vault ---------------------------------------------------------------------------------------------

@pytest.fixture
def vault() -> Vault:
    return Vault([Fernet.generate_key()], b"hash-key-one")


def test_person_key_is_stable_20_chars_and_url_safe(vault):
    key = vault.person_key("+16175550123")
    assert len(key) == 20
    assert key == vault.person_key("+16175550123")
    assert key == Vault([Fernet.generate_key()], b"hash-key-one").person_key("+16175550123")  # Fernet key irrelevant
    assert set(key) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
    assert "6175550123" not in key


def test_person_key_differs_across_hash_keys_and_numbers(vault):
    other = Vault([Fernet.generate_key()], b"hash-key-two")
    assert vault.person_key("+16175550123") != other.person_key("+16175550123")
    assert vault.person_key("+16175550123") != vault.person_key("+16175550124")


def test_encrypt_decrypt_round_trip(vault):
    for text in ("+16175550123", "my son overdosed 🙏", "", "x" * 5000):
        token = vault.encrypt(text)
        assert text == vault.decrypt(token) == vault.decrypt(token.encode())
        assert not text or text not in token


def test_encryption_is_randomised(vault):
    assert vault.encrypt("same") != vault.encrypt("same")


def test_decrypt_with_wrong_key_is_a_clear_value_error(vault):
    token = vault.encrypt("secret")
    other = Vault([Fernet.generate_key()], b"hash-key-one")
    with pytest.raises(ValueError, match="cannot be decrypted"):
        other.decrypt(token)
    with pytest.raises(ValueError, match="cannot be decrypted"):
        vault.decrypt("not-a-token")


def test_key_rotation_decrypts_old_tokens():
    old, new = Fernet.generate_key(), Fernet.generate_key()
    token = Vault([old], b"h").encrypt("hello")
    rotated = Vault([new, old], b"h")
    assert rotated.decrypt(token) == "hello"
    assert Vault([new], b"h").decrypt(rotated.encrypt("hi")) == "hi"


def test_a_sealed_number_fits_a_compact_redis_hash_value(vault):
    for number in ("+16175550123", "+525512345678", "+441234567890123"):
        assert len(vault.encrypt(number)) <= 64  # hash-max-listpack-value: the contact record stays small


@pytest.mark.parametrize("bad", ["~", "~abc", "~" + "A" * 40, "~!!!!", "gAAAAAbad"])
def test_damaged_tokens_are_a_clear_value_error(vault, bad):
    with pytest.raises(ValueError, match="cannot be decrypted"):
        vault.decrypt(bad)


def test_fernet_tokens_from_the_previous_release_still_decrypt_and_rotate_to_the_new_format():
    old, new = Fernet.generate_key(), Fernet.generate_key()
    legacy = Fernet(old).encrypt(b"+16175550123").decode()
    vault = Vault([new, old], b"h")
    assert vault.decrypt(legacy) == "+16175550123"
    assert not vault.is_current(legacy) and not Vault([old], b"h").is_current(legacy)  # old format: rewrite
    rotated = vault.rotate(legacy)
    assert rotated.startswith("~") and vault.is_current(rotated)
    assert Vault([new], b"h").decrypt(rotated) == "+16175550123"


def test_is_current_only_for_the_newest_key():
    old, new = Fernet.generate_key(), Fernet.generate_key()
    token = Vault([old], b"h").encrypt("x")
    assert Vault([old], b"h").is_current(token)
    assert not Vault([new, old], b"h").is_current(token)
    assert Vault([new, old], b"h").is_current(Vault([new, old], b"h").rotate(token))


def test_vault_from_config_uses_configured_keys():
    cfg = Config.from_env(PRODUCTION)
    vault = Vault.from_config(cfg)
    assert vault.person_key("+16175550123") == Vault([Fernet.generate_key()], b"phone-hash-secret-0003").person_key(
        "+16175550123")
    assert Vault([SECRETS["DATA_ENCRYPTION_KEY"].encode()], b"x").decrypt(vault.encrypt("hi")) == "hi"


def test_vault_from_config_in_tests_derives_stable_keys_from_secret_key():
    def test(key):
        return {"APP_ENV": "test", "REDIS_URL": REDIS, "SECRET_KEY": key}
    a = Vault.from_config(Config.from_env(test("one")))
    b = Vault.from_config(Config.from_env(test("one")))
    c = Vault.from_config(Config.from_env(test("two")))
    assert a.person_key("+16175550123") == b.person_key("+16175550123") != c.person_key("+16175550123")
    assert b.decrypt(a.encrypt("hi")) == "hi"


def test_vault_from_config_rejects_a_bad_encryption_key():
    cfg = Config.from_env({**PRODUCTION, "DATA_ENCRYPTION_KEY": "not-a-fernet-key"})
    with pytest.raises(ValueError, match="DATA_ENCRYPTION_KEY") as info:
        Vault.from_config(cfg)
    assert "not-a-fernet-key" not in str(info.value)


def test_vault_from_config_accepts_comma_separated_keys():
    old, new = Fernet.generate_key(), Fernet.generate_key()
    token = Vault([old], b"h").encrypt("hello")
    cfg = Config.from_env({**PRODUCTION, "DATA_ENCRYPTION_KEY": f"{new.decode()} , {old.decode()}"})
    assert Vault.from_config(cfg).decrypt(token) == "hello"


# -- phone.to_e164 --------------------------------------------------------------------------------------------

@pytest.mark.parametrize("raw,e164", [
    ("(617) 555-0123", "+16175550123"),
    ("617-555-0123", "+16175550123"),
    ("617.555.0123", "+16175550123"),
    ("6175550123", "+16175550123"),
    ("1-617-555-0123", "+16175550123"),
    ("16175550123", "+16175550123"),
    ("+1 617 555 0123", "+16175550123"),
    ("+16175550123", "+16175550123"),
    ("  +16175550123\n", "+16175550123"),
    ("tel:+16175550123", "+16175550123"),
    ("+44 20 7946 0958", "+442079460958"),
    ("855.590.9944", "+18555909944"),
])
def test_to_e164_normalizes(raw, e164):
    assert to_e164(raw) == e164


def test_to_e164_uses_the_region_for_national_numbers():
    assert to_e164("020 7946 0958", "GB") == "+442079460958"
    assert to_e164("+16175550123", "GB") == "+16175550123"


@pytest.mark.parametrize("raw", ["", "   ", "abc", "not-a-number", "+1", "0", "123", "911", "617-555-01234",
                                 "+999 1234567890", "+", "1" * 30, "+1 (6"])
def test_to_e164_rejects_garbage(raw):
    with pytest.raises(InvalidNumber):
        to_e164(raw)


@pytest.mark.parametrize("raw", [
    "555-0123",
    "+1 000 000 0000",
])
def test_to_e164_rejects_numbers_that_cannot_be_texted(raw):
    with pytest.raises(InvalidNumber):
        to_e164(raw, strict=True)


def test_local_only_numbers_are_refused_even_leniently():
    with pytest.raises(InvalidNumber):
        to_e164("555-0123")


def test_mask():
    assert mask("+16175550123") == "********0123"
    assert mask("+123") == "****"


@settings(max_examples=500, deadline=None)
@given(area=st.integers(200, 999), exchange=st.integers(200, 999), line=st.integers(0, 9999),
       region=st.sampled_from(["US", "CA", "GB"]))
def test_the_north_american_shortcut_agrees_with_phonenumbers(area, exchange, line, region):
    """Twilio's From for North American texters skips the parse; phonenumbers must give the same answer."""
    raw = f"+1{area}{exchange}{line:04d}"
    number = phonenumbers.parse(raw, region)
    assert phonenumbers.is_possible_number(number)
    assert to_e164(raw, region) == phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164) == raw


def test_strict_checks_never_take_the_shortcut():
    assert to_e164("+16175550123") == "+16175550123"
    with pytest.raises(InvalidNumber):  # possible, so the lenient answer is yes; not assigned, so strict says no
        to_e164("+12005550123", strict=True)
