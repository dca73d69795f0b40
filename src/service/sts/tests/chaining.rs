//! Session tags, transitive tags, source identity and role chaining; the
//! session policy narrowing what a minted session may do.

use super::*;

/// A role `name` whose trust policy allows `actions` to `principal`, and
/// whose own policy allows everything in IAM and STS.
async fn open_role(env: &Env, name: &str, principal: &str, actions: &[&str]) -> RoleRecord {
    env.role_in(
        testing::account(),
        name,
        &trust(principal, actions, ""),
        Some(&allow("*", "*")),
        Some(43_200),
    )
    .await
}

const ALL: &[&str] = &["sts:AssumeRole", "sts:TagSession", "sts:SetSourceIdentity"];

#[tokio::test]
async fn chained_sessions_are_capped_at_one_hour_and_count_their_depth() {
    let env = Env::new().await;
    let alice = env.user("alice", None).await;
    let first = open_role(&env, "first", &arn(&env, &alice), ALL).await;
    let second = open_role(&env, "second", "123456789012", ALL).await;
    let mut input = assume(&first, "s1");
    input.duration = Some(7_200);
    let m1 = env.assume(&alice, input).await.unwrap();
    assert_eq!(m1.session.expires_at - m1.session.issued_at, 7_200);
    let session = env.session_caller(&m1);
    let mut input = assume(&second, "s2");
    input.duration = Some(3_601);
    assert_err(
        env.assume(&session, input).await,
        ErrorCode::ValidationError,
        "The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining.",
    );
    let m2 = env.assume(&session, assume(&second, "s2")).await.unwrap();
    assert_eq!(m2.session.expires_at - m2.session.issued_at, 3_600);
    assert_eq!(m2.session.chain_depth, 1);
    let m3 = env
        .assume(&env.session_caller(&m2), assume(&second, "s3"))
        .await
        .unwrap();
    assert_eq!(m3.session.chain_depth, 2);
}

#[tokio::test]
async fn tags_need_tag_session_and_transitive_keys_must_be_tags() {
    let env = Env::new().await;
    let alice = env.user("alice", None).await;
    let plain = open_role(&env, "plain", &arn(&env, &alice), &["sts:AssumeRole"]).await;
    let tagging = open_role(&env, "tagging", &arn(&env, &alice), ALL).await;
    let with = |role: &RoleRecord, tags: Vec<Tag>, transitive: &[&str]| {
        let mut input = assume(role, "s1");
        input.tags = tags;
        input.transitive_tag_keys = transitive.iter().map(|k| k.parse().unwrap()).collect();
        input
    };
    assert_err(
        env.assume(&alice, with(&plain, vec![tag("Project", "Apollo")], &[]))
            .await,
        ErrorCode::AccessDenied,
        "User: arn:aws:iam::123456789012:user/alice is not authorized to perform: sts:TagSession on resource: arn:aws:iam::123456789012:role/plain",
    );
    assert_err(
        env.assume(
            &alice,
            with(&tagging, vec![tag("Project", "Apollo")], &["Team"]),
        )
        .await,
        ErrorCode::InvalidParameterValue,
        "The specified transitive tag key must be included in the requested tags.",
    );
    assert_err(
        env.assume(
            &alice,
            with(&tagging, vec![tag("Team", "a"), tag("TEAM", "b")], &[]),
        )
        .await,
        ErrorCode::InvalidParameterValue,
        "Duplicate tag keys found.",
    );
    let many: Vec<Tag> = (0..51).map(|i| tag(&format!("k{i}"), "v")).collect();
    assert_err(
        env.assume(&alice, with(&tagging, many, &[])).await,
        ErrorCode::ValidationError,
        "1 validation error detected: Value at 'tags' failed to satisfy constraint: Member must have length less than or equal to 50",
    );
    let m = env
        .assume(
            &alice,
            with(
                &tagging,
                vec![tag("Project", "Apollo"), tag("Team", "Blue")],
                &["Project"],
            ),
        )
        .await
        .unwrap();
    assert_eq!(m.session.tags.len(), 2);
    assert_eq!(m.session.transitive_tag_keys, ["Project"]);
    assert!(m.packed_policy_size.is_some());
}

