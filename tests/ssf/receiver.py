#!/usr/bin/env python3
"""An independent OpenID Shared Signals receiver for riskgate's tests.

It shares no code with the transmitter: it reads the transmitter's metadata, fetches the JWKS at run
time and verifies every Security Event Token with PyJWT (RS256), checking the JOSE header's `typ`
(secevent+jwt) and `kid`, and the claims `iss` (the metadata's issuer), `aud`, `jti`, `iat`, exactly one
event, and no `sub` or `exp` (SSF 1.0 / RFC 8417).

Each accepted SET is printed as one line `SET {json}` (jti, txn, kid, event type, event body, sub_id);
each refused one as `REJECT {json}`. The test reads the lines.

  receiver.py push --metadata URL --audience AUD --listen 127.0.0.1:0   (RFC 8935: answers 202, or 400)
      [--throttle N]: answers the first N POSTs 429 with Retry-After: 1 (printed as `THROTTLED {json}`)
  receiver.py poll --metadata URL --audience AUD --url POLL_URL --token T (RFC 8936: long polls, acks)
"""

import argparse
import json
import sys
import time
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import jwt

SET_TYPE = "secevent+jwt"


def fetch_json(url, body=None, token=None, timeout=60):
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method="GET" if body is None else "POST")
    if body is not None:
        request.add_header("Content-Type", "application/json")
    if token:
        request.add_header("Authorization", "Bearer " + token)
    with urllib.request.urlopen(request, timeout=timeout) as response:
        return json.load(response)


def emit(kind, record):
    print(kind, json.dumps(record, sort_keys=True), flush=True)


class Verifier:
    def __init__(self, metadata_url, audience):
        metadata = fetch_json(metadata_url)
        self.issuer = metadata["issuer"]
        self.audience = audience
        # PyJWKClient fetches the JWKS at run time and again when it meets an unknown kid.
        self.keys = jwt.PyJWKClient(metadata["jwks_uri"], cache_keys=True)

    def verify(self, token):
        header = jwt.get_unverified_header(token)
        if header.get("typ") != SET_TYPE:
            raise ValueError("typ is %r, not %s" % (header.get("typ"), SET_TYPE))
        if not header.get("kid"):
            raise ValueError("no kid in the JOSE header")
        key = self.keys.get_signing_key_from_jwt(token)
        claims = jwt.decode(
            token,
            key.key,
            algorithms=["RS256"],
            audience=self.audience,
            issuer=self.issuer,
            options={"require": ["iss", "jti", "iat", "aud"], "verify_exp": False},
        )
        if "sub" in claims or "exp" in claims:
            raise ValueError("a SET carries no sub or exp")
        events = claims.get("events")
        if not isinstance(events, dict) or len(events) != 1:
            raise ValueError("exactly one event, not %r" % (events,))
        (event_type, body), = events.items()
        return {
            "jti": claims["jti"],
            "txn": claims.get("txn"),
            "kid": header["kid"],
            "event": event_type,
            "body": body,
            "sub_id": claims.get("sub_id"),
        }


def push(args, verifier):
    throttled = [0]

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            length = int(self.headers.get("Content-Length", "0"))
            token = self.rfile.read(length).decode()
            if throttled[0] < args.throttle:
                throttled[0] += 1
                emit("THROTTLED", {"at": time.time()})
                self.send_response(429)
                self.send_header("Retry-After", "1")
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            try:
                if self.headers.get("Content-Type") != "application/secevent+jwt":
                    raise ValueError("content type %r" % self.headers.get("Content-Type"))
                record = verifier.verify(token)
            except Exception as error:  # any failure is a refusal the test sees
                emit("REJECT", {"reason": str(error)})
                body = json.dumps({"err": "invalid_request", "description": str(error)}).encode()
                self.send_response(400)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
                return
            record["at"] = time.time()
            emit("SET", record)
            self.send_response(202)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *_):
            pass

    host, port = args.listen.rsplit(":", 1)
    server = ThreadingHTTPServer((host, int(port)), Handler)
    print("READY http=%s:%d" % server.server_address[:2], flush=True)
    server.serve_forever()


def poll(args, verifier):
    print("READY poll", flush=True)
    acks = []
    while True:
        request = {"maxEvents": args.max_events, "returnImmediately": False, "ack": acks}
        try:
            answer = fetch_json(args.url, request, args.token)
        except Exception as error:
            emit("POLLERR", {"reason": str(error)})
            time.sleep(0.2)
            continue
        acks = []
        for jti, token in answer.get("sets", {}).items():
            try:
                record = verifier.verify(token)
                if record["jti"] != jti:
                    raise ValueError("keyed %s but its jti is %s" % (jti, record["jti"]))
            except Exception as error:
                emit("REJECT", {"reason": str(error)})
                continue
            emit("SET", record)
            acks.append(jti)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("mode", choices=["push", "poll"])
    parser.add_argument("--metadata", required=True)
    parser.add_argument("--audience", required=True)
    parser.add_argument("--listen", default="127.0.0.1:0")
    parser.add_argument("--url")
    parser.add_argument("--token")
    parser.add_argument("--max-events", type=int, default=5)
    parser.add_argument("--throttle", type=int, default=0)
    args = parser.parse_args()
    verifier = Verifier(args.metadata, args.audience)
    if args.mode == "push":
        push(args, verifier)
    else:
        poll(args, verifier)


if __name__ == "__main__":
    sys.exit(main())
