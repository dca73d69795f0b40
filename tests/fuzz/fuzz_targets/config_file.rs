//! Config file TOML → FileConfig → validated Config.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| stsd::fuzzing::config_file(data));
