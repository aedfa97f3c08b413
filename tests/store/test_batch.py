"""service.store.batch: the webhook's writes as one script call must leave Redis exactly as a MULTI/EXEC would."""
import pytest
from redis.exceptions import ResponseError

from service.store.batch import Batch


def write_everything(pipe, prefix: str) -> None:
    pipe.hsetnx(f"{prefix}:h", "consent", "subscribed")
    pipe.hsetnx(f"{prefix}:h", "consent", "opted_out")  # no effect: already set
    pipe.hset(f"{prefix}:h", mapping={"last_seen": 1764000000, "phone": "gAAAA=="})
    pipe.hset(f"{prefix}:h", "followups", "a b")
    pipe.hset(f"{prefix}:h", "gone", "x")
    pipe.hdel(f"{prefix}:h", "gone", "never-there")
    pipe.hincrby(f"{prefix}:h", "count", 3)
    pipe.zadd(f"{prefix}:z", {"m1": 1764000000.125, "m2": 5, "m3": 7.5})
    pipe.zrem(f"{prefix}:z", "m3")
    pipe.zremrangebyscore(f"{prefix}:z", "-inf", 6)
    pipe.rpush(f"{prefix}:l", "one", "two", "three", "é ✓ \u2014 emoji 😀")
    pipe.ltrim(f"{prefix}:l", -3, -1)
    pipe.sadd(f"{prefix}:s", "a", "b")
    pipe.set(f"{prefix}:answer", "<Response/>", ex=600)
    pipe.set(f"{prefix}:plain", 42)
    pipe.expire(f"{prefix}:z", 3600)


def dump(redis, prefix: str) -> dict:
    return {"h": redis.hgetall(f"{prefix}:h"), "z": redis.zrange(f"{prefix}:z", 0, -1, withscores=True),
            "l": redis.lrange(f"{prefix}:l", 0, -1), "s": redis.smembers(f"{prefix}:s"),
            "answer": redis.get(f"{prefix}:answer"), "plain": redis.get(f"{prefix}:plain"),
            "answer_ttl": 0 < redis.ttl(f"{prefix}:answer") <= 600, "z_ttl": 0 < redis.ttl(f"{prefix}:z") <= 3600}


def test_a_batch_writes_what_a_transaction_writes(redis):
    pipe = redis.pipeline(transaction=True)
    write_everything(pipe, "tx")
    pipe.execute()
    batch = Batch(redis)
    write_everything(batch, "{batch}")  # one hash tag: the keys of one script call share a cluster slot
    batch.execute()
    assert dump(redis, "{batch}") == dump(redis, "tx")
    assert dump(redis, "{batch}")["l"][-1].decode() == "é ✓ \u2014 emoji 😀"


def test_nothing_is_written_before_execute_and_an_empty_batch_sends_nothing(redis):
    batch = Batch(redis)
    batch.set("k", "v")
    assert redis.get("k") is None
    batch.execute()
    assert redis.get("k") == b"v"
    assert len(batch) == 0
    Batch(redis).execute()  # no command at all: no error


def test_the_script_is_reloaded_after_a_script_flush(redis):
    batch = Batch(redis)
    batch.set("before", 1)
    batch.execute()
    redis.script_flush()  # as after a Redis restart or failover
    batch = Batch(redis)
    batch.set("after", 2)
    batch.execute()
    assert redis.get("after") == b"2"


def test_a_wrong_type_fails_loudly(redis):
    redis.set("str", "x")
    batch = Batch(redis)
    batch.rpush("str", "y")
    with pytest.raises(ResponseError):
        batch.execute()


def test_hset_needs_something_to_set(redis):
    with pytest.raises(ValueError):
        Batch(redis).hset("k")
