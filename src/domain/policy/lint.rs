//! Warnings about valid but suspicious policies.
//!
//! Owns: the advice `stsd policy validate` prints beside errors — unknown
//! service prefixes and global condition keys, over-broad grants
//! (`Allow` + `NotAction` + `Resource: *`), `ForAllValues` in an `Allow`
//! without a `Null` guard, variables under an old `Version`. Warnings never
//! change a decision. Pure.

use super::condition::SetQualifier;
use super::model::{Effect, PolicyKind, Version};
use super::{BaseOperator, Policy};

/// Service prefixes stsd knows (AWS's common services plus its own).
const SERVICES: &[&str] = &[
    "access-analyzer",
    "account",
    "acm",
    "acm-pca",
    "airflow",
    "amplify",
    "apigateway",
    "appconfig",
    "appflow",
    "application-autoscaling",
    "appmesh",
    "apprunner",
    "appstream",
    "appsync",
    "athena",
    "autoscaling",
    "backup",
    "batch",
    "bedrock",
    "budgets",
    "ce",
    "cloud9",
    "cloudformation",
    "cloudfront",
    "cloudhsm",
    "cloudsearch",
    "cloudshell",
    "cloudtrail",
    "cloudwatch",
    "codeartifact",
    "codebuild",
    "codecommit",
    "codedeploy",
    "codepipeline",
    "codestar-connections",
    "cognito-identity",
    "cognito-idp",
    "cognito-sync",
    "comprehend",
    "config",
    "connect",
    "datasync",
    "dax",
    "detective",
    "devicefarm",
    "directconnect",
    "dms",
    "ds",
    "dynamodb",
    "ebs",
    "ec2",
    "ec2messages",
    "ecr",
    "ecr-public",
    "ecs",
    "eks",
    "eks-auth",
    "elasticache",
    "elasticbeanstalk",
    "elasticfilesystem",
    "elasticloadbalancing",
    "elasticmapreduce",
    "emr-containers",
    "emr-serverless",
    "es",
    "events",
    "execute-api",
    "firehose",
    "fis",
    "fms",
    "forecast",
    "fsx",
    "glacier",
    "globalaccelerator",
    "glue",
    "grafana",
    "greengrass",
    "guardduty",
    "health",
    "iam",
    "identitystore",
    "imagebuilder",
    "inspector",
    "inspector2",
    "iot",
    "kafka",
    "kendra",
    "kinesis",
    "kinesisanalytics",
    "kinesisvideo",
    "kms",
    "lakeformation",
    "lambda",
    "lex",
    "lightsail",
    "logs",
    "macie2",
    "mediaconvert",
    "memorydb",
    "mq",
    "neptune-db",
    "network-firewall",
    "organizations",
    "outposts",
    "personalize",
    "pi",
    "pipes",
    "polly",
    "pricing",
    "qldb",
    "quicksight",
    "ram",
    "rds",
    "rds-data",
    "rds-db",
    "redshift",
    "redshift-data",
    "redshift-serverless",
    "rekognition",
    "resource-groups",
    "route53",
    "route53domains",
    "route53resolver",
    "s3",
    "s3-object-lambda",
    "s3express",
    "sagemaker",
    "scheduler",
    "schemas",
    "secretsmanager",
    "securityhub",
    "servicecatalog",
    "servicequotas",
    "ses",
    "shield",
    "signer",
    "sns",
    "sqs",
    "ssm",
    "ssm-incidents",
    "ssmmessages",
    "sso",
    "sso-oauth",
    "states",
    "storagegateway",
    "sts",
    "support",
    "swf",
    "synthetics",
    "tag",
    "textract",
    "timestream",
    "transcribe",
    "transfer",
    "translate",
    "trustedadvisor",
    "waf",
    "waf-regional",
    "wafv2",
    "wellarchitected",
    "workspaces",
    "xray",
    "stsd",
];

