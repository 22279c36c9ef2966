//! `inference chat` and the engine cache against real Docker and the engine simulator: a chat is
//! answered through the published port, a stopped service refuses chats, every start mounts the
//! engine's named cache volume (so a restart finds its downloads), and `cache rm` removes it.

use crate::support::docker::{docker, inspect};
use crate::support::lab::Lab;

#[test]
fn a_running_service_answers_a_chat_and_restarts_mount_the_same_cache() {
    let lab = Lab::new(&[]);
    let (svc, _) = lab.service();
    lab.run(&["service", "start", &svc, "--wait", "--timeout", "60"])
        .success();

    let answer = lab
        .run(&[
            "inference",
            "chat",
            &svc,
            "hello engine",
            "--output",
            "json",
        ])
        .success()
        .json();
    assert_eq!(answer["content"], "echo: hello engine", "{answer}");
    assert_eq!(answer["model"], "tinyllama");
    let text = lab.run(&["inference", "chat", &svc, "hi"]).success();
    assert_eq!(text.stdout.trim(), "echo: hi");

    let first = lab.container_of(&svc);
    let mounts = "{{range .Mounts}}{{.Type}} {{.Name}} {{.Destination}};{{end}}";
    let first_mounts = inspect(&first, mounts);
    let volume = format!("aima-cache-vllm-{}", lab.instance());
    assert!(
        first_mounts.contains(&format!("volume {volume} /root/.cache/huggingface")),
        "{first_mounts}"
    );
    assert_eq!(
        inspect(&first, "{{.HostConfig.ShmSize}}"),
        (4u64 << 30).to_string()
    );

    lab.run(&["service", "stop", &svc]).success();
    let refused = lab.run(&["inference", "chat", &svc, "hello"]).failure(4);
    assert!(refused.stderr.contains("not running"), "{refused}");

    lab.run(&["service", "start", &svc, "--wait", "--timeout", "60"])
        .success();
    let second = lab.container_of(&svc);
    assert_ne!(first, second, "a new container");
    assert_eq!(
        inspect(&second, mounts),
        first_mounts,
        "the same cache volume"
    );

    let listed = lab.run(&["cache", "list", "-o", "json"]).success().json();
    assert_eq!(listed["items"][0]["volume"], volume.as_str(), "{listed}");
    assert_eq!(listed["items"][0]["engine"], "vllm");
    lab.run(&["cache", "rm", "vllm"]).failure(4);

    lab.run(&["service", "stop", &svc]).success();
    lab.run(&["cache", "rm", "vllm"]).success();
    let gone = docker(&["volume", "inspect", &volume]);
    assert!(!gone.status.success(), "the volume is removed");
    lab.run(&["cache", "rm", "vllm"]).failure(3);
}
