"""Drives the PyPI client goe (unchanged) against the cloud API stand-in:
CloudJsonClient takes the base URL as its `domain` parameter (the stand-in's
path form http://ADDR/<serial> for https://<serial>.api.v3.go-e.io) and
sends the token as `Authorization: Bearer <token>`.

usage: goe_cloud.py BASE_URL TOKEN
prints the raw query of a few keys, then which components of the charger client parse.
"""
import json
import sys
import urllib.error

from goe.charger import GoEChargerClient
from goe.json_client import CloudJsonClient

base, token = sys.argv[1:3]
json_client = CloudJsonClient(cloud_api_key=token, domain=base)
try:
    print(json.dumps({"query": json_client.query(keys=["amp", "car", "sse"])}), flush=True)
except urllib.error.HTTPError as e:
    print(json.dumps({"http_error": e.code, "body": e.read().decode()}), flush=True)
    sys.exit(0)
client = GoEChargerClient(json_client)
parsed = {}
for component in client.supported_components():
    try:
        client.get_many([component])
        parsed[component.__name__] = True
    except KeyError as e:
        parsed[component.__name__] = f"missing key {e}"
print(json.dumps({"parsed": parsed}), flush=True)
