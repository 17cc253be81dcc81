//! The Lambda binary under the Runtime API emulator of `unified_llm_service::emulator`, with every
//! provider's key in a secrets file.

use serde_json::json;
use std::io::Read;
pub use unified_llm_service::emulator::RuntimeApi;

/// The Lambda binary of this build, started as Lambda starts it, against `api`.
pub fn spawn_function(api: &RuntimeApi, env: &[(&str, String)]) -> std::process::Child {
    unified_llm_service::emulator::spawn_function(
        std::path::Path::new(env!("CARGO_BIN_EXE_unified-llm-service")),
        api,
        env,
    )
    .expect("the Lambda binary starts")
}

/// The Lambda binary serving a Runtime API, with every provider's key in a secrets file.
pub struct Harness {
    pub api: RuntimeApi,
    pub child: std::process::Child,
    _secrets: tempfile::NamedTempFile,
}

impl Harness {
    pub async fn start() -> Harness {
        let api = RuntimeApi::start().await;
        let secrets = tempfile::NamedTempFile::new().unwrap();
        let keys = json!({"OPENAI_API_KEY": super::API_KEY, "ANTHROPIC_API_KEY": super::API_KEY, "GEMINI_API_KEY": super::API_KEY, "BEDROCK_API_KEY": super::API_KEY});
        std::fs::write(
            secrets.path(),
            json!({"/ai-agent/llm-secrets/prod": keys}).to_string(),
        )
        .unwrap();
        let child = spawn_function(
            &api,
            &[
                ("LLM_SECRETS_FILE", secrets.path().display().to_string()),
                ("ALLOWED_ENDPOINT_HOSTS", "127.0.0.1".into()),
                ("ALLOWED_SECRET_PREFIXES", "/ai-agent/llm-secrets/".into()),
            ],
        );
        Harness {
            api,
            child,
            _secrets: secrets,
        }
    }

    /// Stops the function and returns everything it logged.
    pub fn logs(mut self) -> String {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let mut out = String::new();
        if let Some(mut s) = self.child.stdout.take() {
            let _ = s.read_to_string(&mut out);
        }
        if let Some(mut s) = self.child.stderr.take() {
            let _ = s.read_to_string(&mut out);
        }
        out
    }
}
