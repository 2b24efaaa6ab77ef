#!/usr/bin/python3
"""An outside client of vigied that knows only pyzmq and the README's protocol section.

Usage: protocol_client.py INGEST FEED CONTROL
Pushes a batch of random samples, checks the ACK counts, resends it (duplicate),
waits for the KPI on the feed, then compares the snapshot with values computed here.
Prints one line per check; exits 1 if any failed.
"""
import json, math, os, random, sys, time
import zmq

ingest, feed, control = sys.argv[1:4]
ctx = zmq.Context()
failures = []

def check(name, ok, detail=""):
    print(("ok   " if ok else "FAIL ") + name + (": " + detail if detail else ""))
    if not ok:
        failures.append(name)

sub = ctx.socket(zmq.SUB)
sub.setsockopt(zmq.SUBSCRIBE, b"kpi.t.mean")
sub.setsockopt(zmq.SUBSCRIBE, b"hb")
sub.connect(feed)
# Wait for a heartbeat: the subscription is then known to be live.
hb = None
deadline = time.time() + 5
while time.time() < deadline and hb is None:
    if sub.poll(500):
        topic, body = sub.recv_multipart()
        if topic == b"hb":
            hb = json.loads(body)
check("heartbeat on the feed", hb is not None and "seq" in hb and "epoch" in hb, str(hb))

rng = random.Random(42)
values = [round(rng.lognormvariate(2.5, 0.6), 2) for _ in range(2000)]
answered = [1 if rng.random() < 0.8 else 0 for _ in range(500)]
lines = [f"wait,site=centre value={v}" for v in values]
lines += [f"calls,service=accueil recu=1i,decroche={a}i" for a in answered]
lines.insert(10, "wait,site=centre value=")           # rejected: line 11
batch = ("\n".join(lines) + "\n").encode()

dealer = ctx.socket(zmq.DEALER)
dealer.connect(ingest)
producer = f"py-{os.getpid()}".encode()

def push(seq):
    dealer.send_multipart([b"VGI1", b"PUSH", producer, str(seq).encode(), batch])
    if not dealer.poll(10000):
        return None
    return dealer.recv_multipart()

reply = push(1)
check("ACK received", reply is not None)
magic, kind, pid, seq, body = reply
ack = json.loads(body)
check("ACK frames", (magic, kind, pid, seq) == (b"VGI1", b"ACK", producer, b"1"), repr(reply[:4]))
check("accepted count", ack["accepted"] == len(values) + len(answered), str(ack["accepted"]))
check("rejected count", ack["rejected"] == 1, str(ack["rejected"]))
check("error names line 11", [e["line"] for e in ack["errors"]] == [11], str(ack["errors"]))
check("not a duplicate", ack["duplicate"] is False)

again = json.loads(push(1)[4])
check("resend reported as duplicate", again["duplicate"] is True and again["accepted"] == 0, str(again))

update = None
deadline = time.time() + 5
while time.time() < deadline:
    if sub.poll(500):
        topic, body = sub.recv_multipart()
        msg = json.loads(body)
        if topic == b"kpi.t.mean" and msg["samples"] == len(values):
            update = msg
            break
check("KPI on the feed", update is not None)
exact_mean = sum(values) / len(values)
if update:
    check("feed value is the mean", abs(update["value"] - exact_mean) < 1e-9 * exact_mean, f'{update["value"]} vs {exact_mean}')
    check("feed seq after heartbeat", update["seq"] > hb["seq"] and update["epoch"] == hb["epoch"])

req = ctx.socket(zmq.REQ)
req.connect(control)
req.send(json.dumps({"op": "snapshot"}).encode())
snap = json.loads(req.recv()) if req.poll(5000) else {}
kpis = {k["kpi"]: k for k in snap.get("kpis", [])}

s = sorted(values)
def quantile(q):
    return s[max(0, math.ceil(q * len(s)) - 1)]

expect = {
    "t.mean": exact_mean,
    "t.count": len(values),
    "t.share": sum(1 for v in values if v < 15) / len(values),
    "t.ratio": sum(answered) / len(answered),
    "t.rate": len(values) / 3600 * 60,   # per minute over a 1h window
}
for name, exact in expect.items():
    got = kpis.get(name, {}).get("value")
    check(f"{name} exact", got is not None and abs(got - exact) <= 1e-9 * max(1, abs(exact)), f"{got} vs {exact}")
for name, q in [("t.p90", 0.9), ("t.p50", 0.5), ("t.p99", 0.99)]:
    got = kpis.get(name, {}).get("value")
    exact = quantile(q)
    check(f"{name} within 1%", got is not None and abs(got - exact) <= 0.01 * exact, f"{got} vs {exact}")

req.send(json.dumps({"op": "stats"}).encode())
stats = json.loads(req.recv()) if req.poll(5000) else {}
check("stats counters", stats.get("batches_duplicate") == 1 and stats.get("samples_rejected") == 1, str(stats))

print(f"{len(failures)} failed")
sys.exit(1 if failures else 0)