/// Global condition keys (`aws:` prefix), lower-cased; tag keys by prefix.
const GLOBAL_KEYS: &[&str] = &[
    "aws:calledvia",
    "aws:calledviafirst",
    "aws:calledvialast",
    "aws:currenttime",
    "aws:epochtime",
    "aws:federatedprovider",
    "aws:multifactorauthage",
    "aws:multifactorauthpresent",
    "aws:principalaccount",
    "aws:principalarn",
    "aws:principalisawsservice",
    "aws:principalorgid",
    "aws:principalorgpaths",
    "aws:principalservicename",
    "aws:principalservicenameslist",
    "aws:principaltype",
    "aws:referer",
    "aws:requestedregion",
    "aws:resourceaccount",
    "aws:resourceorgid",
    "aws:resourceorgpaths",
    "aws:securetransport",
    "aws:sourceaccount",
    "aws:sourcearn",
    "aws:sourceidentity",
    "aws:sourceip",
    "aws:sourceorgid",
    "aws:sourceorgpaths",
    "aws:sourcevpc",
    "aws:sourcevpce",
    "aws:tagkeys",
    "aws:tokenissuetime",
    "aws:useragent",
    "aws:userid",
    "aws:username",
    "aws:viaawsservice",
    "aws:vpcsourceip",
    "aws:ec2instancesourcevpc",
    "aws:ec2instancesourceprivateipv4",
    "aws:sourceowner",
];

const TAG_PREFIXES: &[&str] = &["aws:principaltag/", "aws:requesttag/", "aws:resourcetag/"];

/// One warning: where and what.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Warning {
    /// 1-based statement index, or 0 for the whole document.
    pub statement: usize,
    /// The advice.
    pub message: String,
}

/// Warnings for `policy`.
pub fn lint(policy: &Policy) -> Vec<Warning> {
    let doc = policy.document();
    let mut out = Vec::new();
    let mut warn = |statement: usize, message: String| out.push(Warning { statement, message });
    let text = doc.to_json();
    if doc.version != Some(Version::V2012_10_17) && text.contains("${") {
        warn(
            0,
            "the policy uses ${…} but its Version is not 2012-10-17, so it is literal text".into(),
        );
    }
    if doc.version.is_none() {
        warn(
            0,
            "the policy has no Version; add \"Version\": \"2012-10-17\"".into(),
        );
    }
    if doc.id.is_some()
        && matches!(
            policy.kind(),
            PolicyKind::Identity | PolicyKind::Session | PolicyKind::Boundary
        )
    {
        warn(
            0,
            "Id is meant for resource policies; IAM ignores it here".into(),
        );
    }
    for (i, s) in doc.statements.iter().enumerate() {
        let n = i + 1;
        for a in &s.action.values {
            if let Some((svc, _)) = a.split_once(':')
                && !SERVICES.iter().any(|k| k.eq_ignore_ascii_case(svc))
            {
                warn(
                    n,
                    format!("action \"{a}\": unknown service prefix \"{svc}\""),
                );
            }
        }
        let star_resource = s
            .resource
            .as_ref()
            .is_some_and(|r| !r.negated && r.values.iter().any(|v| v == "*"));
        if s.effect == Effect::Allow && s.action.negated && star_resource {
            warn(n, "Allow with NotAction and Resource \"*\" grants every other action on every resource".into());
        }
        if s.effect == Effect::Allow && s.resource.as_ref().is_some_and(|r| r.negated) {
            warn(
                n,
                "Allow with NotResource grants on every resource not listed, including future ones"
                    .into(),
            );
        }
        if s.effect == Effect::Allow
            && !s.action.negated
            && star_resource
            && s.action.values.iter().any(|a| a == "*")
            && s.conditions.is_empty()
        {
            warn(
                n,
                "this statement grants full access (Action \"*\" on Resource \"*\")".into(),
            );
        }
        for c in &s.conditions {
            let key = c.key.to_lowercase();
            let known = GLOBAL_KEYS.iter().any(|k| k.eq_ignore_ascii_case(&key))
                || TAG_PREFIXES.iter().any(|p| key.starts_with(p));
            if key.starts_with("aws:") && !known {
                warn(
                    n,
                    format!(
                        "condition key \"{}\" is not a known global condition key",
                        c.key
                    ),
                );
            }
            let guarded = s.conditions.iter().any(|g| {
                g.operator.base == BaseOperator::Null
                    && g.key.eq_ignore_ascii_case(&c.key)
                    && g.values.iter().any(|v| v.eq_ignore_ascii_case("false"))
            });
            if s.effect == Effect::Allow
                && c.operator.set == Some(SetQualifier::ForAllValues)
                && !guarded
            {
                warn(
                    n,
                    format!(
                        "{} in an Allow is true when \"{}\" is missing or empty; add \"Null\": {{\"{}\": \"false\"}}",
                        c.operator.name(),
                        c.key,
                        c.key
                    ),
                );
            }
        }
    }
    out
}
