#!/usr/bin/env bash
# Modbus TCP slave figures for BENCHMARKS.md (issue #15): requests per second
# and server CPU per request of goe-charger's slave (`--modbus-listen`), side
# by side with pymodbus 3.8.6's own asyncio TCP server (a sparse datastore of
# the same register ranges, scripts/bench-modbus/pymodbus_server.py) in the
# same run, the two alternating run by run so the machine's noise hits both.
# Cases: function 4 reads of the blocks of registers 100-159 an energy
# manager polls (5 requests: 100+2, 105+17, 128+2, 132+2, 144+16) and
# function 16 writes of AMPERE_VOLATILE (299, cycling 6-16 A), each with K
# connections. The load generator is scripts/bench-modbus/ (tokio-modbus
# 0.17.0's client, all K connections on one thread, each sending its next
# request when the answer arrived); its own CPU is reported too. Then, unless
# FLEET=0, the RSS of an idle fleet of FLEET chargers with and without
# `--modbus-listen 127.0.0.1:0` (one listener per charger), alternating,
# ROUNDS times. Not part of scripts/test.sh.
#
#   scripts/bench-modbus.sh                    # K = 1 and 8, 3 rounds of 5 s, fleet of 1000
#   KS="1 8" ROUNDS=3 WINDOW=5 FLEET=1000 ...  # the defaults
#   GOE_BIN=target/debug/goe-charger ...       # that binary instead of a release build
#   GOE_VENV_PYMODBUS=.../bin/python ...       # pymodbus 3.8.6's python (default: target/venvs/pymodbus,
#                                              # which `source scripts/client-venvs.sh` builds)
set -euo pipefail
cd "$(dirname "$0")/.."
root="$PWD"
fail() { echo "FAILED: $*" >&2; exit 1; }
command -v python3 >/dev/null || fail "python3 is missing (Debian: apt-get install python3)"

if [ -n "${GOE_BIN:-}" ]; then
    [ -x "$GOE_BIN" ] || fail "GOE_BIN=$GOE_BIN is not an executable"
else
    cargo build -q --release -p goe-charger --bin goe-charger
    GOE_BIN=$root/target/release/goe-charger
fi
# the generator: its own workspace and lock file, its own target directory
cargo build -q --release --manifest-path scripts/bench-modbus/Cargo.toml --target-dir target/bench-modbus
LOAD_BIN=$root/target/bench-modbus/release/modbus-load
# the python of the pymodbus venv (scripts/client-venvs.sh's GOE_VENV_PYMODBUS;
# a venv directory is taken too)
GOE_VENV_PYMODBUS=${GOE_VENV_PYMODBUS:-$root/target/venvs/pymodbus/bin/python}
[ -d "$GOE_VENV_PYMODBUS" ] && GOE_VENV_PYMODBUS=$GOE_VENV_PYMODBUS/bin/python
[ -x "$GOE_VENV_PYMODBUS" ] ||
    fail "no pymodbus venv python at $GOE_VENV_PYMODBUS (run: source scripts/client-venvs.sh, or set GOE_VENV_PYMODBUS)"
v=$("$GOE_VENV_PYMODBUS" -c 'import pymodbus; print(pymodbus.__version__)') || fail "pymodbus does not import with $GOE_VENV_PYMODBUS"
[ "$v" = 3.8.6 ] || fail "pymodbus $v with $GOE_VENV_PYMODBUS, want 3.8.6"
ulimit -n "$(ulimit -Hn)"
if [ -z "${DATA_ROOT:-}" ]; then
    if [ -d /dev/shm ] && [ -w /dev/shm ]; then DATA_ROOT=/dev/shm; else DATA_ROOT=${TMPDIR:-/tmp}; fi
fi
export GOE_BIN LOAD_BIN DATA_ROOT GOE_VENV_PYMODBUS KS=${KS:-1 8} ROUNDS=${ROUNDS:-3} WINDOW=${WINDOW:-5} FLEET=${FLEET:-1000}
exec python3 - <<'PY'
import json, os, shutil, signal, socket, statistics, subprocess, sys, tempfile, time

