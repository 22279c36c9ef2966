//! Following Docker's event stream (`GET /events`) for containers: deaths, OOM kills and
//! removals, filtered by label on Docker's side.

use std::collections::HashMap;

use bollard::models::EventMessage;
use bollard::query_parameters::EventsOptionsBuilder;
use futures_util::StreamExt;

use super::{DockerRuntime, classify_at};
use crate::runtime::{ContainerAction, ContainerEvent, EventStream, Runtime};

impl DockerRuntime {
    /// Not bounded in time: it lasts as long as Docker keeps it open (bollard's client timeout
    /// covers only the wait for the answer's head).
    pub(super) fn event_stream(&self, labels: &[String], since: i64) -> EventStream {
        let filters = HashMap::from([
            ("type".to_owned(), vec!["container".to_owned()]),
            (
                "event".to_owned(),
                ContainerAction::FOLLOWED.map(str::to_owned).to_vec(),
            ),
            ("label".to_owned(), labels.to_vec()),
        ]);
        let options = EventsOptionsBuilder::new()
            .since(&since.to_string())
            .filters(&filters)
            .build();
        let address = self.address();
        self.client()
            .events(Some(options))
            .filter_map(move |item| {
                let out = match item {
                    Ok(message) => container_event(message).map(Ok),
                    Err(e) => Some(Err(classify_at(&address, "follow events", e))),
                };
                std::future::ready(out)
            })
            .boxed()
    }
}

/// The event aima follows in Docker's message; `None` for any other.
pub(super) fn container_event(message: EventMessage) -> Option<ContainerEvent> {
    let action = ContainerAction::parse(message.action.as_deref()?)?;
    let actor = message.actor?;
    let container = actor.id.filter(|id| !id.is_empty())?.into();
    let mut labels = actor.attributes.unwrap_or_default();
    let exit_code = labels.remove("exitCode").and_then(|c| c.parse().ok());
    Some(ContainerEvent {
        container,
        action,
        labels,
        exit_code,
    })
}

#[cfg(test)]
mod tests {
    use bollard::models::EventActor;

    use super::*;

    fn message(action: &str, attributes: &[(&str, &str)]) -> EventMessage {
        EventMessage {
            action: Some(action.to_owned()),
            actor: Some(EventActor {
                id: Some("abc123".to_owned()),
                attributes: Some(
                    attributes
                        .iter()
                        .map(|(k, v)| (k.to_string(), v.to_string()))
                        .collect(),
                ),
            }),
            ..Default::default()
        }
    }

    #[test]
    fn a_death_carries_its_exit_code_and_labels() {
        let ev = container_event(message("die", &[("exitCode", "137"), ("aima.service", "svc-1")]))
            .unwrap();
        assert_eq!(ev.action, ContainerAction::Die);
        assert_eq!(ev.exit_code, Some(137));
        assert_eq!(ev.container.as_str(), "abc123");
        assert_eq!(ev.labels.get("aima.service").map(String::as_str), Some("svc-1"));
        assert!(!ev.labels.contains_key("exitCode"));
    }

    #[test]
    fn other_actions_and_anonymous_actors_are_skipped() {
        assert_eq!(container_event(message("start", &[])), None);
        assert_eq!(container_event(message("exec_die", &[])), None);
        let no_actor = EventMessage {
            action: Some("die".to_owned()),
            ..Default::default()
        };
        assert_eq!(container_event(no_actor), None);
        let destroy = container_event(message("destroy", &[])).unwrap();
        assert_eq!((destroy.action, destroy.exit_code), (ContainerAction::Destroy, None));
    }
}
