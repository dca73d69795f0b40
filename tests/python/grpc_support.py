"""What the grpcio tests share: stubs generated from proto/ (grpcio-tools,
no protoc binary) and SigV4 metadata for a call, signed by botocore's
SigV4Auth over the gRPC-framed body (flag byte 0, 4-byte big-endian length,
the protobuf bytes), credential scope service `stsd` — the canonical form
README "gRPC" documents.
"""

from __future__ import annotations

import hashlib
import importlib
import struct
import sys
from pathlib import Path

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest

from support import REGION

ROOT = Path(__file__).resolve().parents[2]


def generate(out: Path, *modules: str) -> tuple:
    """Compiles every proto/ file into `out` and imports `stsd.v1.<m>`
    for each of `modules`."""
    from grpc_tools import protoc
    import grpc_tools

    well_known = Path(grpc_tools.__file__).parent / "_proto"
    protos = sorted(str(p.relative_to(ROOT / "proto")) for p in (ROOT / "proto").rglob("*.proto"))
    rc = protoc.main(
        ["protoc", f"-I{ROOT / 'proto'}", f"-I{well_known}", f"--python_out={out}", f"--grpc_python_out={out}", *protos]
    )
    assert rc == 0, "protoc failed"
    sys.path.insert(0, str(out))
    try:
        return tuple(importlib.import_module(f"stsd.v1.{m}") for m in modules)
    finally:
        sys.path.remove(str(out))


def framed(message) -> bytes:
    """The HTTP/2 request body of a unary call carrying `message`."""
    raw = message.SerializeToString()
    return struct.pack(">BI", 0, len(raw)) + raw


def signed_metadata(creds, authority: str, path: str, body: bytes) -> list[tuple[str, str]]:
    """The gRPC metadata of a call to `path` with request body `body`,
    signed with `creds`."""
    req = AWSRequest(
        method="POST",
        url=f"http://{authority}{path}",
        data=body,
        headers={"x-amz-content-sha256": hashlib.sha256(body).hexdigest()},
    )
    SigV4Auth(creds, "stsd", REGION).add_auth(req)
    return [(k.lower(), v) for k, v in req.headers.items() if k.lower() != "host"]
