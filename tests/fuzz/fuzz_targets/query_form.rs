//! Query URL + form body → Params → every STS decoder.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| stsd::fuzzing::query_form(data));
