"""Redis stopped under load (issue 7): two stsd replicas on one real
`redis-server` (AOF, `appendfsync always`) serve AssumeRole, Authorize and
CreateUser from several threads; Redis is stopped by its PID and started
again on the same port and directory. Nothing acknowledged is lost, every
error while it is down is a clean `ServiceUnavailable` (HTTP 503),
Authorize of warm sessions goes on through the outage (the grace period),
and both replicas recover by themselves.
"""

from __future__ import annotations

import threading
import time
from collections import Counter

from botocore.exceptions import ClientError

from authz_client import Authorize, creds_of, request_parts, signed_service_request
from redis_server import RedisServer
from support import ACCOUNT, ROOT_KEY_ID, ROOT_SECRET, allow, uniq
from stsutil import assume, assumer, make_role, trust_doc
from test_redis_replicas import start_replicas

ALBUM = f"arn:aws:photos:us-east-1:{ACCOUNT}:album/summer"
OUTAGE_SECONDS = 3.0
RECOVERY_TIMEOUT = 30.0


class Outcomes:
    """What each call returned, with when (monotonic seconds)."""

    def __init__(self):
        self.lock = threading.Lock()
        self.events: list[tuple[float, str, str]] = []
        self.created: list[str] = []

    def add(self, kind: str, outcome: str) -> None:
        with self.lock:
            self.events.append((time.monotonic(), kind, outcome))

    def between(self, kind: str, start: float, end: float) -> Counter:
        with self.lock:
            return Counter(o for t, k, o in self.events if k == kind and start <= t <= end)


def error_code(e: ClientError) -> str:
    return f'{e.response["ResponseMetadata"]["HTTPStatusCode"]} {e.response["Error"]["Code"]}'


def test_redis_down_under_load_loses_nothing_and_replicas_recover():
    redis = RedisServer(appendonly=True).start()
    daemons = start_replicas(redis, n=2)
    try:
        iam = daemons[0].client("iam")
        me = assumer(iam, daemons[0])
        role = make_role(iam, allow("photos:*"), trust=trust_doc())
        warm = assume(me.client(), role, "warm")["Credentials"]
        session = creds_of(warm["AccessKeyId"], warm["SecretAccessKey"], warm["SessionToken"])
        askers = [Authorize(d.endpoint, creds_of(ROOT_KEY_ID, ROOT_SECRET)) for d in daemons]
        for ask in askers:
            assert ask(signed_service_request(session), "photos:GetAlbum", ALBUM)["Decision"] == "Allow"

        out = Outcomes()
        stop = threading.Event()

        def assume_loop(d):
            sts = d.client("sts", me.key_id, me.secret)
            while not stop.is_set():
                try:
                    assume(sts, role, "load")
                    out.add("assume", "ok")
                except ClientError as e:
                    out.add("assume", error_code(e))

        def authorize_loop(ask):
            while not stop.is_set():
                payload = {"Request": request_parts(signed_service_request(session)), "Action": "photos:GetAlbum", "Resource": ALBUM}
                status, _, answer = ask.raw(payload)
                out.add("authorize", answer.get("Decision", "?") if status == 200 else f"{status} {answer}")

        def create_loop(d):
            client = d.client("iam")
            while not stop.is_set():
                name = uniq("kept")
                try:
                    client.create_user(UserName=name)
                    with out.lock:
                        out.created.append(name)
                    out.add("create", "ok")
                except ClientError as e:
                    out.add("create", error_code(e))
                time.sleep(0.01)

        threads = [threading.Thread(target=assume_loop, args=(d,)) for d in daemons]
        threads += [threading.Thread(target=authorize_loop, args=(a,)) for a in askers]
        threads += [threading.Thread(target=create_loop, args=(d,)) for d in daemons]
        for t in threads:
            t.start()
        try:
            time.sleep(1.5)
            redis.stop()
            down = time.monotonic()
            time.sleep(OUTAGE_SECONDS)
            up = time.monotonic()
            redis.start()
            # Each replica serves AssumeRole again, without a restart.
            deadline = time.monotonic() + RECOVERY_TIMEOUT
            for d in daemons:
                sts = d.client("sts", me.key_id, me.secret)
                while True:
                    try:
                        assume(sts, role, "back")
                        break
                    except ClientError as e:
                        assert error_code(e) == "503 ServiceUnavailable", error_code(e)
                        assert time.monotonic() < deadline, "a replica did not recover"
                        time.sleep(0.1)
            recovered = time.monotonic()
            time.sleep(1.0)
        finally:
            stop.set()
            for t in threads:
                t.join(30)

        print(f"\nrecovered {recovered - up:.2f} s after Redis came back")
        for kind in ("assume", "authorize", "create"):
            print(kind, "before", dict(out.between(kind, 0, down)), "down", dict(out.between(kind, down + 0.2, up)),
                  "after", dict(out.between(kind, recovered, time.monotonic())))

        # Errors are clean: ServiceUnavailable only, and there were some.
        for kind in ("assume", "create"):
            everything = out.between(kind, 0, time.monotonic())
            assert set(everything) <= {"ok", "503 ServiceUnavailable"}, (kind, everything)
            assert out.between(kind, down + 0.2, up)["503 ServiceUnavailable"] > 0, kind
            assert out.between(kind, 0, down)["ok"] > 0, kind
            assert out.between(kind, recovered, time.monotonic())["ok"] > 0, kind
        # Authorize of a warm session goes on while Redis is down.
        during = out.between("authorize", down + 0.2, up)
        assert during["Allow"] > 0 and set(during) == {"Allow"}, during
        assert set(out.between("authorize", 0, time.monotonic())) <= {"Allow"}

        # Nothing acknowledged is lost: every user whose CreateUser
        # succeeded is there, seen through the other replica.
        listed = set()
        for page in daemons[1].client("iam").get_paginator("list_users").paginate():
            listed.update(u["UserName"] for u in page["Users"])
        missing = [n for n in out.created if n not in listed]
        assert not missing, f"{len(missing)} acknowledged users lost: {missing[:5]}"
        assert len(out.created) > 0
    finally:
        for d in daemons:
            d.close()
        redis.close()
