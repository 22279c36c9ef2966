//! Docker away, four ways: an invalid `DOCKER_HOST`, a refused connection, a missing socket and
//! an endpoint that accepts and never answers. Each is exit code 6 naming the address, within
//! seconds, and the service is `failed`. These need no Docker daemon at all.

use std::net::TcpListener;
use std::time::Duration;

use crate::support::aima::Aima;
use crate::support::ports::free_port;

/// "Within a few seconds, never a hang": generous for a loaded CI machine, far below a hang.
const PROMPT: Duration = Duration::from_secs(15);

#[test]
fn an_out_of_range_docker_host_port_is_named() {
    let (aima, _, svc) = Aima::seeded();
    let env = [("DOCKER_HOST", "tcp://127.0.0.1:99999")];

    let out = aima
        .run_env(
            &env,
            &["service", "start", &svc, "--wait", "--timeout", "30"],
        )
        .failure(6)
        .stderr_has("DOCKER_HOST=tcp://127.0.0.1:99999")
        .stderr_has("out of range")
        .stderr_has("1 start attempt(s)");
    eprintln!("invalid DOCKER_HOST reported after {:?}", out.elapsed);
    assert_eq!(aima.listed_service(&svc)["status"], "failed");
}

#[test]
fn a_refused_connection_is_named_with_its_address() {
    let (aima, _, svc) = Aima::seeded();
    let address = format!("tcp://127.0.0.1:{}", free_port());

    let out = aima
        .run_env(&[("DOCKER_HOST", &address)], &["service", "start", &svc])
        .failure(6)
        .stderr_has(&address)
        .stderr_has("help: ");
    assert!(out.elapsed < PROMPT, "{out}");
    assert_eq!(aima.listed_service(&svc)["status"], "failed");
}

#[test]
fn a_missing_socket_is_named() {
    let (aima, _, svc) = Aima::seeded();
    let env = [("DOCKER_HOST", "unix:///nonexistent/docker.sock")];

    aima.run_env(&env, &["service", "start", &svc])
        .failure(6)
        .stderr_has("unix:///nonexistent/docker.sock")
        .stderr_has("does not exist");
}

#[test]
fn an_endpoint_that_never_answers_fails_within_seconds() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let address = format!("tcp://{}", listener.local_addr().unwrap());
    // Accept every connection and hold it open without a word, like a wedged daemon.
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for stream in listener.incoming().flatten() {
            held.push(stream);
        }
    });
    let (aima, _, svc) = Aima::seeded();

    let out = aima
        .run_env(
            &[("DOCKER_HOST", &address)],
            &["service", "start", &svc, "--wait"],
        )
        .failure(6)
        .stderr_has(&address);
    eprintln!("silent Docker endpoint reported after {:?}", out.elapsed);
    assert!(out.elapsed < PROMPT, "{out}");
    assert_eq!(aima.listed_service(&svc)["status"], "failed");
}
