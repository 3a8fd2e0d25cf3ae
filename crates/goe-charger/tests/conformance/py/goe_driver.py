"""Driver of goe 0.3.2 (read-only, strict enum and ISO time parsing). See rpc.py."""

import sys

from goe.charger import GoEChargerClient
from goe.json_client import LocalJsonClient

from rpc import serve

HOST = sys.argv[1]
client = GoEChargerClient.local(HOST)


def components(skip=()):
    """Every component (but `skip`) in one request (`get_many`, as the CLI does)."""
    comps = [c for c in client.supported_components() if c.name() not in skip]
    return {c.name(): parsed for c, parsed in zip(comps, client.get_many(comps))}


def getters(skip=()):
    """Every component (but `skip`) through its own getter (one request each)."""
    each = {
        "meta": client.get_meta,
        "time": client.get_time,
        "config": client.get_config,
        "charging_status": client.get_status,
        "stats": client.get_stats,
    }
    return {name: get() for name, get in each.items() if name not in skip}


def get_time():
    return client.get_time()


def query(keys):
    return LocalJsonClient(HOST).query(keys=keys)


serve(
    {"components": components, "getters": getters, "get_time": get_time, "query": query},
    ["goe"],
)
