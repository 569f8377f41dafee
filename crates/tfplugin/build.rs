//! Generates the gRPC client code for the protocol definitions in `proto/`, with the protoc
//! that `protoc-bin-vendored` ships (no system protoc needed).

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let protoc = protoc_bin_vendored::protoc_bin_path()?;
    let mut config = tonic_prost_build::Config::new();
    config.protoc_executable(protoc);
    tonic_prost_build::configure()
        .build_server(false)
        .compile_with_config(
            config,
            &[
                "proto/tfplugin5.proto",
                "proto/tfplugin6.proto",
                "proto/go_plugin.proto",
            ],
            &["proto"],
        )?;
    println!("cargo:rerun-if-changed=proto");
    Ok(())
}
