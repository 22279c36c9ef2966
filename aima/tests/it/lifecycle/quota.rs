//! Quotas against real Docker and the engine simulator: the in-process CLI acts as the OS user
//! running it, whose own `[quota.user.NAME]` table holds them even though they are an admin.

use crate::support::containers::containers_with;
use crate::support::lab::Lab;

/// The name of the OS user running the tests, as aima looks it up.
fn me() -> String {
    let out = std::process::Command::new("id")
        .arg("-un")
        .output()
        .unwrap();
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

#[test]
fn a_second_start_past_max_running_is_refused_with_exit_14_and_no_container() {
    let lab = Lab::new(&[]);
    let quota = |n: u32| {
        let text = format!("[quota.user.{}]\nmax_running = {n}\n", me());
        std::fs::write(lab.data_dir().join("config.toml"), text).unwrap();
    };
    quota(1);
    let (first, _) = lab.service();
    let (second, _) = lab.service();
    let up = lab.bring_up("start", &first, &[]);
    let first_name = up.json()["name"].as_str().unwrap().to_owned();

    let refused = lab.run_waiting("start", &second, "60", &[]).failure(14);
    let says = format!(
        "quota exceeded: user {} may run 1 service ([quota.user.{}] max_running = 1); running now: {first_name}",
        me(),
        me()
    );
    assert!(refused.stderr.contains(&says), "{refused}");
    let label = format!("aima.service={second}");
    assert!(
        containers_with(&[&label]).is_empty(),
        "no container for the refused start"
    );

    let report = lab.run(&["quota", "-o", "json"]).success();
    let row = &report.json()["quotas"][0];
    assert_eq!(
        (
            row["quota"].as_str(),
            row["limit"].as_str(),
            row["used"].as_str()
        ),
        (Some("max_running"), Some("1"), Some("1")),
        "{report}"
    );
    assert_eq!(
        row["services"][0].as_str(),
        Some(first_name.as_str()),
        "{report}"
    );

    // A lower limit stops nothing; the next start is refused all the same.
    quota(0);
    let shown = lab.run(&["service", "get", &first, "-o", "json"]).success();
    assert_eq!(shown.json()["status"], "running", "{shown}");
    let again = lab.run_waiting("start", &second, "60", &[]).failure(14);
    assert!(again.stderr.contains("may run 0 services"), "{again}");
    assert!(containers_with(&[&label]).is_empty());
}
