//! Real Docker, an engine that crashes at start: a generic error is retried and every attempt
//! is reported; out of memory is not retried. Either way the service is `failed` and no
//! container is left.

use crate::support::lab::Lab;

#[test]
fn an_engine_crashing_at_start_is_retried_and_every_attempt_is_reported() {
    let lab = Lab::new(&["AIMA_SIM_CRASH=error"]);
    let (svc, _) = lab.service();

    let out = lab
        .run(&["service", "start", &svc, "--wait", "--timeout", "60"])
        .failure(7)
        .stderr_has("3 start attempt(s)")
        .stderr_has("attempt 1/3")
        .stderr_has("attempt 2/3")
        .stderr_has("attempt 3/3")
        .stderr_has("Engine core initialization failed")
        .stderr_has("help: ");
    eprintln!("crash-looping start failed after {:?}", out.elapsed);

    lab.listed_failed(&svc, 3);
    assert!(lab.containers().is_empty(), "left: {:?}", lab.containers());
}

#[test]
fn an_engine_out_of_memory_is_not_retried() {
    let lab = Lab::new(&["AIMA_SIM_CRASH=oom"]);
    let (svc, _) = lab.service();

    lab.run(&["service", "start", &svc, "--wait", "--timeout", "60"])
        .failure(7)
        .stderr_has("1 start attempt(s)")
        .stderr_has("out of memory");

    lab.listed_failed(&svc, 1);
    assert!(lab.containers().is_empty(), "left: {:?}", lab.containers());
}
