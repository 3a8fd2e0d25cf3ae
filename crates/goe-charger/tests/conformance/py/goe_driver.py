"""Driver of goe 0.3.2 (read-only, strict enum and ISO time parsing). See rpc.py."""

import sys

from goe.charger import GoEChargerClient
from goe.json_client import LocalJsonClient

from rpc import serve

HOST = sys.argv[1]
client = GoEChargerClient.local(HOST)


def components():
    """Every component in one request (`get_many`, as the CLI does)."""
    comps = list(client.supported_components())
    return {c.name(): parsed for c, parsed in zip(comps, client.get_many(comps))}


def getters():
    """Every component through its own getter (one request each)."""
    return {
        "meta": client.get_meta(),
        "time": client.get_time(),
        "config": client.get_config(),
        "charging_status": client.get_status(),
        "stats": client.get_stats(),
    }


def query(keys):
    return LocalJsonClient(HOST).query(keys=keys)


serve({"components": components, "getters": getters, "query": query}, ["goe"])