BIN, LOAD = os.environ["GOE_BIN"], os.environ["LOAD_BIN"]
PY_SERVER = os.path.abspath("scripts/bench-modbus/pymodbus_server.py")
PYTHON = os.environ["GOE_VENV_PYMODBUS"]
KS = [int(k) for k in os.environ["KS"].split()]
ROUNDS, WINDOW, FLEET = int(os.environ["ROUNDS"]), float(os.environ["WINDOW"]), int(os.environ["FLEET"])
TCK = os.sysconf("SC_CLK_TCK")
work = tempfile.mkdtemp(prefix="goe-modbus-bench-", dir=os.environ["DATA_ROOT"])
children = []


def ticks(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])


def status(pid, field):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


def spawn(cmd, out):
    p = subprocess.Popen(cmd, stdout=open(out, "w"), stderr=open(out + ".err", "w"),
                         env=dict(os.environ, RUST_LOG="warn"))
    children.append(p)
    return p


def wait_lines(p, out, needle, n, limit=600):
    t0 = time.time()
    while True:
        lines = [l for l in open(out) if needle in l]
        if len(lines) >= n:
            return lines
        if p.poll() is not None:
            sys.exit(f"{out}: the process exited: {open(out + '.err').read()[-2000:]}")
        if time.time() - t0 > limit:
            sys.exit(f"{out}: {len(lines)} of {n} '{needle}' lines after {limit} s")
        time.sleep(0.2)


def stop(p):
    if p.poll() is None:
        p.send_signal(signal.SIGTERM)
        try:
            p.wait(timeout=60)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def start_goe():
    out = os.path.join(work, "goe.out")
    p = spawn([BIN, "--data-dir", os.path.join(work, "goe"), "--listen", "127.0.0.1:0",
               "--modbus-listen", "127.0.0.1:0", "--seed", "1"], out)
    line = wait_lines(p, out, " modbus listening on ", 1)[0]
    return p, line.split()[-1]


def start_pymodbus():
    port = free_port()
    out = os.path.join(work, "pymodbus.out")
    p = spawn([PYTHON, PY_SERVER, str(port)], out)
    t0 = time.time()
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return p, f"127.0.0.1:{port}"
        except OSError:
            if p.poll() is not None or time.time() - t0 > 60:
                sys.exit(f"pymodbus server did not start: {open(out + '.err').read()[-2000:]}")
            time.sleep(0.2)


def run(server, addr, k, mode):
    """One window: the generator's result plus the server's CPU over it."""
    g = subprocess.Popen([LOAD, addr, str(k), mode, str(WINDOW)], stdout=subprocess.PIPE, text=True)
    ready = g.stdout.readline().strip()
    if ready != "ready":
        g.wait()
        sys.exit(f"generator against {addr}: {ready!r}")
    c0 = ticks(server.pid)
    r = json.loads(g.stdout.readline())
    c1 = ticks(server.pid)
    if g.wait() != 0:
        sys.exit(f"generator against {addr} failed")
    if r["exceptions"]:
        sys.exit(f"{addr}: {r['exceptions']} exceptions in {mode} (the requests must be valid on both)")
    n = max(r["requests"], 1)
    return {"rps": r["requests"] / r["seconds"], "cpu_us": 1e6 * (c1 - c0) / TCK / n,
            "cpu_pct": 100 * (c1 - c0) / TCK / r["seconds"],
            "gen_us": 1e6 * r["gen_cpu_s"] / n, "gen_pct": 100 * r["gen_cpu_s"] / r["seconds"]}


def fleet(modbus):
    out = os.path.join(work, f"fleet-{modbus}.out")
    cmd = [BIN, "--data-dir", os.path.join(work, f"fleet-{modbus}"), "--listen", "127.0.0.1:0",
           "--chargers", str(FLEET), "--seed", "1"]
    if modbus:
        cmd += ["--modbus-listen", "127.0.0.1:0"]
    p = spawn(cmd, out)
    wait_lines(p, out, " listening on http://", FLEET + 0)
    if modbus:
        wait_lines(p, out, " modbus listening on ", FLEET)
    time.sleep(10)
    c0, t0 = ticks(p.pid), time.time()
    time.sleep(10)
    r = {"rss_kib": status(p.pid, "VmRSS"), "fds": len(os.listdir(f"/proc/{p.pid}/fd")),
         "cpu_pct": 100 * (ticks(p.pid) - c0) / TCK / (time.time() - t0)}
    stop(p)
    return r


