//! SAML metadata → the IAM API check and the AssumeRoleWithSAML key reader.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| stsd::fuzzing::saml_metadata(data));
