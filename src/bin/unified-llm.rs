//! The command line for people; see `unified-llm --help`.

#[tokio::main(flavor = "current_thread")]
async fn main() {
    std::process::exit(unified_llm_service::cli::main().await);
}
