//! `ccpor`: the registry's binary. All logic lives in the library.

#[tokio::main]
async fn main() -> std::process::ExitCode {
    ccpor::cli::run().await
}
