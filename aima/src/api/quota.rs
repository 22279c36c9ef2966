//! `GET /api/v2/quota?user=NAME`: a person's limits, use and the services using them.

use axum::Json;
use axum::extract::State;

use super::ApiState;
use super::body::StrictQuery;
use super::error::{ApiResult, ErrorBodyDoc};
use crate::domain::Actor;
use crate::error::Error;
use crate::ops::quota::{self, QuotaReport};

/// `?user=NAME`; the caller when absent.
#[derive(Debug, Default, serde::Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub(crate) struct QuotaQuery {
    /// Whose quota; the caller's when absent.
    user: Option<String>,
}

#[utoipa::path(get, path = "/api/v2/quota", operation_id = "getQuota",
    summary = "Show a person's quota: each limit, its use now and the services using it.",
    params(QuotaQuery),
    responses(
        (status = 200, description = "The limits that apply, with their use", body = QuotaReport),
        (status = 400, description = "No user named and the request names no caller", body = ErrorBodyDoc),
        (status = 503, description = "Docker unavailable (a memory quota needs the host's memory)", body = ErrorBodyDoc),
    ))]
pub(crate) async fn get(
    State(state): State<ApiState>,
    actor: Option<axum::Extension<Actor>>,
    StrictQuery(q): StrictQuery<QuotaQuery>,
) -> ApiResult<Json<QuotaReport>> {
    let who = match (&actor, q.user.as_deref()) {
        (Some(axum::Extension(caller)), user) => quota::named(caller, user),
        (None, Some(user)) => quota::named(&Actor::daemon(), Some(user)),
        (None, None) => {
            return Err(Error::usage("the request names no caller: add ?user=NAME").into());
        }
    };
    let deps = state.deps.clone();
    let store = state.stores.handle().await?;
    Ok(Json(quota::report(&deps, &store, &who).await?))
}
