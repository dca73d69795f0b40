//! Compiles `proto/stsd/v1/*.proto` with protox (a Rust protobuf compiler,
//! so no `protoc` is needed) and generates the prost messages and the tonic
//! services from the file descriptor set. Servers and transport-free
//! clients (generic over any `GrpcService`) are generated; nothing depends
//! on tonic's own transport.

use std::error::Error;

const PROTOS: [&str; 3] = [
    "proto/stsd/v1/sts.proto",
    "proto/stsd/v1/authorizer.proto",
    "proto/stsd/v1/sessions.proto",
];

fn main() -> Result<(), Box<dyn Error>> {
    println!("cargo:rerun-if-changed=proto");
    let descriptors = protox::compile(PROTOS, ["proto"])?;
    tonic_prost_build::configure()
        .build_server(true)
        .build_client(true)
        .build_transport(false)
        .compile_fds(descriptors)?;
    Ok(())
}
