"""Modbus TCP master for tests/modbus.rs, on pymodbus (pinned in
scripts/client-venvs.sh: GOE_VENV_PYMODBUS).

Reads commands from stdin, one per line, and answers each with one JSON line:
  read holding|input ADDR COUNT   -> {"registers": [...]} or {"exception": N}
  write ADDR V1 [V2 ...]          -> {"written": COUNT} or {"exception": N}
  float ADDR                      -> the 4 registers of a float64 via pymodbus'
                                     own big-endian decoder: {"value": x}
The connection stays open for the whole session (every command on it).
"""
import json
import sys

import pymodbus
from pymodbus.client import ModbusTcpClient

assert pymodbus.__version__ == "3.8.6", pymodbus.__version__


def main():
    port = int(sys.argv[1])
    client = ModbusTcpClient("127.0.0.1", port=port, timeout=5, retries=0)
    if not client.connect():
        print(json.dumps({"error": "cannot connect"}), flush=True)
        return 1
    for line in sys.stdin:
        words = line.split()
        if not words:
            continue
        try:
            if words[0] == "read":
                addr, count = int(words[2]), int(words[3])
                if words[1] == "holding":
                    r = client.read_holding_registers(addr, count=count, slave=1)
                else:
                    r = client.read_input_registers(addr, count=count, slave=1)
                if r.isError():
                    out = {"exception": r.exception_code}
                else:
                    out = {"registers": list(r.registers)}
            elif words[0] == "write":
                addr = int(words[1])
                values = [int(v) for v in words[2:]]
                r = client.write_registers(addr, values, slave=1)
                if r.isError():
                    out = {"exception": r.exception_code}
                else:
                    out = {"written": r.count}
            elif words[0] == "float":
                addr = int(words[1])
                r = client.read_holding_registers(addr, count=4, slave=1)
                if r.isError():
                    out = {"exception": r.exception_code}
                else:
                    v = client.convert_from_registers(
                        r.registers, client.DATATYPE.FLOAT64
                    )
                    out = {"value": v if v != float("inf") else "inf"}
            else:
                out = {"error": f"unknown command {words[0]}"}
        except Exception as e:  # noqa: BLE001 - reported to the test
            out = {"error": f"{type(e).__name__}: {e}"}
        print(json.dumps(out), flush=True)
    client.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
