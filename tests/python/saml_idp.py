"""A real SAML identity provider for the tests: pysaml2 (with Debian's
`xmlsec1`) signs and encrypts the responses; keys and certificates are made
here with `cryptography`. No stsd code is involved in producing a response.

Also a command line, used by the Rust tests (tests/it/saml.rs) and to
regenerate tests/fixtures/saml:

    python saml_idp.py response --dir DIR --role-arn ARN --provider-arn ARN \
        [--mode response|assertion|both|encrypted] [--session-name N] [--subject S]
    python saml_idp.py fixtures DIR

`response` keeps the IdP's keys in DIR (made on first use) and prints the
base64 SAMLAssertion; `DIR/idp-metadata.xml` is the metadata to give IAM.
"""

from __future__ import annotations

import argparse
import base64
import datetime
import functools
import json
import os
import sys
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

import saml2.entity
from saml2 import BINDING_HTTP_POST, BINDING_HTTP_REDIRECT, xmldsig
from saml2.config import IdPConfig
from saml2.saml import NAME_FORMAT_URI, NAMEID_FORMAT_PERSISTENT, NameID
from saml2.server import Server
from saml2.sigver import pre_encryption_part

ENTITY_ID = "https://idp.example.org/saml"
AWS_SP = "urn:amazon:webservices"
OTHER_SP = "urn:example:other-sp"
RECIPIENT = "https://signin.aws.amazon.com/saml"
SSO_URL = "https://idp.example.org/sso"
ATTR = "https://aws.amazon.com/SAML/Attributes/"
AES256_CBC = "http://www.w3.org/2001/04/xmlenc#aes256-cbc"
AES128_GCM = "http://www.w3.org/2009/xmlenc11#aes128-gcm"
XMLSEC1 = "/usr/bin/xmlsec1"
# xmlsec1 --session-key for each content encryption.
SESSION_KEYS = {AES256_CBC: "aes-256", AES128_GCM: "aes-128"}


def make_keypair(directory: Path, name: str, days: int = 365) -> tuple[Path, Path]:
    """An RSA-2048 key and a self-signed certificate, as PEM files."""
    key_path, cert_path = directory / f"{name}.key", directory / f"{name}.crt"
    if key_path.exists() and cert_path.exists():
        return key_path, cert_path
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=days))
        .sign(key, hashes.SHA256())
    )
    key_path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    os.chmod(key_path, 0o600)
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return key_path, cert_path


def cert_body(cert_path: Path) -> str:
    return "".join(line for line in cert_path.read_text().splitlines() if "-----" not in line)


def idp_metadata(certs: list[Path], entity_id: str = ENTITY_ID, sso_url: str = SSO_URL) -> str:
    """IdP metadata with one signing KeyDescriptor per certificate (IAM
    wants at least 1,000 characters; one certificate is enough) and its
    single sign-on URL for both bindings."""
    keys = "".join(
        f"""
    <md:KeyDescriptor use="signing">
      <ds:KeyInfo xmlns:ds="http://www.w3.org/2000/09/xmldsig#">
        <ds:X509Data><ds:X509Certificate>{cert_body(c)}</ds:X509Certificate></ds:X509Data>
      </ds:KeyInfo>
    </md:KeyDescriptor>"""
        for c in certs
    )
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" entityID="{entity_id}">
  <md:IDPSSODescriptor WantAuthnRequestsSigned="false" protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">{keys}
    <md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="{sso_url}"/>
    <md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" Location="{sso_url}"/>
  </md:IDPSSODescriptor>
</md:EntityDescriptor>
"""


def sp_metadata(sp_cert: Path, entity_id: str = AWS_SP, acs: tuple[str, ...] = (RECIPIENT,)) -> str:
    """The SP as pysaml2 must know it to encrypt for it (and to accept its
    AuthnRequests for the assertion consumer services `acs`)."""
    services = "".join(
        f'\n  <md:AssertionConsumerService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" Location="{url}" index="{i}"/>'
        for i, url in enumerate(acs)
    )
    return f"""<?xml version="1.0"?>
