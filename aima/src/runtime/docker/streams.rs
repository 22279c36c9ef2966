//! The Docker calls that stream: pulling an image and reading (or following) a container's logs,
//! which their callers bound in time, and reading a log's tail, bounded here.

use bollard::Docker;
use bollard::container::LogOutput;
use bollard::errors::Error as BollardError;
use bollard::query_parameters::{CreateImageOptionsBuilder, LogsOptionsBuilder};
use futures_util::StreamExt;
use futures_util::stream::BoxStream;

use super::{CALL_SECS, DockerRuntime};
use crate::domain::ContainerId;
use crate::error::Detail;
use crate::runtime::pull::split_reference;
use crate::runtime::{PullFailure, PullProgress, RuntimeError, RuntimeResult};

impl DockerRuntime {
    pub(super) async fn pull_image(
        &self,
        image: &str,
        progress: &(dyn for<'p> Fn(&'p PullProgress) + Send + Sync),
    ) -> RuntimeResult<()> {
        let (repository, tag) = split_reference(image);
        let mut options = CreateImageOptionsBuilder::new().from_image(repository);
        if let Some(tag) = tag {
            options = options.tag(tag);
        }
        let client = self.client();
        let mut stream = client.create_image(Some(options.build()), None, None);
        let failed = |message: String| RuntimeError::Pull {
            image: image.to_owned(),
            failure: PullFailure::classify(&message),
            detail: Detail(message),
        };
        while let Some(item) = stream.next().await {
            let info = match item {
                Ok(info) => info,
                Err(BollardError::DockerResponseServerError { message, .. })
                | Err(BollardError::DockerStreamError { error: message }) => {
                    return Err(failed(message));
                }
                Err(other) => return Err(self.classify("pull image", other)),
            };
            if let Some(error) = info.error_detail.and_then(|d| d.message) {
                return Err(failed(error));
            }
            let detail = info.progress_detail.unwrap_or_default();
            progress(&PullProgress {
                layer: info.id.unwrap_or_default(),
                status: info.status.unwrap_or_default(),
                current: detail.current.and_then(|c| u64::try_from(c).ok()),
                total: detail.total.and_then(|t| u64::try_from(t).ok()),
            });
        }
        Ok(())
    }

    /// The last `lines` non-blank log lines of a container, or with `of_service` of a Swarm
    /// service's tasks, read in one call bounded in time.
    pub(in crate::runtime) async fn tail_lines(
        &self,
        of_service: bool,
        id: &ContainerId,
        lines: usize,
    ) -> RuntimeResult<Vec<String>> {
        let collect = async {
            let client = self.client();
            let mut stream = log_stream(&client, of_service, id, &lines.to_string(), false);
            let mut text = String::new();
            while let Some(chunk) = stream.next().await {
                text.push_str(&chunk?.to_string());
            }
            Ok(text)
        };
        let operation = if of_service {
            "read service logs"
        } else {
            "read logs"
        };
        let text = self.bounded(operation, CALL_SECS, collect).await?;
        Ok(text
            .lines()
            .map(str::to_owned)
            .filter(|l| !l.trim().is_empty())
            .collect())
    }

    /// The log lines of a container, or with `of_service` of a Swarm service's tasks.
    pub(in crate::runtime) async fn stream_logs(
        &self,
        of_service: bool,
        id: &ContainerId,
        tail: Option<usize>,
        follow: bool,
        sink: &mut (dyn FnMut(String) + Send),
    ) -> RuntimeResult<()> {
        let tail = tail.map_or_else(|| "all".to_owned(), |n| n.to_string());
        let operation = if of_service {
            "read service logs"
        } else {
            "read logs"
        };
        let client = self.client();
        let mut stream = log_stream(&client, of_service, id, &tail, follow);
        // Docker hands over chunks, not lines: hold back a partial line until it is complete.
        let mut partial = String::new();
        while let Some(chunk) = stream.next().await {
            let chunk = match chunk {
                Ok(chunk) => chunk,
                Err(BollardError::DockerResponseServerError {
                    status_code: 404, ..
                }) => return Err(RuntimeError::NoSuchContainer(id.clone())),
                Err(e) => return Err(self.classify(operation, e)),
            };
            partial.push_str(&chunk.to_string());
            while let Some(end) = partial.find('\n') {
                let line: String = partial.drain(..=end).collect();
                sink(line.trim_end_matches(['\n', '\r']).to_owned());
            }
        }
        if !partial.is_empty() {
            sink(partial);
        }
        Ok(())
    }
}

/// Docker's log stream (stdout and stderr, the last `tail` lines or "all") of a container, or
/// with `of_service` of a Swarm service's tasks.
fn log_stream<'a>(
    client: &'a Docker,
    of_service: bool,
    id: &'a ContainerId,
    tail: &str,
    follow: bool,
) -> BoxStream<'a, Result<LogOutput, BollardError>> {
    let options = LogsOptionsBuilder::new()
        .stdout(true)
        .stderr(true)
        .follow(follow)
        .tail(tail)
        .build();
    if of_service {
        client.service_logs(id.as_str(), Some(options)).boxed()
    } else {
        client.logs(id.as_str(), Some(options)).boxed()
    }
}
