"""The peer of scripts/bench-modbus.sh: pymodbus's own asyncio Modbus TCP
server (StartAsyncTcpServer) on a sparse datastore with the register ranges
goe-charger maps (crates/goe-proto/src/modbus.rs, INPUT and HOLDING), so the
same requests are valid on both and an unmapped register is exception 2 on
both. Usage: python pymodbus_server.py PORT (listens on 127.0.0.1)."""
import asyncio
import sys

from pymodbus.datastore import ModbusServerContext, ModbusSlaveContext, ModbusSparseDataBlock
from pymodbus.server import StartAsyncTcpServer

# (first register, number of registers), as in goe_proto::modbus
INPUT = [(100, 2), (105, 3), (108, 14), (128, 2), (132, 2), (144, 16), (200, 1), (202, 2),
         (205, 1), (301, 26), (327, 5), (332, 40)]
HOLDING = [(200, 2), (204, 1), (206, 13), (299, 2), (332, 6)]


def block(ranges):
    # ModbusSlaveContext adds 1 to every request address (pymodbus 3.8's
    # "address + 1"), so register r is key r + 1
    return ModbusSparseDataBlock({r + 1: (r * 7) % 251 for first, n in ranges for r in range(first, first + n)})


async def main(port):
    slave = ModbusSlaveContext(ir=block(INPUT), hr=block(HOLDING))
    context = ModbusServerContext(slaves=slave, single=True)
    await StartAsyncTcpServer(context, address=("127.0.0.1", port))


asyncio.run(main(int(sys.argv[1])))
