use std::sync::Arc;
use stsd::domain::policy::*;

#[test]
fn scratch() {
    let alice = Principal::user("arn:aws:iam::111122223333:user/alice", None);
    let mut ctx = Context::new();
    ctx.insert("k1", "y");
    ctx.insert("k2", "abc");
    for conds in [
        r#"{"StringEquals":{"k1":"x"},"NumericLessThan":{"k2":"5"}}"#,
        r#"{"NumericLessThan":{"k2":"5"},"StringEquals":{"k1":"x"}}"#,
    ] {
        let doc = format!(r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Action":"*","Resource":"*"}},{{"Effect":"Deny","Action":"*","Resource":"*","Condition":{conds}}}]}}"#);
        let p = Policy::parse("p", PolicyKind::Identity, &doc).unwrap();
        let set = PolicySet { identity: vec![Arc::new(p)], ..Default::default() };
        let req = Request::new(&alice, "s3:GetObject", "arn:aws:s3:::b", &ctx);
        let d = evaluate(&set, ResourceSide::default(), &req);
        println!("{conds} -> {:?} {:?}", d.outcome, d.reason);
    }
    let doc = r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::\u0100"}}"#;
    let p = Policy::parse("p", PolicyKind::Identity, doc).unwrap();
    let j = p.document().to_json();
    println!("{j} -> {:?}", Policy::parse("p", PolicyKind::Identity, &j).err());
}
