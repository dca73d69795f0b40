"""SAML and OIDC providers: Create/Get/Update/Delete/List SAMLProvider(s);
Create/Get/Delete/List OpenIDConnectProvider(s),
UpdateOpenIDConnectProviderThumbprint, Add/RemoveClientID."""

import datetime

import pytest

from support import ACCOUNT, expect_error, saml_metadata, uniq

THUMB_A = "9e99a48a9960b14926bb7f3b02e22da2b0ab7280"
THUMB_B = "a" * 40


def test_oidc_lifecycle(iam):
    host = f"{uniq('issuer')}.example.com"
    url = f"https://{host}/realm"
    arn = iam.create_open_id_connect_provider(
        Url=url, ClientIDList=["sts.amazonaws.com"], ThumbprintList=[THUMB_A], Tags=[{"Key": "k", "Value": "v"}]
    )["OpenIDConnectProviderArn"]
    assert arn == f"arn:aws:iam::{ACCOUNT}:oidc-provider/{host}/realm"

    g = iam.get_open_id_connect_provider(OpenIDConnectProviderArn=arn)
    assert g["Url"] == f"{host}/realm"
    assert g["ClientIDList"] == ["sts.amazonaws.com"]
    assert g["ThumbprintList"] == [THUMB_A]
    assert isinstance(g["CreateDate"], datetime.datetime)
    assert g["Tags"] == [{"Key": "k", "Value": "v"}]

    iam.update_open_id_connect_provider_thumbprint(OpenIDConnectProviderArn=arn, ThumbprintList=[THUMB_B, THUMB_A])
    assert iam.get_open_id_connect_provider(OpenIDConnectProviderArn=arn)["ThumbprintList"] == [THUMB_B, THUMB_A]

    iam.add_client_id_to_open_id_connect_provider(OpenIDConnectProviderArn=arn, ClientID="my-app")
    iam.add_client_id_to_open_id_connect_provider(OpenIDConnectProviderArn=arn, ClientID="my-app")  # idempotent
    assert sorted(iam.get_open_id_connect_provider(OpenIDConnectProviderArn=arn)["ClientIDList"]) == ["my-app", "sts.amazonaws.com"]
    iam.remove_client_id_from_open_id_connect_provider(OpenIDConnectProviderArn=arn, ClientID="sts.amazonaws.com")
    assert iam.get_open_id_connect_provider(OpenIDConnectProviderArn=arn)["ClientIDList"] == ["my-app"]

    assert arn in [p["Arn"] for p in iam.list_open_id_connect_providers()["OpenIDConnectProviderList"]]

    expect_error(
        "EntityAlreadyExists",
        iam.create_open_id_connect_provider,
        Url=url,
        ClientIDList=["x"],
        ThumbprintList=[THUMB_A],
        status=409,
    )

    iam.delete_open_id_connect_provider(OpenIDConnectProviderArn=arn)
    assert arn not in [p["Arn"] for p in iam.list_open_id_connect_providers()["OpenIDConnectProviderList"]]
    expect_error("NoSuchEntity", iam.get_open_id_connect_provider, OpenIDConnectProviderArn=arn, names=[arn], status=404)


def test_oidc_errors(iam):
    ghost = f"arn:aws:iam::{ACCOUNT}:oidc-provider/{uniq('nobody')}.example.com"
    expect_error("NoSuchEntity", iam.get_open_id_connect_provider, OpenIDConnectProviderArn=ghost, names=[ghost])
    expect_error("NoSuchEntity", iam.delete_open_id_connect_provider, OpenIDConnectProviderArn=ghost, names=[ghost])
    expect_error(
        "NoSuchEntity",
        iam.update_open_id_connect_provider_thumbprint,
        OpenIDConnectProviderArn=ghost,
        ThumbprintList=[THUMB_A],
        names=[ghost],
    )
    expect_error("ValidationError", iam.get_open_id_connect_provider, OpenIDConnectProviderArn="arn:bad", names=["arn:bad", "openIDConnectProviderArn"])
    # Thumbprints are 40 hex characters.
    expect_error(
        ("ValidationError", "InvalidInput"),
        iam.create_open_id_connect_provider,
        Url=f"https://{uniq('t')}.example.com",
        ClientIDList=["a"],
        ThumbprintList=["z" * 40],
        names=["thumbprint"],
    )
    # The URL must be https.
    expect_error(
        ("ValidationError", "InvalidInput"),
        iam.create_open_id_connect_provider,
        Url=f"http://{uniq('t')}.example.com",
        ClientIDList=["a"],
        ThumbprintList=[THUMB_A],
        names=["url"],
    )
    # At most 5 thumbprints.
    expect_error(
        "LimitExceeded",
        iam.create_open_id_connect_provider,
        Url=f"https://{uniq('t')}.example.com",
        ClientIDList=["a"],
        ThumbprintList=[f"{i:040x}" for i in range(6)],
    )


def test_saml_lifecycle(iam):
    name = uniq("corp")
    doc = saml_metadata()
    arn = iam.create_saml_provider(SAMLMetadataDocument=doc, Name=name, Tags=[{"Key": "idp", "Value": "corp"}])["SAMLProviderArn"]
    assert arn == f"arn:aws:iam::{ACCOUNT}:saml-provider/{name}"

    g = iam.get_saml_provider(SAMLProviderArn=arn)
    assert "urn:oasis:names:tc:SAML:2.0:metadata" in g["SAMLMetadataDocument"]
    assert "https://idp.example.org/saml" in g["SAMLMetadataDocument"]
    assert isinstance(g["CreateDate"], datetime.datetime)
    assert isinstance(g["ValidUntil"], datetime.datetime)
    assert g["Tags"] == [{"Key": "idp", "Value": "corp"}]

    new_doc = saml_metadata("https://idp.example.org/saml2")
    assert iam.update_saml_provider(SAMLMetadataDocument=new_doc, SAMLProviderArn=arn)["SAMLProviderArn"] == arn
    assert "https://idp.example.org/saml2" in iam.get_saml_provider(SAMLProviderArn=arn)["SAMLMetadataDocument"]

    listed = {p["Arn"]: p for p in iam.list_saml_providers()["SAMLProviderList"]}
    assert arn in listed
    assert isinstance(listed[arn]["CreateDate"], datetime.datetime)

    expect_error("EntityAlreadyExists", iam.create_saml_provider, SAMLMetadataDocument=doc, Name=name, names=[name], status=409)

    iam.delete_saml_provider(SAMLProviderArn=arn)
    assert arn not in [p["Arn"] for p in iam.list_saml_providers()["SAMLProviderList"]]
    expect_error("NoSuchEntity", iam.get_saml_provider, SAMLProviderArn=arn, names=[arn], status=404)


def test_saml_errors(iam):
    ghost = f"arn:aws:iam::{ACCOUNT}:saml-provider/{uniq('nobody')}"
    expect_error("NoSuchEntity", iam.get_saml_provider, SAMLProviderArn=ghost, names=[ghost])
    expect_error("NoSuchEntity", iam.delete_saml_provider, SAMLProviderArn=ghost, names=[ghost])
    expect_error("NoSuchEntity", iam.update_saml_provider, SAMLProviderArn=ghost, SAMLMetadataDocument=saml_metadata(), names=[ghost])
    expect_error(
        "InvalidInput",
        iam.create_saml_provider,
        SAMLMetadataDocument="x" * 1000,
        Name=uniq("junk"),
        names=["metadata"],
        status=400,
    )
    expect_error("ValidationError", iam.create_saml_provider, SAMLMetadataDocument=saml_metadata(), Name="bad name!", names=["name"])
