//! Generates the gRPC server code for protocol 6 and go-plugin's services from braid's own
//! protocol definitions (crates/tfplugin/proto), with the protoc `protoc-bin-vendored` ships.

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let protoc = protoc_bin_vendored::protoc_bin_path()?;
    let mut config = tonic_prost_build::Config::new();
    config.protoc_executable(protoc);
    tonic_prost_build::configure()
        .build_client(false)
        .build_server(true)
        .compile_with_config(
            config,
            &[
                "../tfplugin/proto/tfplugin6.proto",
                "../tfplugin/proto/go_plugin.proto",
            ],
            &["../tfplugin/proto"],
        )?;
    println!("cargo:rerun-if-changed=../tfplugin/proto");
    Ok(())
}
