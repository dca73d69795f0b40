//! Web-identity token → peek → verify (fixed keys, fixed time); JWKS parse.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| stsd::fuzzing::web_identity_token(data));