#[tokio::test]
async fn transitive_tags_are_inherited_and_cannot_be_overridden() {
    let env = Env::new().await;
    let alice = env.user("alice", None).await;
    let first = open_role(&env, "first", &arn(&env, &alice), ALL).await;
    let second = open_role(&env, "second", "123456789012", ALL).await;
    let mut input = assume(&first, "s1");
    input.tags = vec![tag("Project", "Apollo"), tag("Team", "Blue")];
    input.transitive_tag_keys = vec!["Project".parse().unwrap()];
    let session = env.session_caller(&env.assume(&alice, input).await.unwrap());

    let mut input = assume(&second, "s2");
    input.tags = vec![tag("project", "Gemini")];
    assert_err(
        env.assume(&session, input).await,
        ErrorCode::InvalidParameterValue,
        "The session tag key project matches a transitive tag key of the calling session",
    );
    let mut input = assume(&second, "s2");
    input.tags = vec![tag("Team", "Red")];
    let m = env.assume(&session, input).await.unwrap();
    let tags: Vec<(&str, &str)> = m
        .session
        .tags
        .iter()
        .map(|t| (t.key.as_str(), t.value.as_str()))
        .collect();
    assert_eq!(tags, [("Project", "Apollo"), ("Team", "Red")]);
    assert_eq!(m.session.transitive_tag_keys, ["Project"]);
    // Inheriting alone needs sts:TagSession (the strict default)…
    let plain = open_role(&env, "plain", "123456789012", &["sts:AssumeRole"]).await;
    assert_err(
        env.assume(&session, assume(&plain, "s3")).await,
        ErrorCode::AccessDenied,
        "User: arn:aws:sts::123456789012:assumed-role/first/s1 is not authorized to perform: sts:TagSession",
    );
    // … unless the deployment says otherwise; the tags still carry over.
    let mut env = env;
    env.sts.settings.tag_session_for_inherited_tags = false;
    let m = env.assume(&session, assume(&plain, "s3")).await.unwrap();
    assert_eq!(m.session.tags.len(), 1);
}

#[tokio::test]
async fn source_identity_needs_permission_and_never_changes_in_a_chain() {
    let env = Env::new().await;
    let alice = env.user("alice", None).await;
    let plain = open_role(&env, "plain", &arn(&env, &alice), &["sts:AssumeRole"]).await;
    let first = open_role(&env, "first", &arn(&env, &alice), ALL).await;
    let second = open_role(&env, "second", "123456789012", ALL).await;
    let with = |role: &RoleRecord, source: Option<&str>| {
        let mut input = assume(role, "s1");
        input.source_identity = source.map(|s| s.parse().unwrap());
        input
    };
    assert_err(
        env.assume(&alice, with(&plain, Some("alice@example.com")))
            .await,
        ErrorCode::AccessDenied,
        "User: arn:aws:iam::123456789012:user/alice is not authorized to perform: sts:SetSourceIdentity",
    );
    let m = env
        .assume(&alice, with(&first, Some("alice@example.com")))
        .await
        .unwrap();
    assert_eq!(
        m.session.source_identity.as_deref(),
        Some("alice@example.com")
    );
    let session = env.session_caller(&m);
    assert_err(
        env.assume(&session, with(&second, Some("mallory"))).await,
        ErrorCode::AccessDenied,
        "The source identity of a role chain cannot be changed",
    );
    let m = env.assume(&session, with(&second, None)).await.unwrap();
    assert_eq!(
        m.session.source_identity.as_deref(),
        Some("alice@example.com")
    );
    let m = env
        .assume(&session, with(&second, Some("alice@example.com")))
        .await
        .unwrap();
    assert_eq!(
        m.session.source_identity.as_deref(),
        Some("alice@example.com")
    );
}

#[tokio::test]
async fn a_session_policy_narrows_what_the_session_may_do() {
    let env = Env::new().await;
    let alice = env.user("alice", None).await;
    let role = open_role(&env, "admin", &arn(&env, &alice), &["sts:AssumeRole"]).await;
    let full = env.session_caller(&env.assume(&alice, assume(&role, "full")).await.unwrap());
    let full = env.authz(&full).await;
    full.authorize("iam:CreateUser", "arn:aws:iam::123456789012:user/x", &[])
        .unwrap();

    let mut input = assume(&role, "narrow");
    input.policies.policy = Some(allow("iam:GetUser", "*"));
    let narrow = env.session_caller(&env.assume(&alice, input).await.unwrap());
    let narrow = env.authz(&narrow).await;
    narrow
        .authorize("iam:GetUser", "arn:aws:iam::123456789012:user/x", &[])
        .unwrap();
    let e = assert_err(
        narrow.authorize("iam:CreateUser", "arn:aws:iam::123456789012:user/x", &[]),
        ErrorCode::AccessDenied,
        "User: arn:aws:sts::123456789012:assumed-role/admin/narrow is not authorized to perform: iam:CreateUser on resource: arn:aws:iam::123456789012:user/x because no session policy allows",
    );
    assert!(e.denial().is_some());
}
