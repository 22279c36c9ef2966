//! Scenario cases for `cargo nextest run -p harness` (a libtest-mimic harness, so `--list
//! --format terse` and `--exact NAME` work). Each case runs the `harness` binary in isolation —
//! its own free port, data dir and reports dir — so cases may run in parallel. The faulty cases
//! prove the harness can fail: they wrap aima in scripts that misbehave in one way each.

mod support;

use std::process::ExitCode;

use libtest_mimic::{Arguments, Trial};

use support::cases::{Expectation, block_port_fixture, refuses_a_busy_port, scenario_case};
use support::leftovers::kill9_case;

fn main() -> ExitCode {
    let args = Arguments::from_args();
    let trials = vec![
        Trial::test(
            "fixtures::block_port_holds_and_releases",
            block_port_fixture,
        ),
        Trial::test("cli::refuses_a_busy_port", refuses_a_busy_port),
        scenario_case("s20::conformance", None, Expectation::all_pass()),
        scenario_case(
            "s20::faulty::leaky_container",
            Some("leaky.sh"),
            Expectation::failing(&["S20.C3", "S20.C7"]),
        ),
        scenario_case(
            "s20::faulty::status_creating",
            Some("creating.sh"),
            Expectation::failing(&["S20.C2"]),
        ),
        scenario_case(
            "s20::faulty::hidden_port",
            Some("hide-port.sh"),
            Expectation::failing(&["S20.C1"]),
        ),
        // A correct aima behind a wrapper that does not exec it: all pass, nothing left.
        scenario_case(
            "s20::wrapper::no_exec_leaves_no_aima",
            Some("no-exec.sh"),
            Expectation::all_pass(),
        ),
        // kill -9 of the harness at several points: nothing of the run is left.
        kill9_case("s20::kill9::with_the_daemon_up", "healthy after", false),
        kill9_case("s20::kill9::while_the_port_is_blocked", "FAULT port", false),
        kill9_case("s20::kill9::during_the_cycles", "cycle 1 start", true),
    ];
    libtest_mimic::run(&args, trials).exit_code()
}
