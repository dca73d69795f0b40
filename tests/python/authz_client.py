"""A client of stsd's Authorize over HTTP JSON (`POST /v1/authorize`), and
the botocore-signed requests it is asked about.

Everything SigV4 here is botocore's: `SigV4Auth` signs the "service" request
(the one a service received and asks about) and the asker's own call to
`/v1/authorize` (credential scope service `stsd`), `SigV4QueryAuth` makes
presigned URLs. Nothing here computes a signature itself.
"""

from __future__ import annotations

import hashlib
import json
import urllib.error
import urllib.request
from urllib.parse import urlsplit

from botocore.auth import SigV4Auth, SigV4QueryAuth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from support import REGION


def creds_of(key_id: str, secret: str, token: str | None = None) -> Credentials:
    return Credentials(key_id, secret, token)


def signed_service_request(
    creds: Credentials,
    method: str = "GET",
    url: str = "https://photos.example.com/albums/summer?max=10",
    body: bytes = b"",
    service: str = "photos",
    region: str = REGION,
    headers: dict | None = None,
) -> AWSRequest:
    """A request to some service, signed by botocore for `service`."""
    req = AWSRequest(method=method, url=url, data=body, headers=dict(headers or {}))
    SigV4Auth(creds, service, region).add_auth(req)
    return req


def presigned_service_request(
    creds: Credentials,
    url: str = "https://photos.example.com/albums/summer",
    service: str = "photos",
    region: str = REGION,
    expires: int = 300,
) -> AWSRequest:
    """A GET presigned by botocore (the signature in the query)."""
    req = AWSRequest(method="GET", url=url)
    SigV4QueryAuth(creds, service, region, expires=expires).add_auth(req)
    return req


def request_parts(req: AWSRequest, body: bytes | None = None) -> dict:
    """The `Request` member of an Authorize body: the request as the
    receiving service saw it (signed headers, query as sent, body hash)."""
    prepared = req.prepare()
    parts = urlsplit(prepared.url)
    data = body if body is not None else (req.body or b"")
    if isinstance(data, str):
        data = data.encode()
    headers = [{"Name": k, "Value": v} for k, v in prepared.headers.items()]
    if not any(h["Name"].lower() == "host" for h in headers):
        headers.append({"Name": "host", "Value": parts.netloc})
    return {
        "Method": prepared.method,
        "Scheme": parts.scheme,
        "Host": parts.netloc,
        "Path": parts.path or "/",
        "Query": parts.query,
        "Headers": headers,
        "PayloadSha256": hashlib.sha256(data).hexdigest(),
    }


class Authorize:
    """`POST /v1/authorize` on a daemon, signed by botocore as `asker`."""

    def __init__(self, endpoint: str, asker: Credentials):
        self.endpoint = endpoint
        self.asker = asker

    def raw(self, body: dict | bytes, sign: bool = True) -> tuple[int, dict, dict]:
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        req = AWSRequest(
            method="POST",
            url=f"{self.endpoint}/v1/authorize",
            data=data,
            headers={"Content-Type": "application/json"},
        )
        if sign:
            SigV4Auth(self.asker, "stsd", REGION).add_auth(req)
        prepared = req.prepare()
        r = urllib.request.Request(prepared.url, data=data, method="POST", headers=dict(prepared.headers))
        try:
            with urllib.request.urlopen(r, timeout=10) as resp:
                return resp.status, dict(resp.headers), json.loads(resp.read())
        except urllib.error.HTTPError as e:
            return e.code, dict(e.headers), json.loads(e.read() or b"{}")

    def __call__(self, request: AWSRequest, action: str, resource: str, body: bytes | None = None, **extra) -> dict:
        """The answer for `request`; fails the test on an HTTP error."""
        payload = {"Request": request_parts(request, body), "Action": action, "Resource": resource}
        payload.update(extra)
        status, _, answer = self.raw(payload)
        assert status == 200, answer
        return answer
