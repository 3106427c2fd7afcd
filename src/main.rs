//! `ccpor`: the registry's binary. All logic lives in the library.

/// mimalloc instead of glibc's malloc: a request allocates and frees many small objects across
/// threads, and glibc's arenas spent a sixth of a cached answer's time there (BENCHMARKS.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    ccpor::cli::run().await
}
