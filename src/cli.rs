//! The command line for people: `invoke` runs the Lambda's pipeline locally, `render` prints the provider
//! body that would be sent. `--replay` serves recorded provider responses from a stand-in on loopback.

use crate::config::local::LocalConfigStore;
use crate::error::ServiceError;
use crate::event::{self, Invocation};
use crate::replay::{Recording, StandIn};
use crate::secrets::local::MemorySecrets;
use crate::settings::Settings;
use crate::{lambda, setup};
use clap::{Parser, Subcommand};
use serde_json::{json, Value};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

#[derive(Parser)]
#[command(
    name = "unified-llm",
    version,
    about = "Run the unified LLM service's pipeline from a terminal"
)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run an event through the whole pipeline and print the unified response.
    Invoke {
        /// The event JSON file (`-` for standard input).
        event: PathBuf,
        /// Answer provider calls with these recordings (a file, or a folder of them in name order),
        /// served over HTTP on loopback; the event's endpoints are pointed there.
        #[arg(long)]
        replay: Option<PathBuf>,
    },
    /// Print the provider request an event would send, without sending it.
    Render {
        /// The event JSON file (`-` for standard input).
        event: PathBuf,
    },
    /// Work with ProviderTemplates.
    Template {
        #[command(subcommand)]
        command: TemplateCommand,
    },
}

#[derive(Subcommand)]
enum TemplateCommand {
    /// Compile a ProviderTemplate's expressions and run them on sample requests and a sample response.
    /// Exit 0 when valid, 1 when not; nothing is sent to a provider.
    Check {
        /// The ProviderTemplate JSON file (Amplify shape, as in templates/providers/).
        provider: PathBuf,
        /// A sample request (an event without provider_config; may be repeated). Default: a built-in set.
        #[arg(long)]
        request: Vec<PathBuf>,
        /// A sample raw provider response (or a recording holding one under `body`).
        #[arg(long)]
        response: Option<PathBuf>,
    },
}

/// Runs the CLI; returns the process exit code (0 ok, 2 a named error, 1 a usage or I/O problem).
pub async fn main() -> i32 {
    let cli = Cli::parse();
    setup::init_logging();
    let result = match cli.command {
        Command::Invoke { event, replay } => invoke(&event, replay.as_deref()).await,
        Command::Render { event } => render(&event).await,
        Command::Template {
            command:
                TemplateCommand::Check {
                    provider,
                    request,
                    response,
                },
        } => check(&provider, &request, response.as_deref()).await,
    };
    match result {
        Ok(v) => {
            print(&serde_json::to_string_pretty(&v).unwrap_or_default());
            if v.get("valid") == Some(&Value::Bool(false)) {
                1
            } else {
                0
            }
        }
        Err(e) => {
            println!(
                "{}",
                json!({"errorType": e.kind.name(), "errorMessage": e.full_message()})
            );
            2
        }
    }
}

/// Prints a line; a closed pipe (`| head`) is not an error worth a panic.
fn print(text: &str) {
    use std::io::Write;
    let _ = writeln!(std::io::stdout(), "{text}");
}

fn read_event(path: &Path) -> Result<Value, ServiceError> {
    let text = if path == Path::new("-") {
        std::io::read_to_string(std::io::stdin())
    } else {
        std::fs::read_to_string(path)
    }
    .map_err(|e| ServiceError::invalid(format!("cannot read {}: {e}", path.display())))?;
    serde_json::from_str(&text)
        .map_err(|e| ServiceError::invalid(format!("{} is not JSON: {e}", path.display())))
}

