//! Pulling an engine image: the progress Docker reports per layer, and registry failures sorted
//! into what a person can act on (no such image, refused credentials, registry unreachable).

/// One progress message of a pull, as Docker reports it for a layer (or the whole image).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PullProgress {
    /// The layer id; empty for messages about the whole image.
    pub layer: String,
    /// `Pulling fs layer`, `Downloading`, `Pull complete`, `Already exists`, …
    pub status: String,
    pub current: Option<u64>,
    pub total: Option<u64>,
}

/// Why a registry would not hand over an image. None of these is retried: the same pull would
/// meet the same answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PullFailure {
    /// The registry has no such repository or tag.
    UnknownImage,
    /// The registry wants credentials, or refused the ones given.
    Unauthorized,
    /// The registry did not answer: wrong address, network down, TLS mismatch.
    Unreachable,
    /// The Docker host's disk filled up while the layers were written.
    NoSpace,
    /// Anything else Docker reported.
    Other,
}

impl PullFailure {
    /// Sorts Docker's message about a failed pull; Docker gives no structured code for these.
    pub fn classify(message: &str) -> Self {
        let m = message.to_ascii_lowercase();
        let has = |needles: &[&str]| needles.iter().any(|n| m.contains(n));
        if super::no_space(&m) {
            PullFailure::NoSpace
        } else if has(&[
            "manifest unknown",
            "name unknown",
            "repository does not exist",
            "not found",
        ]) {
            PullFailure::UnknownImage
        } else if has(&[
            "unauthorized",
            "authentication required",
            "no basic auth credentials",
            "denied",
        ]) {
            PullFailure::Unauthorized
        } else if has(&[
            "connection refused",
            "no such host",
            "i/o timeout",
            "network is unreachable",
            "no route to host",
            "connection reset",
            "tls: ",
            "http response to https client",
            "dial tcp",
        ]) {
            PullFailure::Unreachable
        } else {
            PullFailure::Other
        }
    }

    /// What went wrong, completing "cannot pull {image}: …".
    pub fn describe(self) -> &'static str {
        match self {
            PullFailure::UnknownImage => "the registry has no such image (repository or tag)",
            PullFailure::Unauthorized => {
                "the registry refused access (credentials needed or denied)"
            }
            PullFailure::Unreachable => "the registry cannot be reached",
            PullFailure::NoSpace => "the Docker host's disk is full",
            PullFailure::Other => "Docker could not pull it",
        }
    }

    pub fn help(self, image: &str) -> String {
        let registry = registry_of(image);
        match self {
            PullFailure::UnknownImage => format!(
                "check the image name and tag (AIMA_<ENGINE>_IMAGE or `image` under [engines.<engine>] in config.toml); `docker pull {image}` shows the same answer"
            ),
            PullFailure::Unauthorized => format!(
                "log in to the registry for the Docker daemon (`docker login {registry}`), or use an image you may pull"
            ),
            PullFailure::Unreachable => format!(
                "check the address of {registry} and the network, or load the image by hand (`docker load`) and start with --pull never"
            ),
            PullFailure::NoSpace => "free space on the Docker host's disk (`docker system df`; `docker image prune` removes unused images), then start again".to_owned(),
            PullFailure::Other => format!("try `docker pull {image}` to see Docker's full answer"),
        }
    }
}

/// `registry:5000` of `registry:5000/team/engine:tag`; Docker's default registry otherwise.
fn registry_of(image: &str) -> &str {
    match image.split_once('/') {
        Some((first, _)) if first.contains(['.', ':']) || first == "localhost" => first,
        _ => "the default registry",
    }
}

/// `(repository, tag)` as the pull API takes them: a digest stays in the repository part, a
/// reference without tag means `latest` (never "every tag").
pub fn split_reference(image: &str) -> (&str, Option<&str>) {
    if image.contains('@') {
        return (image, None);
    }
    let last_slash = image.rfind('/').map_or(0, |i| i + 1);
    match image[last_slash..].rfind(':') {
        Some(i) => (&image[..last_slash + i], Some(&image[last_slash + i + 1..])),
        None => (image, Some("latest")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registry_messages_are_classified() {
        let cases = [
            (
                "manifest for 127.0.0.1:5000/nope:latest not found: manifest unknown: manifest unknown",
                PullFailure::UnknownImage,
            ),
            (
                "pull access denied for nope, repository does not exist or may require 'docker login'",
                PullFailure::UnknownImage,
            ),
            (
                "Head \"https://r.example/v2/x/manifests/1\": unauthorized: authentication required",
                PullFailure::Unauthorized,
            ),
            (
                "Get \"http://127.0.0.1:1/v2/\": dial tcp 127.0.0.1:1: connect: connection refused",
                PullFailure::Unreachable,
            ),
            (
                "Get \"https://r:5000/v2/\": http: server gave HTTP response to HTTPS client",
                PullFailure::Unreachable,
            ),
            ("invalid reference format", PullFailure::Other),
        ];
        for (message, expected) in cases {
            assert_eq!(PullFailure::classify(message), expected, "{message}");
        }
    }

    #[test]
    fn references_split_into_repository_and_tag() {
        assert_eq!(
            split_reference("127.0.0.1:5000/sim:abc"),
            ("127.0.0.1:5000/sim", Some("abc"))
        );
        assert_eq!(
            split_reference("127.0.0.1:5000/sim"),
            ("127.0.0.1:5000/sim", Some("latest"))
        );
        assert_eq!(
            split_reference("vllm/vllm-openai"),
            ("vllm/vllm-openai", Some("latest"))
        );
        assert_eq!(split_reference("x@sha256:00"), ("x@sha256:00", None));
        assert_eq!(registry_of("127.0.0.1:5000/sim"), "127.0.0.1:5000");
        assert_eq!(registry_of("vllm/vllm-openai"), "the default registry");
    }
}
