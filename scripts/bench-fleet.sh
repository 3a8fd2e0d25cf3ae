#!/usr/bin/env bash
# Fleet figures for BENCHMARKS.md: runs `goe-charger --chargers N` (release)
# with every charger publishing to a local mosquitto, and measures over a
# window: RSS per charger (VmRSS), CPU (utime+stime from /proc), whether the
# fleet holds real time (energy booked by three charging chargers against wall
# time, and rbt deltas per charger per second on MQTT), HTTP answering (a
# probe a second to random chargers) and MQTT deltas flowing (broker's $SYS
# counter). The baseline is an idle `--chargers 1` run in the same script run.
# Loopback only; every step is bounded. Not part of scripts/test.sh.
#
#   scripts/bench-fleet.sh 1000 5000          # one process per N
#   SHARDS=2 scripts/bench-fleet.sh 10000     # N split over 2 processes (serial ranges)
#   MQTT=0 scripts/bench-fleet.sh 10000       # no broker (HTTP and stepping only)
#   WINDOW=30 DATA_ROOT=/dev/shm ...          # defaults
#
# Each charger holds a listener and a broker connection: one process needs
# about 2 file descriptors per charger; the hard limit here is `ulimit -Hn`.
# Needs mosquitto and mosquitto_sub (apt-get install mosquitto mosquitto-clients).
set -euo pipefail
cd "$(dirname "$0")/.."
[ $# -ge 1 ] || { echo "usage: $0 N [N...]" >&2; exit 2; }
for tool in mosquitto mosquitto_sub python3; do
    command -v "$tool" >/dev/null || [ -x "/usr/sbin/$tool" ] || { echo "$tool is missing" >&2; exit 2; }
done
cargo build -q --release -p goe-charger --bin goe-charger
ulimit -n "$(ulimit -Hn)"
export WINDOW=${WINDOW:-30} MQTT=${MQTT:-1} SHARDS=${SHARDS:-1}
if [ -z "${DATA_ROOT:-}" ]; then
    if [ -d /dev/shm ] && [ -w /dev/shm ]; then DATA_ROOT=/dev/shm; else DATA_ROOT=${TMPDIR:-/tmp}; fi
fi
export DATA_ROOT
export PROGRESS=0
[ -t 2 ] && PROGRESS=1
exec python3 - "$@" <<'PY'
import http.client, json, os, random, shutil, signal, socket, statistics
import subprocess, sys, tempfile, threading, time

WINDOW = int(os.environ["WINDOW"])
MQTT = os.environ["MQTT"] == "1"
SHARDS = int(os.environ["SHARDS"])
PROGRESS = os.environ["PROGRESS"] == "1"
BIN = os.path.abspath("target/release/goe-charger")
MOSQUITTO = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
TCK = os.sysconf("SC_CLK_TCK")
PAGE = os.sysconf("SC_PAGE_SIZE")
SERIAL_BASE = 100001
work = tempfile.mkdtemp(prefix="goe-fleet-bench-", dir=os.environ["DATA_ROOT"])
children = []


def bar(label, done, total, started):
    if not PROGRESS:
        return
    width = 30
    filled = int(width * done / max(total, 1))
    sys.stderr.write(f"\r  {label} [{'=' * filled}{' ' * (width - filled)}] {done}/{total} {time.time() - started:5.0f} s ")
    sys.stderr.flush()
    if done >= total:
        sys.stderr.write("\r" + " " * 79 + "\r")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def cpu_ticks(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])  # utime, stime


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def fds(pid):
    return len(os.listdir(f"/proc/{pid}/fd"))


def get(addr, path, timeout=5.0):
    host, port = addr.replace("http://", "").split(":")
    c = http.client.HTTPConnection(host, int(port), timeout=timeout)
    t0 = time.perf_counter()
    try:
        c.request("GET", path)
        r = c.getresponse()
        body = r.read()
        return r.status, body, time.perf_counter() - t0
    finally:
        c.close()


