//! Policy JSON → parse as every kind → evaluate → to_json → re-parse.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| stsd::fuzzing::policy_document(data));
