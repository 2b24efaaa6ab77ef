#!/usr/bin/python3
"""Pushes a breaching value with pyzmq and times the alert on the feed (README protocol only).

Usage: alert_client.py INGEST FEED
Prints the latency in ms; exits 1 if no firing alert arrived within 5 s.
"""
import json, os, sys, time
import zmq

ingest, feed = sys.argv[1:3]
ctx = zmq.Context()
sub = ctx.socket(zmq.SUB)
sub.setsockopt(zmq.SUBSCRIBE, b"alert.attente_longue")
sub.setsockopt(zmq.SUBSCRIBE, b"hb")
sub.connect(feed)
deadline = time.time() + 5
while time.time() < deadline:            # a heartbeat: the subscription is live
    if sub.poll(500) and sub.recv_multipart()[0] == b"hb":
        break
dealer = ctx.socket(zmq.DEALER)
dealer.connect(ingest)
time.sleep(0.2)
start = time.perf_counter()
dealer.send_multipart([b"VGI1", b"PUSH", f"py-alert-{os.getpid()}".encode(), b"1",
                       b"guichet_attente,site=py value=50\n"])
while time.perf_counter() - start < 5:
    if sub.poll(100):
        topic, body = sub.recv_multipart()
        msg = json.loads(body)
        if topic == b"alert.attente_longue" and msg["state"] == "firing" and msg["group"] == {"site": "py"}:
            print(f"latency_ms={(time.perf_counter() - start) * 1000:.3f}")
            print(f"message={msg['message']}")
            sys.exit(0)
print("no firing alert within 5 s")
sys.exit(1)