def post(addr, path):
    host, port = addr.replace("http://", "").split(":")
    c = http.client.HTTPConnection(host, int(port), timeout=10)
    try:
        c.request("POST", path)
        r = c.getresponse()
        return r.status, r.read()
    finally:
        c.close()


def sys_counter(mport, topic):
    out = subprocess.run(
        ["mosquitto_sub", "-h", "127.0.0.1", "-p", str(mport), "-C", "1", "-W", "5", "-t", topic],
        capture_output=True, text=True)
    try:
        return int(out.stdout.split()[0])
    except (IndexError, ValueError):
        return None


def start_broker():
    port = free_port()
    conf = os.path.join(work, "mosquitto.conf")
    with open(conf, "w") as f:
        f.write(f"listener {port} 127.0.0.1\nallow_anonymous true\npersistence false\n"
                "sys_interval 1\nmax_queued_messages 100000\nlog_dest none\n")
    p = subprocess.Popen([MOSQUITTO, "-c", conf], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    children.append(p)
    for _ in range(50):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return p, port
        except OSError:
            time.sleep(0.1)
    sys.exit("mosquitto did not start")


def start_fleet(n, shards, mport, label):
    """Starts n chargers in `shards` processes; returns (procs, [(serial, addr)], startup s)."""
    sizes = [n // shards + (1 if i < n % shards else 0) for i in range(shards)]
    fixed_ports = n <= 12000  # 20000..31999 lies below the ephemeral range
    procs, outs, offset = [], [], 0
    t0 = time.time()
    for i, size in enumerate(sizes):
        data = os.path.join(work, f"{label}-{i}")
        out = os.path.join(work, f"{label}-{i}.out")
        port = 20000 + offset if fixed_ports else 0
        cmd = [BIN, "--chargers", str(size), "--serial", str(SERIAL_BASE + offset),
               "--listen", f"127.0.0.1:{port}", "--data-dir", data, "--seed", "1"]
        if MQTT:
            cmd += ["--mqtt", f"mqtt://127.0.0.1:{mport}"]
        f = open(out, "w")
        p = subprocess.Popen(cmd, stdout=f, stderr=open(out + ".err", "w"),
                             env=dict(os.environ, RUST_LOG="warn"))
        children.append(p)
        procs.append(p)
        outs.append(out)
        offset += size
    chargers = []
    while True:
        chargers = []
        for out in outs:
            with open(out) as f:
                for line in f:
                    parts = line.split()
                    if "listening" in parts and parts[-1].startswith("http://"):
                        serial = parts[1] if len(parts) == 5 else str(SERIAL_BASE)
                        chargers.append((serial, parts[-1]))
        bar(f"starting {n} chargers", len(chargers), n, t0)
        if len(chargers) >= n:
            break
        for p, out in zip(procs, outs):
            if p.poll() is not None:
                sys.exit(f"goe-charger exited with {p.returncode}: {open(out + '.err').read()[-2000:]}")
        if time.time() - t0 > 1800:
            sys.exit("fleet did not start within 30 minutes")
        time.sleep(0.5)
    return procs, chargers, time.time() - t0


def wait_connected(mport, n):
    if not MQTT:
        return
    t0 = time.time()
    while time.time() - t0 < 600:
        c = sys_counter(mport, "$SYS/broker/clients/connected") or 0
        bar("MQTT connections", min(c, n), n, t0)
        if c >= n + 1:  # the chargers and this query's own client
            return
        time.sleep(1)
    print(f"  warning: only {c} of {n} chargers connected to the broker")


def settle(mport, n):
    """Waits until the retained dumps of every connect have passed the broker:
    its received-message rate is steady over two 3 s windows (at most 180 s)."""
    if not MQTT:
        time.sleep(5)
        return
    t0 = time.time()
    last = sys_counter(mport, "$SYS/broker/messages/received") or 0
    rates = []
    while time.time() - t0 < 180:
        time.sleep(3)
        now = sys_counter(mport, "$SYS/broker/messages/received") or 0
        rates.append((now - last) / 3)
        last = now
        bar("settling (retained dumps)", int(time.time() - t0), 180, t0)
        if len(rates) >= 2 and abs(rates[-1] - rates[-2]) <= 0.15 * max(rates[-2], 1):
            break
    bar("settling (retained dumps)", 180, 180, t0)


def sample_values(addr):
    status, body, latency = get(addr, "/api/status?filter=wh,nrg,car,rbt", timeout=10)
    v = json.loads(body)
    return v["wh"], v["nrg"][11], latency


def measure(label, n, shards, mport, broker):
    data_before = shutil.disk_usage(work)
    procs, chargers, startup = start_fleet(n, shards, mport, label)
    wait_connected(mport, n)
    settle(mport, n)
    samples = [chargers[0], chargers[len(chargers) // 2], chargers[-1]]
    for serial, addr in samples:
        post(addr, "/sim/plug?car=ev-3p-11kw&soc=20")
    time.sleep(5)  # the cars start drawing
    # window start
    rbt_counts = {}
    sub = None
    if MQTT:
        sub = subprocess.Popen(["mosquitto_sub", "-h", "127.0.0.1", "-p", str(mport), "-R", "-v",
                                "-t", "go-eCharger/+/rbt"], stdout=subprocess.PIPE, text=True)

        def read():
            for line in sub.stdout:
                serial = line.split("/", 2)[1]
                rbt_counts[serial] = rbt_counts.get(serial, 0) + 1
        reader = threading.Thread(target=read, daemon=True)
        reader.start()
    published0 = sys_counter(mport, "$SYS/broker/messages/received") if MQTT else None
    w0 = time.time()
    c0 = sum(cpu_ticks(p.pid) for p in procs)
    b0 = cpu_ticks(broker.pid) if broker else 0
    s0 = [sample_values(a) for _, a in samples]
    probes, failures = [], 0
    while time.time() - w0 < WINDOW:
        serial, addr = random.choice(chargers)
        try:
            status, body, latency = get(addr, "/api/status?filter=alw,car,eto,nrg,wh,trx,cards")
            if status == 200 and body.startswith(b"{"):
                probes.append(latency)
            else:
                failures += 1
        except OSError:
            failures += 1
        bar("measuring", int(time.time() - w0), WINDOW, w0)
        time.sleep(max(0.0, 1.0 - probes[-1] if probes else 1.0))
    s1 = [sample_values(a) for _, a in samples]
    w1 = time.time()
    c1 = sum(cpu_ticks(p.pid) for p in procs)
    b1 = cpu_ticks(broker.pid) if broker else 0
    published1 = sys_counter(mport, "$SYS/broker/messages/received") if MQTT else None
    bar("measuring", WINDOW, WINDOW, w0)
    if sub:
        sub.terminate()
        sub.wait()
    wall = w1 - w0
    rss = sum(rss_kib(p.pid) for p in procs)
    nfds = sum(fds(p.pid) for p in procs)
    # simulated seconds booked by the charging samples: Δwh·3600 / mean power
    sim_ratio = []
    for (wh0, p0, _), (wh1, p1, _) in zip(s0, s1):
        power = (p0 + p1) / 2
        sim_ratio.append((wh1 - wh0) * 3600 / power / wall if power > 100 else float("nan"))
    counts = [rbt_counts.get(s, 0) / wall for s, _ in chargers] if MQTT else []
    result = {
        "label": label, "n": n, "shards": shards, "startup_s": round(startup, 1),
        "rss_mib": round(rss / 1024, 1), "rss_kib_per_charger": round(rss / n, 1), "fds": nfds,
        "cpu_pct": round(100 * (c1 - c0) / TCK / wall, 1),
        "broker_cpu_pct": round(100 * (b1 - b0) / TCK / wall, 1) if broker else None,
        "sim_per_wall": [round(r, 3) for r in sim_ratio],
        "rbt_per_charger_per_s_min": round(min(counts), 2) if counts else None,
        "rbt_per_charger_per_s_median": round(statistics.median(counts), 2) if counts else None,
        "broker_msgs_per_s": round((published1 - published0) / wall) if published0 is not None and published1 is not None else None,
        "http_ok": len(probes), "http_failed": failures,
        "http_p50_ms": round(1000 * statistics.median(probes), 2) if probes else None,
        "http_max_ms": round(1000 * max(probes), 2) if probes else None,
        "window_s": round(wall, 1), "broker_published": [published0, published1],
    }
    holds = (all(r >= 0.98 for r in sim_ratio) and failures == 0
             and (not MQTT or (result["rbt_per_charger_per_s_min"] or 0) >= 0.9))
    result["holds_real_time"] = holds
    # stop: SIGTERM (flush), then wait
    for p in procs:
        p.send_signal(signal.SIGTERM)
    for p in procs:
        try:
            p.wait(timeout=120)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
    for i in range(shards):
        shutil.rmtree(os.path.join(work, f"{label}-{i}"), ignore_errors=True)
    return result


def main():
    ns = [int(a) for a in sys.argv[1:]]
    cpu = open("/proc/cpuinfo").read().split("model name")[1].split("\n")[0].strip(":\t ")
    print(f"== machine: {os.cpu_count()} cores, {cpu}, load {open('/proc/loadavg').read().split()[:3]}, "
          f"fd limit {subprocess.run(['bash', '-c', 'ulimit -n'], capture_output=True, text=True).stdout.strip()}")
    print(f"== window {WINDOW} s, mqtt {'on' if MQTT else 'off'}, shards {SHARDS}, data in {work}")
    broker, mport = (start_broker() if MQTT else (None, 0))
    results = []
    try:
        print("-- baseline: --chargers 1 (idle)", flush=True)
        results.append(measure("baseline", 1, 1, mport, broker))
        print(json.dumps(results[-1]), flush=True)
        for n in ns:
            print(f"-- {n} chargers", flush=True)
            results.append(measure(f"n{n}", n, SHARDS, mport, broker))
            print(json.dumps(results[-1]), flush=True)
    finally:
        for p in children:
            if p.poll() is None:
                p.terminate()
                try:
                    p.wait(timeout=60)
                except subprocess.TimeoutExpired:
                    p.kill()
        shutil.rmtree(work, ignore_errors=True)
    base = results[0]
    print()
    print(f"{'N':>7} {'procs':>5} {'start s':>8} {'RSS MiB':>8} {'KiB/chg':>8} {'xbase':>7} {'CPU %':>7} "
          f"{'xbase':>7} {'broker%':>8} {'sim/wall':>17} {'rbt/s min':>9} {'msgs/s':>8} {'http ok':>8} {'p50 ms':>7} {'real time':>9}")
    for r in results:
        print(f"{r['n']:>7} {r['shards']:>5} {r['startup_s']:>8} {r['rss_mib']:>8} {r['rss_kib_per_charger']:>8} "
              f"{r['rss_mib'] / base['rss_mib']:>7.1f} {r['cpu_pct']:>7} "
              f"{(r['cpu_pct'] / base['cpu_pct'] if base['cpu_pct'] else float('nan')):>7.1f} "
              f"{str(r['broker_cpu_pct']):>8} {','.join(map(str, r['sim_per_wall'])):>17} "
              f"{str(r['rbt_per_charger_per_s_min']):>9} {str(r['broker_msgs_per_s']):>8} "
              f"{r['http_ok']}/{r['http_ok'] + r['http_failed']:<4} {str(r['http_p50_ms']):>7} "
              f"{'yes' if r['holds_real_time'] else 'NO':>9}")


main()
PY
