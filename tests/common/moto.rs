//! moto's server on loopback: the real DynamoDB and Secrets Manager APIs for the integration tests.
//! `MOTO_SERVER` names the executable (scripts/test.sh installs it); without it the tests fail, loudly.

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub struct Moto {
    pub url: String,
    child: Child,
    _dir: tempfile::TempDir,
}

impl Moto {
    pub fn start() -> Moto {
        let exe = std::env::var("MOTO_SERVER").unwrap_or_else(|_| "moto_server".into());
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        // The recorder writes request bodies (secret values included) to its working folder: a temp one.
        let dir = tempfile::tempdir().unwrap();
        let child = Command::new(&exe)
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .current_dir(dir.path())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start moto's server `{exe}` ({e}); run ./scripts/test.sh, which installs it"));
        let started = Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "moto's server did not start"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        Moto {
            url: format!("http://127.0.0.1:{port}"),
            child,
            _dir: dir,
        }
    }

    pub async fn sdk_config(&self) -> aws_config::SdkConfig {
        unified_llm_service::setup::aws_config_loader()
            .endpoint_url(&self.url)
            .region(aws_config::Region::new("us-east-1"))
            .credentials_provider(aws_credential_types::Credentials::new(
                "test", "test", None, None, "moto",
            ))
            .load()
            .await
    }

    pub async fn start_recording(&self) {
        reqwest::Client::new()
            .post(format!("{}/moto-api/recorder/reset-recording", self.url))
            .send()
            .await
            .unwrap();
        reqwest::Client::new()
            .post(format!("{}/moto-api/recorder/start-recording", self.url))
            .send()
            .await
            .unwrap();
    }

    /// How many recorded requests carried `X-Amz-Target: <target>` (e.g. `secretsmanager.GetSecretValue`).
    pub async fn count(&self, target: &str) -> usize {
        let text = reqwest::get(format!("{}/moto-api/recorder/download-recording", self.url))
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        text.lines().filter(|l| l.contains(target)).count()
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
