//! The credential report on the wire: GenerateCredentialReport and
//! GetCredentialReport.
//!
//! Owns: writing `State` / `Description`, and `Content` (the CSV, base64),
//! `ReportFormat` (`text/csv`) and `GeneratedTime`. The reports themselves
//! are kept by one `service::iam::credential_report::CredentialReports`
//! shared by both actions. Imports `service` and the api's own modules.

use std::sync::Arc;

use data_encoding::BASE64;

use super::route::route;
use super::users::secs;
use crate::api::dispatch::Dispatcher;
use crate::api::xml::XmlResponse;
use crate::service::iam::Iam;
use crate::service::iam::credential_report::{CredentialReports, Generation};

/// Registers the credential report actions.
pub fn register(d: &mut Dispatcher, iam: &Arc<Iam>) {
    let reports = Arc::new(CredentialReports::default());
    let generating = Arc::clone(&reports);
    route(
        d,
        iam,
        "GenerateCredentialReport",
        move |iam, caller, _call| {
            let reports = Arc::clone(&generating);
            async move {
                let (state, description) = match reports.generate(&iam, &caller).await? {
                    Generation::Started => (
                        "STARTED",
                        "No report exists. Starting a new report generation task",
                    ),
                    Generation::Complete => ("COMPLETE", "Report generated"),
                };
                let mut r = XmlResponse::new();
                r.string("State", state).string("Description", description);
                Ok(r)
            }
        },
    );
    route(d, iam, "GetCredentialReport", move |iam, caller, _call| {
        let reports = Arc::clone(&reports);
        async move {
            let report = reports.get(&iam, &caller)?;
            let mut r = XmlResponse::new();
            r.string("Content", BASE64.encode(report.csv.as_bytes()))
                .string("ReportFormat", "text/csv")
                .timestamp("GeneratedTime", secs(report.generated_at));
            Ok(r)
        }
    });
}
