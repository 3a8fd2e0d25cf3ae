"""Checks the charger's Home Assistant discovery configurations with Home
Assistant's own code (the pinned `homeassistant` of scripts/client-venvs.sh).

Input (argv[1], JSON): {"prefix": discovery prefix, "configs": {topic: payload},
"states": {topic: payload}} as the test's subscriber saw them on the broker.
Output (stdout, JSON): {"errors": [...], "entities": n, "commands": [{"key",
"topic", "payload", "expect"}]}: one write per switch, number and select, made
with the entity's own command template. Exit status 1 when there are errors.

What HA does with a discovery message and what is checked here:
- the topic against discovery.TOPIC_MATCHER and SUPPORTED_COMPONENTS;
- the abbreviation expansion of discovery.async_discovery_message_received;
- the platform's DISCOVERY_SCHEMA (homeassistant.components.mqtt.<platform>),
  and no key silently dropped by its REMOVE_EXTRA;
- sensor/number device class <-> unit (DEVICE_CLASS_UNITS) and sensor state
  classes (DEVICE_CLASS_STATE_CLASSES), enum sensors' options;
- every state topic is published by the charger and its value_template,
  rendered by HA's template engine, gives a state the entity accepts;
- availability: the topic is published and holds payload_available.
"""

import asyncio
import json
import math
import sys

# the import order HA's loader uses (websocket_api <-> http <-> persistent_notification)
import homeassistant.components.persistent_notification  # noqa: F401
import voluptuous as vol
from homeassistant.components.mqtt import binary_sensor, number, select, sensor, switch
from homeassistant.components.mqtt import discovery
from homeassistant.components.mqtt.abbreviations import ABBREVIATIONS, DEVICE_ABBREVIATIONS
from homeassistant.components.number.const import DEVICE_CLASS_UNITS as NUMBER_UNITS
from homeassistant.components.sensor import DEVICE_CLASS_STATE_CLASSES, DEVICE_CLASS_UNITS
from homeassistant.core import HomeAssistant
from homeassistant.helpers.template import Template

PLATFORMS = {
    "sensor": sensor,
    "binary_sensor": binary_sensor,
    "switch": switch,
    "number": number,
    "select": select,
}


def expand(payload):
    """discovery.async_discovery_message_received's abbreviation expansion."""
    for key in list(payload):
        payload[ABBREVIATIONS.get(key, key)] = payload.pop(key)
    if "device" in payload:
        device = payload["device"]
        for key in list(device):
            device[DEVICE_ABBREVIATIONS.get(key, key)] = device.pop(key)
    return payload


def is_number(text):
    try:
        return math.isfinite(float(text))
    except ValueError:
        return False


