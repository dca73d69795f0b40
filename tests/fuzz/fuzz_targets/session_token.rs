//! Session token → open; session plaintext → decode → encode → seal → open.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| stsd::fuzzing::session_token(data));
