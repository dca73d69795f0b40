//! SigV4 Authorization header / presigned query → parse → precheck → verify (unknown secret).
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| stsd::fuzzing::sigv4_request(data));
