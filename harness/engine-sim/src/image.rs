//! `image`: builds (or reuses) the local simulator image through the Docker
//! API and returns its reference. Nothing is ever pulled.

use std::error::Error;
use std::future::Future;
use std::time::Duration;

use bollard::Docker;
use bollard::errors::Error as DockerError;
use bollard::query_parameters::BuildImageOptionsBuilder;
use futures_util::StreamExt;

use crate::args::ImageArgs;
use crate::context;

type BoxError = Box<dyn Error + Send + Sync>;

const QUICK_CALL: Duration = Duration::from_secs(5);
const BUILD: Duration = Duration::from_secs(120);
/// Build output lines kept to explain a failure.
const LOG_TAIL: usize = 10;

pub async fn run(args: ImageArgs) -> Result<String, BoxError> {
    let docker = connect(args.docker_host.as_deref()).await?;
    let context = context::collect(&args.env)?;

    // The tag is content-derived, so an existing image is exactly what we would build.
    match bounded(
        QUICK_CALL,
        "inspect image",
        docker.inspect_image(&context.image),
    )
    .await
    {
        Ok(_) => return Ok(context.image),
        Err(e) if is_not_found(&e) => {}
        Err(e) => return Err(format!("cannot inspect {}: {e}", context.image).into()),
    }

    tracing::info!("building {}", context.image);
    bounded(
        BUILD,
        "image build",
        build(&docker, context.image.clone(), context.archive),
    )
    .await
    .map_err(|e| format!("building {} failed: {e}", context.image))?;
    Ok(context.image)
}

async fn connect(host: Option<&str>) -> Result<Docker, BoxError> {
    let target = host.map_or_else(
        || std::env::var("DOCKER_HOST").unwrap_or_else(|_| "the local socket".into()),
        str::to_owned,
    );
    let unreachable =
        |e: &dyn std::fmt::Display| format!("Docker is not reachable at {target}: {e}");
    let docker = match host {
        Some(host) => Docker::connect_with_host(host),
        None => Docker::connect_with_defaults(),
    }
    .map_err(|e| unreachable(&e))?;
    // Negotiating doubles as a ping, and is required anyway: bollard speaks a
    // newer API than older daemons (e.g. Engine 20.10 tops out at 1.41) accept.
    bounded(QUICK_CALL, "connect", docker.negotiate_version())
        .await
        .map_err(|e| unreachable(&e).into())
}

async fn build(docker: &Docker, image: String, archive: Vec<u8>) -> Result<(), BoxError> {
    let options = BuildImageOptionsBuilder::default()
        .t(&image)
        .rm(true)
        .forcerm(true)
        .build();
    let mut stream = docker.build_image(options, None, Some(bollard::body_full(archive.into())));
    let mut tail = Vec::new();
    while let Some(item) = stream.next().await {
        match item {
            Ok(info) => {
                if let Some(line) = info.stream.filter(|l| !l.trim().is_empty()) {
                    tracing::debug!("build: {}", line.trim_end());
                    if tail.len() == LOG_TAIL {
                        tail.remove(0);
                    }
                    tail.push(line.trim_end().to_owned());
                }
            }
            Err(e) => {
                let context = if tail.is_empty() {
                    String::new()
                } else {
                    format!("\n  build output:\n    {}", tail.join("\n    "))
                };
                return Err(format!("{e}{context}").into());
            }
        }
    }
    // A concurrent build of the same tag may finish in either order; both
    // produce identical content, so checking that the tag now exists suffices.
    bounded(QUICK_CALL, "inspect image", docker.inspect_image(&image))
        .await
        .map_err(|e| format!("image missing after build: {e}"))?;
    Ok(())
}

fn is_not_found(error: &BoxError) -> bool {
    matches!(
        error.downcast_ref::<DockerError>(),
        Some(DockerError::DockerResponseServerError {
            status_code: 404,
            ..
        })
    )
}

/// Applies a deadline to a Docker call so an unresponsive daemon yields an error, not a hang.
async fn bounded<T, E>(
    limit: Duration,
    what: &str,
    call: impl Future<Output = Result<T, E>>,
) -> Result<T, BoxError>
where
    E: Into<BoxError>,
{
    match tokio::time::timeout(limit, call).await {
        Ok(result) => result.map_err(Into::into),
        Err(_) => Err(format!(
            "{what} timed out after {}",
            humantime::format_duration(limit)
        )
        .into()),
    }
}