def main():
    cpu = open("/proc/cpuinfo").read().split("model name")[1].split("\n")[0].strip(":\t ")
    print(f"== machine: {os.cpu_count()} cores, {cpu}, load {open('/proc/loadavg').read().split()[:3]}")
    print(f"== K {KS}, {ROUNDS} rounds of {WINDOW} s per case and server, data in {work}")
    goe, goe_addr = start_goe()
    pym, pym_addr = start_pymodbus()
    servers = {"goe-charger": (goe, goe_addr), "pymodbus": (pym, pym_addr)}
    cases = [(mode, k) for mode in ("poll", "write") for k in KS]
    res = {}
    try:
        for rnd in range(ROUNDS):
            order = ["goe-charger", "pymodbus"] if rnd % 2 == 0 else ["pymodbus", "goe-charger"]
            for mode, k in cases:
                for impl in order:
                    p, addr = servers[impl]
                    r = run(p, addr, k, mode)
                    res.setdefault((mode, k, impl), []).append(r)
                    print(f"   round {rnd + 1} {mode:<5} K={k} {impl:<11} " + json.dumps({a: round(b, 1) for a, b in r.items()}), flush=True)
        print(f"== load after the runs {open('/proc/loadavg').read().split()[:3]}; RSS goe-charger "
              f"{status(goe.pid, 'VmRSS')} KiB, pymodbus {status(pym.pid, 'VmRSS')} KiB")
        stop(goe)
        stop(pym)
        print()
        print("median of the rounds; CPU per request = server utime+stime / answered requests;"
              " gen = the generator's own CPU")
        print(f"{'case':<12} {'server':<12} {'req/s':>8} {'CPU us/req':>10} {'CPU %':>6} {'gen us/req':>10} {'gen %':>6}")
        med = lambda rs, key: statistics.median(r[key] for r in rs)
        for mode, k in cases:
            for impl in servers:
                rs = res[(mode, k, impl)]
                print(f"{mode + ' K=' + str(k):<12} {impl:<12} {med(rs, 'rps'):>8.0f} {med(rs, 'cpu_us'):>10.1f} "
                      f"{med(rs, 'cpu_pct'):>6.0f} {med(rs, 'gen_us'):>10.1f} {med(rs, 'gen_pct'):>6.0f}")
            g, s = res[(mode, k, "goe-charger")], res[(mode, k, "pymodbus")]
            # ratios per round (the pair ran back to back), then their median
            rr = statistics.median(a["rps"] / b["rps"] for a, b in zip(g, s))
            rc = statistics.median(a["cpu_us"] / b["cpu_us"] for a, b in zip(g, s))
            print(f"{'':<12} {'goe / pym':<12} {rr:>8.2f}x {rc:>9.2f}x   (per-round ratios: req/s "
                  f"{[round(a['rps'] / b['rps'], 2) for a, b in zip(g, s)]}, CPU/req "
                  f"{[round(a['cpu_us'] / b['cpu_us'], 2) for a, b in zip(g, s)]})")
        if FLEET:
            print()
            print(f"== idle fleet of {FLEET}, without and with --modbus-listen 127.0.0.1:0, alternating, "
                  f"{ROUNDS} rounds (10 s settle, 10 s window)")
            per = []
            for rnd in range(ROUNDS):
                a = fleet(False)
                b = fleet(True)
                per.append((b["rss_kib"] - a["rss_kib"]) / FLEET)
                print(f"   round {rnd + 1} without: {a}")
                print(f"   round {rnd + 1} with:    {b}")
                print(f"   round {rnd + 1}: {(b['rss_kib'] - a['rss_kib']) / FLEET:.2f} KiB RSS and "
                      f"{(b['fds'] - a['fds']) / FLEET:.2f} fds per charger's listener; fleet RSS with/without "
                      f"{b['rss_kib'] / a['rss_kib']:.3f}, CPU {a['cpu_pct']:.1f} % -> {b['cpu_pct']:.1f} % of a core",
                      flush=True)
            print(f"   Modbus listener per charger: median {statistics.median(per):.2f} KiB RSS "
                  f"(rounds: {[round(x, 2) for x in per]})")
    finally:
        for p in children:
            stop(p)
        shutil.rmtree(work, ignore_errors=True)


main()
PY
