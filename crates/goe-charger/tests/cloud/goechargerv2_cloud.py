"""Drives the PyPI client goechargerv2 (unchanged) against the cloud API
stand-in. Its `host` parameter is the base URL: the stand-in's path form
http://ADDR/<serial> stands in for https://<serial>.api.v3.go-e.io; the
client sends the token as `Authorization: Basic <token>`.

usage: goechargerv2_cloud.py BASE_URL TOKEN COMMAND...
commands: status | amp=N   (one JSON line per command)
"""
import json
import sys

from goechargerv2.goecharger import GoeChargerApi

base, token, *commands = sys.argv[1:]
api = GoeChargerApi(base, token, timeout=10)
for command in commands:
    if command == "status":
        try:
            out = api.request_status()
        except RuntimeError as e:
            out = {"error": str(e)}
    elif command.startswith("amp="):
        out = api.set_max_current(int(command[4:]))
    else:
        raise SystemExit(f"unknown command {command}")
    print(json.dumps(out, default=str), flush=True)