<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" entityID="{entity_id}">
 <md:SPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">
  <md:KeyDescriptor use="encryption"><ds:KeyInfo xmlns:ds="http://www.w3.org/2000/09/xmldsig#"><ds:X509Data><ds:X509Certificate>{cert_body(sp_cert)}</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>
{services}
 </md:SPSSODescriptor>
</md:EntityDescriptor>"""


class IdP:
    """A pysaml2 IdP whose keys live in `directory` (`idp.key`/`idp.crt`;
    the SP's encryption pair `sp.key`/`sp.crt` beside them). `sps`: the
    service providers it knows as (entity ID, ACS URLs); by default the AWS
    sign-in SP and a stranger. `sso_url`: where it takes AuthnRequests."""

    def __init__(
        self,
        directory: Path,
        name: str = "idp",
        entity_id: str = ENTITY_ID,
        lifetime_minutes: int = 15,
        sps: list[tuple[str, tuple[str, ...]]] | None = None,
        sso_url: str = SSO_URL,
    ):
        self.dir = Path(directory)
        self.dir.mkdir(parents=True, exist_ok=True)
        self.entity_id = entity_id
        self.key, self.cert = make_keypair(self.dir, name)
        self.sp_key, self.sp_cert = make_keypair(self.dir, "sp")
        self.sso_url = sso_url
        known = sps if sps is not None else [(AWS_SP, (RECIPIENT,)), (OTHER_SP, (RECIPIENT,))]
        conf = {
            "entityid": entity_id,
            "key_file": str(self.key),
            "cert_file": str(self.cert),
            "xmlsec_binary": XMLSEC1,
            "allow_unknown_attributes": True,
            # The broker, and a stranger SP (for responses meant for someone else).
            "metadata": {"inline": [sp_metadata(self.sp_cert, sp, acs) for sp, acs in known]},
            "service": {
                "idp": {
                    "endpoints": {
                        "single_sign_on_service": [(sso_url, BINDING_HTTP_REDIRECT), (sso_url, BINDING_HTTP_POST)]
                    },
                    "policy": {"default": {"lifetime": {"minutes": lifetime_minutes}, "name_form": NAME_FORMAT_URI}},
                    "name_id_format": [NAMEID_FORMAT_PERSISTENT],
                }
            },
        }
        cfg = IdPConfig()
        cfg.load(conf)
        self.server = Server(config=cfg)

    def metadata(self, extra_certs: tuple[Path, ...] = ()) -> str:
        return idp_metadata([*extra_certs, self.cert], self.entity_id, self.sso_url)

    def response(
        self,
        role_arn: str,
        provider_arn: str,
        session_name: str | None = "alice",
        subject: str = "alice@example.org",
        mode: str = "response",
        attributes: dict | None = None,
        audience: str = AWS_SP,
        recipient: str = RECIPIENT,
        encryption: str = AES256_CBC,
        role_value: str | None = None,
        in_response_to: str | None = None,
        roles: list[str] | None = None,
        encrypt_cert: Path | None = None,
    ) -> str:
        """A samlp:Response as XML text. mode: `response` (the response
        signed), `assertion` (the assertion signed), `both`, `encrypted`
        (the signed assertion encrypted for the SP: `encrypt_cert`, by
        default sp.crt), `unsigned`. `roles`: every "role,provider" value
        of the Role attribute (instead of role_arn and provider_arn)."""
        identity = {ATTR + "Role": roles or [role_value or f"{role_arn},{provider_arn}"]}
        if session_name is not None:
            identity[ATTR + "RoleSessionName"] = [session_name]
        identity.update(attributes or {})
        kw = dict(
            sign_response=mode in ("response", "both"),
            sign_assertion=mode in ("assertion", "both", "encrypted"),
        )
        original = saml2.entity.pre_encryption_part
        sec = self.server.sec
        if mode == "encrypted":
            kw.update(encrypt_assertion=True, encrypt_cert_assertion=Path(encrypt_cert or self.sp_cert).read_text())
            # pysaml2 defaults to 3DES (template and xmlsec1 session key),
            # which stsd refuses; pick AES in both.
            saml2.entity.pre_encryption_part = functools.partial(pre_encryption_part, msg_enc=encryption)
            session_key = SESSION_KEYS[encryption]
            sec.encrypt_assertion = lambda stmt, key, tpl, key_type=None, node_xpath=None: type(sec).encrypt_assertion(
                sec, stmt, key, tpl, key_type=session_key, node_xpath=node_xpath
            )
        try:
            resp = self.server.create_authn_response(
                identity=identity,
                in_response_to=in_response_to,
                destination=recipient,
                sp_entity_id=audience,
                name_id=NameID(format=NAMEID_FORMAT_PERSISTENT, text=subject),
                sign_alg=xmldsig.SIG_RSA_SHA256,
                digest_alg=xmldsig.DIGEST_SHA256,
                authn={"class_ref": "urn:oasis:names:tc:SAML:2.0:ac:classes:Password"},
                **kw,
            )
        finally:
            saml2.entity.pre_encryption_part = original
            sec.__dict__.pop("encrypt_assertion", None)
        return str(resp)


FIXTURE_ROLE = "arn:aws:iam::123456789012:role/saml-role"
FIXTURE_PROVIDER = "arn:aws:iam::123456789012:saml-provider/idp"


def write_fixtures(directory: Path) -> None:
    """tests/fixtures/saml: responses of every shape, signed now by a fresh
    IdP key; `issued.txt` records when (the Rust tests fix their clock to
    it). The keys are test keys made for these files only."""
    directory.mkdir(parents=True, exist_ok=True)
    for stale in directory.glob("*.key"):
        stale.unlink()
    for stale in directory.glob("*.crt"):
        stale.unlink()
    idp = IdP(directory)
    (directory / "metadata.xml").write_text(idp.metadata())
    attributes = {
        ATTR + "PrincipalTag:team": ["blue"],
        ATTR + "TransitiveTagKeys": ["team"],
        ATTR + "SourceIdentity": ["alice"],
        ATTR + "SessionDuration": ["1800"],
        "urn:oid:0.9.2342.19200300.100.1.3": ["alice@example.org"],
    }
    issued = int(datetime.datetime.now(datetime.timezone.utc).timestamp())
    for mode in ("response", "assertion", "both", "encrypted"):
        xml = idp.response(FIXTURE_ROLE, FIXTURE_PROVIDER, mode=mode, attributes=attributes)
        (directory / f"{mode}.xml").write_text(xml)
    gcm = idp.response(FIXTURE_ROLE, FIXTURE_PROVIDER, mode="encrypted", encryption=AES128_GCM)
    (directory / "encrypted-gcm.xml").write_text(gcm)
    (directory / "unsigned.xml").write_text(idp.response(FIXTURE_ROLE, FIXTURE_PROVIDER, mode="unsigned"))
    other = IdP(directory / "other", name="other")
    (directory / "other-key.xml").write_text(other.response(FIXTURE_ROLE, FIXTURE_PROVIDER, mode="assertion"))
    for p in (directory / "other").iterdir():
        p.unlink()
    (directory / "other").rmdir()
    (directory / "idp.key").unlink()
    (directory / "sp.crt").unlink()
    (directory / "issued.txt").write_text(f"{issued}\n")


def b64(xml: str) -> str:
    return base64.b64encode(xml.encode()).decode()


def main(argv: list[str]) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("response")
    r.add_argument("--dir", required=True, type=Path)
    r.add_argument("--role-arn", required=True)
    r.add_argument("--provider-arn", required=True)
    r.add_argument("--mode", default="response")
    r.add_argument("--session-name", default="alice")
    r.add_argument("--subject", default="alice@example.org")
    r.add_argument("--count", type=int, default=1, help="responses to print, one per line")
    f = sub.add_parser("fixtures")
    f.add_argument("dir", type=Path)
    a = p.parse_args(argv)
    if a.cmd == "fixtures":
        write_fixtures(a.dir)
    if a.cmd == "response":
        idp = IdP(a.dir)
        (a.dir / "idp-metadata.xml").write_text(idp.metadata())
        for _ in range(a.count):
            xml = idp.response(a.role_arn, a.provider_arn, a.session_name, a.subject, a.mode)
            print(b64(xml))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
