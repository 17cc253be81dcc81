//! The Lambda binary: settings and clients built once, then the runtime serves invocations.

use lambda_runtime::{service_fn, LambdaEvent};
use serde_json::Value;
use unified_llm_service::{error::ServiceError, lambda, settings::Settings, setup};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_runtime::Error> {
    setup::init_logging();
    let settings = Settings::from_env();
    let service = setup::service(&settings).await;
    let service = &service;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| async move {
        let deadline = event.context.deadline;
        lambda::handle(
            service,
            event.payload,
            Some(deadline),
            &event.context.request_id,
        )
        .await
        .map_err(|e: ServiceError| lambda_runtime::Diagnostic::from(e))
    }))
    .await
}
