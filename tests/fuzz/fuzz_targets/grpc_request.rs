//! gRPC STS request messages (prost) → Query parameters → every STS decoder.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| stsd::fuzzing::grpc_request(data));
