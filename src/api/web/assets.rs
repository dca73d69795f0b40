//! The two static files of the sign-in pages, compiled in.
//!
//! Owns: [`serve`] — `app.css` and `app.js` with their content types and
//! the pages' security headers; anything else is 404. Imports the parent
//! module's response helper.

use axum::body::Body;
use axum::extract::Path;
use http::{Response, StatusCode};

use super::respond;

const CSS: &str = include_str!("static/app.css");
const JS: &str = include_str!("static/app.js");

/// `GET /web/static/{file}`.
pub(super) async fn serve(Path(file): Path<String>) -> Response<Body> {
    match file.as_str() {
        "app.css" => respond(StatusCode::OK, "text/css; charset=utf-8", CSS, None),
        "app.js" => respond(StatusCode::OK, "text/javascript; charset=utf-8", JS, None),
        _ => respond(
            StatusCode::NOT_FOUND,
            "text/plain; charset=utf-8",
            "not found",
            None,
        ),
    }
}
