//! SAML response → strict XML reader → shape checks → xmlsec → assertion (wrapping oracle).
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| stsd::fuzzing::saml_response(data));