async def main():
    data = json.load(open(sys.argv[1]))
    prefix = data["prefix"]
    states = data["states"]
    hass = HomeAssistant("/nonexistent-config-dir")
    errors = []
    commands = []
    unique_ids = set()
    devices = set()

    def render(template, payload):
        return str(Template(template, hass).async_render_with_possible_json_value(payload, None))

    def command(template, value):
        if template is None:
            return str(value)
        return str(Template(template, hass).async_render({"value": value}, parse_result=False))

    for topic, text in sorted(data["configs"].items()):
        err = lambda msg: errors.append(f"{topic}: {msg}")  # noqa: E731
        if not topic.startswith(prefix + "/"):
            err("not under the discovery prefix")
            continue
        match = discovery.TOPIC_MATCHER.match(topic[len(prefix) + 1 :])
        if not match:
            err("HA ignores this topic (TOPIC_MATCHER)")
            continue
        component = match.group("component")
        if component not in discovery.SUPPORTED_COMPONENTS or component not in PLATFORMS:
            err(f"component {component} not supported")
            continue
        try:
            raw = json.loads(text)
        except ValueError as e:
            err(f"not JSON: {e}")
            continue
        payload = expand(dict(raw))
        try:
            config = PLATFORMS[component].DISCOVERY_SCHEMA(dict(payload))
        except vol.Invalid as e:
            err(f"refused by HA's {component} DISCOVERY_SCHEMA: {e}")
            continue
        dropped = set(payload) - set(config)
        if dropped:
            err(f"keys HA drops (unknown to the schema): {sorted(dropped)}")
        uid = config.get("unique_id")
        if not uid or uid in unique_ids:
            err(f"unique_id missing or repeated: {uid}")
        unique_ids.add(uid)
        device = config.get("device") or {}
        if not device.get("identifiers") or device.get("manufacturer") != "go-e":
            err(f"device block: {device}")
        devices.add(json.dumps(device, sort_keys=True))
        state_topic = config.get("state_topic")
        if state_topic not in states:
            err(f"state topic {state_topic} is not published by the charger")
            continue
        fwv = states.get(state_topic.rsplit("/", 1)[0] + "/fwv")
        if fwv is None or device.get("sw_version") != json.loads(fwv):
            err(f"sw_version {device.get('sw_version')} is not fwv {fwv}")
        avail = config.get("availability_topic")
        if avail not in states or states[avail] != config.get("payload_available"):
            err(f"availability {avail} = {states.get(avail)!r}, not {config.get('payload_available')!r}")
        value = states[state_topic]
        tpl = config.get("value_template")
        state = render(tpl.template, value) if tpl is not None else value
        dc = config.get("device_class")
        dc = getattr(dc, "value", dc)
        unit = config.get("unit_of_measurement")
        if component == "sensor":
            sc = config.get("state_class")
            if dc == "enum":
                if unit or sc or not config.get("options"):
                    err("an enum sensor needs options and no unit or state class")
                if state != "None" and state not in config.get("options", []):
                    err(f"state {state!r} not among the options")
            elif dc is not None:
                if dc in DEVICE_CLASS_UNITS and unit not in DEVICE_CLASS_UNITS[dc]:
                    err(f"unit {unit} not allowed for device class {dc}")
                if sc is not None and sc not in DEVICE_CLASS_STATE_CLASSES.get(dc, set()):
                    err(f"state class {sc} not allowed for device class {dc}")
                if state != "None" and not is_number(state):
                    err(f"state {state!r} of a {dc} sensor is not a number")
        elif component == "binary_sensor":
            if state not in (config["payload_on"], config["payload_off"]):
                err(f"state {state!r} is neither payload_on nor payload_off")
        elif component == "switch":
            on, off = config.get("state_on", config["payload_on"]), config.get("state_off", config["payload_off"])
            if state not in (on, off):
                err(f"state {state!r} is neither state_on nor state_off")
            new = config["payload_off"] if state == on else config["payload_on"]
            commands.append({"topic": config["command_topic"], "payload": new, "expect": json.loads(new)})
        elif component == "number":
            if dc is not None and dc in NUMBER_UNITS and unit not in NUMBER_UNITS[dc]:
                err(f"unit {unit} not allowed for number device class {dc}")
            lo, hi = config["min"], config["max"]
            if state != "None" and not (is_number(state) and lo <= float(state) <= hi):
                err(f"state {state!r} outside {lo}..{hi}")
            target = float(int((lo + hi) / 2))
            if state != "None" and float(state) == target:
                target = lo
            ct = config.get("command_template")
            out = command(ct.template if ct is not None else None, target)
            commands.append({"topic": config["command_topic"], "payload": out, "expect": int(target)})
        elif component == "select":
            options = config["options"]
            if state not in options:
                err(f"state {state!r} not among the options {options}")
            ct = config.get("command_template")
            # every option's command payload reads back as that option
            for option in options:
                out = command(ct.template if ct is not None else None, option)
                back = render(tpl.template, out) if tpl is not None else out
                if back != option:
                    err(f"option {option!r} is sent as {out!r}, which reads back as {back!r}")
            new = next((o for o in options if o != state), None)
            if new is None:
                err("a select needs two options")
                continue
            out = command(ct.template if ct is not None else None, new)
            try:
                commands.append({"topic": config["command_topic"], "payload": out, "expect": json.loads(out)})
            except ValueError:
                err(f"option {new!r} is sent as {out!r}, not JSON")
    if len(devices) != 1:
        errors.append(f"the entities name {len(devices)} different device blocks")
    for c in commands:
        c["key"] = c["topic"].rsplit("/", 2)[-2]
    print(json.dumps({"errors": errors, "entities": len(data["configs"]), "commands": commands}))
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
