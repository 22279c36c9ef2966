//! Token routes (admins only): `GET/POST /api/v2/tokens`, `DELETE /api/v2/tokens/{name}`, as
//! `aima token list|create|revoke`.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::{Extension, Json};

use super::ApiState;
use super::body::JsonBody;
use super::error::{ApiResult, ErrorBodyDoc};
use crate::domain::Actor;
use crate::ops::tokens::{self, NewToken};
use crate::store::TokenInfo;

/// The body of `POST /tokens`.
#[derive(Debug, Clone, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct CreateTokenBody {
    /// The user the token acts as.
    name: String,
    /// Whether it acts as an admin.
    #[serde(default)]
    admin: bool,
}

/// What `GET /tokens` answers: the named tokens, never the tokens themselves.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub(crate) struct TokenList {
    items: Vec<TokenInfo>,
    total: usize,
}

#[utoipa::path(get, path = "/api/v2/tokens", operation_id = "listTokens",
    summary = "List the named API tokens (admins only); never the tokens themselves.",
    responses(
        (status = 200, description = "The named tokens, by name", body = TokenList),
        (status = 403, description = "Not an admin", body = ErrorBodyDoc),
    ))]
pub(crate) async fn list(
    State(state): State<ApiState>,
    Extension(actor): Extension<Actor>,
) -> ApiResult<Json<TokenList>> {
    let who = actor.clone();
    let items = state
        .stores
        .call_as(&actor, move |s| tokens::list_tokens(s, &who))
        .await?;
    Ok(Json(TokenList {
        total: items.len(),
        items,
    }))
}

#[utoipa::path(post, path = "/api/v2/tokens", operation_id = "createToken",
    summary = "Make a named token (admins only); the answer is the only place it is shown.",
    request_body = CreateTokenBody,
    responses(
        (status = 201, description = "The token, shown once", body = NewToken),
        (status = 400, description = "A bad name", body = ErrorBodyDoc),
        (status = 403, description = "Not an admin", body = ErrorBodyDoc),
        (status = 409, description = "The name is taken", body = ErrorBodyDoc),
    ))]
pub(crate) async fn create(
    State(state): State<ApiState>,
    Extension(actor): Extension<Actor>,
    JsonBody(body): JsonBody<CreateTokenBody>,
) -> ApiResult<(StatusCode, Json<NewToken>)> {
    let who = actor.clone();
    let made = state
        .stores
        .call_as(&actor, move |s| {
            tokens::create_token(s, &who, &body.name, body.admin)
        })
        .await?;
    Ok((StatusCode::CREATED, Json(made)))
}

#[utoipa::path(delete, path = "/api/v2/tokens/{name}", operation_id = "revokeToken",
    summary = "Revoke a named token (admins only): its next request is refused.",
    params(("name" = String, Path, description = "The token's name")),
    responses(
        (status = 200, description = "The revoked token", body = TokenInfo),
        (status = 403, description = "Not an admin", body = ErrorBodyDoc),
        (status = 404, description = "No such token", body = ErrorBodyDoc),
    ))]
pub(crate) async fn revoke(
    State(state): State<ApiState>,
    Extension(actor): Extension<Actor>,
    Path(name): Path<String>,
) -> ApiResult<Json<TokenInfo>> {
    let who = actor.clone();
    let gone = state
        .stores
        .call_as(&actor, move |s| tokens::revoke_token(s, &who, &name))
        .await?;
    Ok(Json(gone))
}
