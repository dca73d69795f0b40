use super::oidc::{
    CreateOidcProvider, add_client_id, create_oidc_provider, delete_oidc_provider,
    get_oidc_provider, list_oidc_providers, remove_client_id, update_thumbprints,
};
use super::*;
use crate::service::iam::testing::{iam, root};

fn metadata(entity: &str) -> String {
    let pad = "a".repeat(1000);
    format!(
        r#"<?xml version="1.0"?><md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" entityID="{entity}" validUntil="2030-01-01T00:00:00Z"><md:Extensions>{pad}</md:Extensions></md:EntityDescriptor>"#
    )
}

#[tokio::test]
async fn saml_lifecycle_and_validation() {
    let (iam, _) = iam().await;
    let root = root(&iam).await;
    let p = create_saml_provider(
        &iam,
        &root,
        "Corp".parse().unwrap(),
        metadata("https://idp/a"),
        vec![],
    )
    .await
    .unwrap();
    assert_eq!(
        p.arn.as_str(),
        "arn:aws:iam::123456789012:saml-provider/Corp"
    );
    assert_eq!(
        p.valid_until,
        Some(Timestamp::from_unix_secs(1_893_456_000))
    );
    let err = create_saml_provider(&iam, &root, "corp".parse().unwrap(), metadata("x"), vec![])
        .await
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::EntityAlreadyExists);
    for (bad, code) in [
        ("x".repeat(1000), ErrorCode::InvalidInput),
        ("<a/>".into(), ErrorCode::ValidationError),
    ] {
        let err = create_saml_provider(&iam, &root, "Other".parse().unwrap(), bad, vec![])
            .await
            .unwrap_err();
        assert_eq!(err.code(), code);
    }
    update_saml_provider(&iam, &root, &p.arn, metadata("https://idp/b"))
        .await
        .unwrap();
    let got = get_saml_provider(&iam, &root, &p.arn).await.unwrap();
    assert!(got.metadata_document.contains("https://idp/b"));
    assert_eq!(list_saml_providers(&iam, &root).await.unwrap().len(), 1);
    delete_saml_provider(&iam, &root, &p.arn).await.unwrap();
    let err = get_saml_provider(&iam, &root, &p.arn).await.unwrap_err();
    assert_eq!(err.code(), ErrorCode::NoSuchEntity);
    assert_eq!(
        err.message(),
        format!("Manifest not found for arn {}", p.arn)
    );
}

#[tokio::test]
async fn oidc_lifecycle_and_validation() {
    let (iam, _) = iam().await;
    let root = root(&iam).await;
    let input = |url: &str, thumbs: Vec<String>| CreateOidcProvider {
        url: url.parse().unwrap(),
        client_ids: vec!["sts.amazonaws.com".into()],
        thumbprints: thumbs,
        tags: vec![],
    };
    let a = "9e99a48a9960b14926bb7f3b02e22da2b0ab7280".to_owned();
    let p = create_oidc_provider(
        &iam,
        &root,
        input("https://idp.example.com/realm", vec![a.clone()]),
    )
    .await
    .unwrap();
    assert_eq!(
        p.arn.as_str(),
        "arn:aws:iam::123456789012:oidc-provider/idp.example.com/realm"
    );
    let err = create_oidc_provider(&iam, &root, input("https://idp.example.com/realm", vec![]))
        .await
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::EntityAlreadyExists);
    let six = (0..6).map(|i| format!("{i:040x}")).collect();
    let err = create_oidc_provider(&iam, &root, input("https://o.example.com", six))
        .await
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::LimitExceeded);
    let err = create_oidc_provider(
        &iam,
        &root,
        input("https://o.example.com", vec!["z".repeat(40)]),
    )
    .await
    .unwrap_err();
    assert_eq!(err.code(), ErrorCode::ValidationError);
    assert!(err.message().contains("thumbprint"));

    update_thumbprints(&iam, &root, &p.arn, vec!["a".repeat(40), a.clone()])
        .await
        .unwrap();
    add_client_id(&iam, &root, &p.arn, "app".into())
        .await
        .unwrap();
    add_client_id(&iam, &root, &p.arn, "app".into())
        .await
        .unwrap();
    remove_client_id(&iam, &root, &p.arn, "sts.amazonaws.com".into())
        .await
        .unwrap();
    let got = get_oidc_provider(&iam, &root, &p.arn).await.unwrap();
    assert_eq!(got.client_ids, ["app"]);
    assert_eq!(got.thumbprints, ["a".repeat(40), a]);
    assert_eq!(list_oidc_providers(&iam, &root).await.unwrap().len(), 1);
    delete_oidc_provider(&iam, &root, &p.arn).await.unwrap();
    let err = get_oidc_provider(&iam, &root, &p.arn).await.unwrap_err();
    assert_eq!(err.code(), ErrorCode::NoSuchEntity);
    assert!(err.message().contains(p.arn.as_str()));
}

#[tokio::test]
async fn saml_tags() {
    let (iam, _) = iam().await;
    let root = root(&iam).await;
    let tag = |k: &str| Tag {
        key: k.parse().unwrap(),
        value: "v".parse().unwrap(),
    };
    let p = create_saml_provider(
        &iam,
        &root,
        "T".parse().unwrap(),
        metadata("e"),
        vec![tag("a")],
    )
    .await
    .unwrap();
    tag_saml_provider(&iam, &root, &p.arn, vec![tag("b")])
        .await
        .unwrap();
    untag_saml_provider(&iam, &root, &p.arn, vec!["A".parse().unwrap()])
        .await
        .unwrap();
    assert_eq!(
        list_saml_provider_tags(&iam, &root, &p.arn).await.unwrap(),
        vec![tag("b")]
    );
}
