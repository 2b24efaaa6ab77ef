"""One CURVE connection to vigied's acknowledged ingest that outlives a reload.

    curve_session.py ENDPOINT SERVER_KEY_FILE CLIENT_SECRET_FILE METRIC GO_FILE

Pushes batch 1 ("METRIC value=1", or the rest of METRIC as the whole payload when it
starts with "raw:") and prints its reply as a JSON line, waits (up to 30 s) until GO_FILE
exists, pushes batch 2 on the same socket (no new handshake) and prints its reply,
then exits with os._exit (no libzmq teardown to wait for). A reply line is
{"command": "ACK"|"ERR", "body": {...}}; {"command": "timeout"} when none came in 5 s.
"""
import json
import os
import sys
import time

import zmq
import zmq.auth

endpoint, server_file, client_file, metric, go_file = sys.argv[1:6]
server_public, _ = zmq.auth.load_certificate(server_file)
client_public, client_secret = zmq.auth.load_certificate(client_file)
context = zmq.Context()
context.setsockopt(zmq.LINGER, 0)
socket = context.socket(zmq.DEALER)
socket.curve_serverkey = server_public
socket.curve_publickey = client_public
socket.curve_secretkey = client_secret
socket.setsockopt(zmq.SNDTIMEO, 3000)
socket.connect(endpoint)


payload = metric[4:] if metric.startswith("raw:") else "%s value=1\n" % metric


def push(sequence):
    socket.send_multipart([b"VGI1", b"PUSH", b"session", str(sequence).encode(), payload.encode()])
    if socket.poll(5000):
        frames = socket.recv_multipart()
        print(json.dumps({"command": frames[1].decode(), "body": json.loads(frames[-1])}), flush=True)
    else:
        print(json.dumps({"command": "timeout"}), flush=True)


push(1)
deadline = time.time() + 30
while not os.path.exists(go_file) and time.time() < deadline:
    time.sleep(0.05)
push(2)
os._exit(0)
