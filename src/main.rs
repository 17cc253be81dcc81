//! The Lambda binary: settings and clients built once, then the runtime serves invocations.

use lambda_runtime::{service_fn, LambdaEvent};
use serde_json::value::RawValue;
use unified_llm_service::{error::ServiceError, lambda, settings::Settings, setup};

/// mimalloc: the transforms allocate many small values, and it makes the large request's template path
/// ~30% faster than glibc's allocator (README, Performance).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_runtime::Error> {
    setup::init_logging();
    let settings = Settings::from_env();
    let service = setup::service(&settings).await;
    let service = &service;
    // The event stays JSON text until the handler reads it into its fields.
    lambda_runtime::run(service_fn(
        move |event: LambdaEvent<Box<RawValue>>| async move {
            let deadline = event.context.deadline;
            lambda::handle_text(
                service,
                event.payload.get(),
                Some(deadline),
                &event.context.request_id,
            )
            .await
            .map_err(|e: ServiceError| lambda_runtime::Diagnostic::from(e))
        },
    ))
    .await
}
