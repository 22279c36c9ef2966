//! Scenario cases for `cargo nextest run -p harness` (a libtest-mimic harness, so `--list
//! --format terse` and `--exact NAME` work). Each case runs the `harness` binary in isolation —
//! its own free port, data dir and reports dir — so cases may run in parallel. The faulty cases
//! prove the harness can fail: they wrap aima in scripts that misbehave in one way each.

mod support;

use std::process::ExitCode;

use libtest_mimic::{Arguments, Trial};

use support::cases::{
    Expectation, all_fails_on_a_scenario_missing_from_the_manifest,
    all_fails_when_a_scenario_panics, block_port_fixture, refuses_a_busy_port,
    refuses_a_scenario_without_a_swarm_variant, root_scenario_case, scenario_case,
};
use support::chaos::{chaos_case, refuses_an_unknown_fault};
use support::leftovers::kill9_case;

fn main() -> ExitCode {
    let args = Arguments::from_args();
    let trials = vec![
        Trial::test(
            "fixtures::block_port_holds_and_releases",
            block_port_fixture,
        ),
        Trial::test("cli::refuses_a_busy_port", refuses_a_busy_port),
        Trial::test(
            "cli::refuses_a_scenario_without_a_swarm_variant",
            refuses_a_scenario_without_a_swarm_variant,
        ),
        Trial::test(
            "catalog::all_fails_on_a_scenario_missing_from_the_manifest",
            all_fails_on_a_scenario_missing_from_the_manifest,
        ),
        all_fails_when_a_scenario_panics(),
        scenario_case("s06::conformance", 6, None, Expectation::all_pass()),
        scenario_case(
            "s06::faulty::stop_leaks_a_container",
            6,
            Some("stop-leak.sh"),
            Expectation::failing(&["S6.C5"]),
        ),
        scenario_case("s07::conformance", 7, None, Expectation::all_pass()),
        scenario_case(
            "s07::faulty::prune_removes_everything",
            7,
            Some("prune-everything.sh"),
            Expectation::failing(&["S7.C3"]),
        ),
        scenario_case("s13::conformance", 13, None, Expectation::all_pass()),
        scenario_case(
            "s13::faulty::plain_text_errors",
            13,
            Some("plain-errors.sh"),
            Expectation::failing(&["S13.C2", "S13.C3", "S13.C4", "S13.C5"]),
        ),
        scenario_case("s15::conformance", 15, None, Expectation::all_pass()),
        scenario_case(
            "s15::faulty::token_in_the_log",
            15,
            Some("log-token.sh"),
            Expectation::failing(&["S15.C5"]),
        ),
        scenario_case("s16::conformance", 16, None, Expectation::all_pass()),
        scenario_case(
            "s16::faulty::stop_stops_every_service",
            16,
            Some("stop-all.sh"),
            Expectation::failing(&["S16.C3"]),
        ),
        scenario_case("s19::conformance", 19, None, Expectation::all_pass()),
        scenario_case(
            "s19::faulty::restart_stops_every_service",
            19,
            Some("restart-stops-all.sh"),
            Expectation::failing(&["S19.C2", "S19.C4"]),
        ),
        scenario_case("s20::conformance", 20, None, Expectation::all_pass()),
        scenario_case(
            "s20::faulty::leaky_container",
            20,
            Some("leaky.sh"),
            Expectation::failing(&["S20.C3", "S20.C7"]),
        ),
        scenario_case(
            "s20::faulty::status_creating",
            20,
            Some("creating.sh"),
            Expectation::failing(&["S20.C2"]),
        ),
        scenario_case(
            "s20::faulty::hidden_port",
            20,
            Some("hide-port.sh"),
            Expectation::failing(&["S20.C1"]),
        ),
        scenario_case("s21::conformance", 21, None, Expectation::all_pass()),
        scenario_case(
            "s21::faulty::timeout_leaves_a_container",
            21,
            Some("timeout-leak.sh"),
            Expectation::failing(&["S21.C2"]),
        ),
        scenario_case("s22::conformance", 22, None, Expectation::all_pass()),
        scenario_case(
            "s22::faulty::term_exits_1",
            22,
            Some("term-exit-1.sh"),
            Expectation::failing(&["S22.C2"]),
        ),
        scenario_case("s23::conformance", 23, None, Expectation::all_pass()),
        scenario_case(
            "s23::faulty::ignores_the_memory_limit",
            23,
            Some("ignore-memory.sh"),
            Expectation::failing(&["S23.C1", "S23.C2", "S23.C3"]),
        ),
        scenario_case("s25::conformance", 25, None, Expectation::all_pass()),
        scenario_case(
            "s25::faulty::restart_policy_ignored",
            25,
            Some("no-restart.sh"),
            Expectation::failing(&["S25.C1", "S25.C2", "S25.C3", "S25.C4", "S25.C5", "S25.C6"]),
        ),
        root_scenario_case("s26::conformance", 26, None, Expectation::all_pass()),
        // Every client command reaches the daemon as its admin: nobody's ownership or quota
        // holds, and the events name `admin`; root's own stop (S26.C3) still works.
        root_scenario_case(
            "s26::faulty::everyone_acts_as_admin",
            26,
            Some("as-admin.sh"),
            Expectation::failing(&["S26.C1", "S26.C2", "S26.C4", "S26.C5", "S26.C6"]),
        ),
        // A correct aima behind a wrapper that does not exec it: all pass, nothing left.
        scenario_case(
            "s20::wrapper::no_exec_leaves_no_aima",
            20,
            Some("no-exec.sh"),
            Expectation::all_pass(),
        ),
        // harness chaos: a short seeded run passes on aima and catches each faulty aima (the
        // seeds are recorded in docs/harness.md#chaos).
        Trial::test("chaos::refuses_an_unknown_fault", refuses_an_unknown_fault),
        chaos_case(
            "chaos::conformance",
            None,
            &["--seconds", "25", "--seed", "1"],
            &[],
        ),
        chaos_case(
            "chaos::faulty::killed_start_leaves_a_container",
            Some("killed-start-leak.sh"),
            &[
                "--seconds",
                "25",
                "--seed",
                "1",
                "--faults",
                "kill-starter,engine-slow",
                "--shrink-secs",
                "0",
            ],
            &["leftover-container"],
        ),
        chaos_case(
            "chaos::faulty::starter_death_leaves_it_starting",
            Some("stuck-starting.sh"),
            &[
                "--seconds",
                "25",
                "--seed",
                "1",
                "--workers",
                "1",
                "--faults",
                "kill-starter,engine-slow",
                "--shrink-secs",
                "0",
            ],
            &["starting-after-starter-died"],
        ),
        chaos_case(
            "chaos::faulty::daemon_loses_acknowledged_writes",
            Some("lose-writes.sh"),
            &[
                "--seconds",
                "25",
                "--seed",
                "1",
                "--faults",
                "kill-daemon",
                "--shrink-secs",
                "0",
            ],
            &["acknowledged-service-lost"],
        ),
        chaos_case(
            "chaos::faulty::restart_policies_dropped",
            Some("no-restart.sh"),
            &[
                "--seconds",
                "45",
                "--seed",
                "5",
                "--workers",
                "1",
                "--services",
                "3",
                "--faults",
                "docker-kill",
                "--shrink-secs",
                "0",
            ],
            &["supervised-not-taken-up"],
        ),
        // kill -9 of the harness at several points: nothing of the run is left.
        kill9_case("s20::kill9::with_the_daemon_up", "healthy after", false),
        kill9_case("s20::kill9::while_the_port_is_blocked", "FAULT port", false),
        kill9_case("s20::kill9::during_the_cycles", "cycle 1 start", true),
    ];
    libtest_mimic::run(&args, trials).exit_code()
}
