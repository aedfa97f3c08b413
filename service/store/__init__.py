"""Where everything is kept: Redis and nothing else (no Flask, no RQ). One module per kind of record;
every key name in keys.py, every Lua script under lua/ (scripts.py runs them)."""
