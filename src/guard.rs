//! Where keys may go, how big things may be, and redaction. The service sends an API key to a URL that
//! arrives in its event, so the door is locked here, in one place.

use crate::model::Part;
use base64::Engine;
use serde_json::Value;
use std::net::IpAddr;

/// Largest event accepted (Step Functions sends at most 256 KiB; direct invokes up to Lambda's 6 MB).
pub const MAX_EVENT_BYTES: usize = 6 * 1024 * 1024;
pub const MAX_MESSAGES: usize = 2_000;
/// Largest provider body read.
pub const MAX_PROVIDER_BODY_BYTES: usize = 10 * 1024 * 1024;
/// A Step Functions state holds 256 KiB; its overflow cannot be caught, so the service never returns more.
pub const MAX_RESPONSE_BYTES: usize = 256 * 1024;
/// Decoded size of one image (Anthropic's and Bedrock's limit is 3.75-5 MB).
pub const MAX_IMAGE_BYTES: usize = 5 * 1024 * 1024;
pub const IMAGE_MEDIA_TYPES: [&str; 4] = ["image/png", "image/jpeg", "image/gif", "image/webp"];

pub fn redact(text: &str, secret: &str) -> String {
    if secret.is_empty() {
        return text.to_string();
    }
    text.replace(secret, "[REDACTED]")
}

/// An image given as a URL: a `data:` URL (decoded into media type + data) or an https URL.
pub fn image_from_url(url: &str, cache_control: Option<Value>) -> Result<Part, String> {
    if let Some(rest) = url.strip_prefix("data:") {
        let (meta, data) = rest
            .split_once(',')
            .ok_or("has a data: URL without a comma")?;
        let media_type = meta.strip_suffix(";base64").ok_or(
            "has a data: URL that is not base64 (expected data:<media type>;base64,<data>)",
        )?;
        return image_from_base64(media_type, data, cache_control);
    }
    match url::Url::parse(url) {
        Ok(u) if u.scheme() == "https" => Ok(Part::Image {
            media_type: None,
            data: None,
            url: Some(url.to_string()),
            cache_control,
        }),
        Ok(u) => Err(format!(
            "has an image URL with scheme `{}`; only https and data: URLs are accepted",
            u.scheme()
        )),
        Err(e) => Err(format!("has an image URL that does not parse: {e}")),
    }
}

pub fn image_from_base64(
    media_type: &str,
    data: &str,
    cache_control: Option<Value>,
) -> Result<Part, String> {
    if !IMAGE_MEDIA_TYPES.contains(&media_type) {
        return Err(format!(
            "has image media type `{media_type}`; accepted: {}",
            IMAGE_MEDIA_TYPES.join(", ")
        ));
    }
    if data.len() / 4 * 3 > MAX_IMAGE_BYTES {
        return Err(format!(
            "has an image over {} MB",
            MAX_IMAGE_BYTES / 1024 / 1024
        ));
    }
    base64::engine::general_purpose::STANDARD
        .decode(data)
        .map_err(|e| format!("has image data that is not valid base64: {e}"))?;
    Ok(Part::Image {
        media_type: Some(media_type.to_string()),
        data: Some(data.to_string()),
        url: None,
        cache_control,
    })
}

/// Hosts that may receive a key: those an active ProviderTemplate names, plus `ALLOWED_ENDPOINT_HOSTS`.
#[derive(Debug, Clone, Default)]
pub struct HostPolicy {
    /// From `ALLOWED_ENDPOINT_HOSTS`: may be plain http only when the host is loopback.
    pub extra_hosts: Vec<String>,
}

impl HostPolicy {
    pub fn from_env() -> Self {
        HostPolicy {
            extra_hosts: crate::settings::list_var("ALLOWED_ENDPOINT_HOSTS"),
        }
    }

    /// Checks `url` before a key is sent to it. `template_hosts` are the hosts of the provider's template.
    pub fn check(&self, url: &url::Url, template_hosts: &[String]) -> Result<(), String> {
        let host = url.host_str().ok_or("the endpoint has no host")?;
        let bare = host.trim_start_matches('[').trim_end_matches(']');
        if let Ok(ip) = bare.parse::<IpAddr>() {
            if is_metadata_or_link_local(&ip) {
                return Err(format!("the endpoint host {host} is a link-local or metadata address; keys are never sent there"));
            }
        }
        let listed = self
            .extra_hosts
            .iter()
            .any(|h| h.eq_ignore_ascii_case(bare));
        let templated = template_hosts.iter().any(|h| h.eq_ignore_ascii_case(bare));
        match url.scheme() {
            "https" if listed || templated => Ok(()),
            "http" if listed && is_loopback(bare) => Ok(()),
            "http" => Err(format!("the endpoint {host} uses plain http; only https, or a loopback host listed in ALLOWED_ENDPOINT_HOSTS, may receive a key")),
            "https" => Err(format!("the endpoint host {host} is neither named by an active provider template nor listed in ALLOWED_ENDPOINT_HOSTS")),
            other => Err(format!("the endpoint scheme `{other}` is not allowed")),
        }
    }
}

fn is_loopback(host: &str) -> bool {
    host.eq_ignore_ascii_case("localhost")
        || host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

fn is_metadata_or_link_local(ip: &IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => v4.is_link_local() || v4.octets()[0] == 169 && v4.octets()[1] == 254,
        IpAddr::V6(v6) => {
            let seg = v6.segments();
            // fe80::/10 link-local, and the EC2 IMDS address fd00:ec2::254.
            (seg[0] & 0xffc0) == 0xfe80
                || v6
                    == &"fd00:ec2::254"
                        .parse::<std::net::Ipv6Addr>()
                        .expect("valid literal")
                || v6.to_ipv4_mapped().is_some_and(|v4| v4.is_link_local())
        }
    }
}

/// Secret ids the service may read, from `ALLOWED_SECRET_PREFIXES` (empty: any).
pub fn check_secret_id(secret_id: &str, prefixes: &[String]) -> Result<(), String> {
    if prefixes.is_empty() || prefixes.iter().any(|p| secret_id.starts_with(p.as_str())) {
        Ok(())
    } else {
        Err(format!(
            "the secret `{secret_id}` is outside ALLOWED_SECRET_PREFIXES"
        ))
    }
}