async fn invoke(path: &Path, replay: Option<&Path>) -> Result<Value, ServiceError> {
    let mut payload = read_event(path)?;
    let mut settings = Settings::from_env();
    let Some(replay) = replay else {
        let service = setup::service(&settings).await;
        return lambda::handle(&service, payload, None, "cli").await;
    };
    let recordings = load_recordings(replay)?;
    let stand_in = StandIn::start(recordings)
        .await
        .map_err(|e| ServiceError::invalid(format!("stand-in provider: {e}")))?;
    let secrets = point_at(&mut payload, &stand_in.base_url());
    settings.allowed_endpoint_hosts.push("127.0.0.1".into());
    let service = setup::with_parts(
        &settings,
        Arc::new(LocalConfigStore::default()),
        Arc::new(MemorySecrets { secrets }),
        None,
    );
    lambda::handle(&service, payload, None, "cli-replay").await
}

async fn render(path: &Path) -> Result<Value, ServiceError> {
    let payload = read_event(path)?;
    let Invocation::Chat(chat) = event::parse(payload)? else {
        return Err(ServiceError::invalid(
            "render takes a chat event, not an action",
        ));
    };
    let settings = Settings::from_env();
    let service = setup::with_parts(
        &settings,
        Arc::new(LocalConfigStore::default()),
        Arc::new(MemorySecrets {
            secrets: HashMap::new(),
        }),
        None,
    );
    let r = service.render(&chat).await?;
    Ok(json!({
        "url": r.endpoint.url,
        "transformer": r.endpoint.request_transformer,
        "transform": r.ran.path,
        "body": r.body,
    }))
}

async fn check(
    provider: &Path,
    requests: &[PathBuf],
    response: Option<&Path>,
) -> Result<Value, ServiceError> {
    let template = read_event(provider)?;
    let requests: Vec<Value> = requests
        .iter()
        .map(|p| read_event(p))
        .collect::<Result<_, _>>()?;
    let response = response
        .map(read_event)
        .transpose()?
        .map(|raw| match raw.get("body") {
            Some(body) if raw.get("status").is_some() => body.clone(),
            _ => raw,
        });
    let body = json!({"template": template, "requests": requests, "response": response});
    let service = setup::with_parts(
        &Settings::default(),
        Arc::new(LocalConfigStore::default()),
        Arc::new(MemorySecrets {
            secrets: HashMap::new(),
        }),
        None,
    );
    crate::admin::run(&service, "validate_template", body, None).await
}

fn load_recordings(path: &Path) -> Result<Vec<Recording>, ServiceError> {
    let files: Vec<PathBuf> = if path.is_dir() {
        let mut f: Vec<PathBuf> = std::fs::read_dir(path)
            .map_err(|e| ServiceError::invalid(format!("{}: {e}", path.display())))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "json"))
            .collect();
        f.sort();
        f
    } else {
        vec![path.to_path_buf()]
    };
    files
        .iter()
        .map(|f| Recording::load(f).map_err(|e| ServiceError::invalid(e.to_string())))
        .collect()
}

/// Points every inline endpoint of the event at `base`, keeping each path; returns a stand-in key for each
/// secret the event names.
fn point_at(payload: &mut Value, base: &str) -> HashMap<String, String> {
    let mut secrets: HashMap<String, Value> = HashMap::new();
    let mut configs: Vec<&mut Value> = Vec::new();
    if let Some(obj) = payload.as_object_mut() {
        for (k, v) in obj.iter_mut() {
            match k.as_str() {
                "provider_config" => configs.push(v),
                "fallbacks" => configs.extend(v.as_array_mut().into_iter().flatten()),
                _ => {}
            }
        }
    }
    for c in configs {
        if let Some(url) = c
            .get("endpoint")
            .and_then(Value::as_str)
            .and_then(|u| url::Url::parse(u).ok())
        {
            let query = url.query().map(|q| format!("?{q}")).unwrap_or_default();
            c["endpoint"] = json!(format!("{base}{}{query}", url.path()));
        }
        if let (Some(path), Some(key)) = (
            c.get("secret_path").and_then(Value::as_str),
            c.get("secret_key_name").and_then(Value::as_str),
        ) {
            secrets.entry(path.to_string()).or_insert_with(|| json!({}))[key] =
                json!("replay-key-not-a-real-key");
        }
    }
    secrets
        .into_iter()
        .map(|(k, v)| (k, v.to_string()))
        .collect()
}
