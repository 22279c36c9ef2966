//! `aima token create|list|revoke`: named API tokens, managed in-process by whoever may write
//! the store (an admin of it).

use super::args::{Output, TokenCommand};
use super::render;
use crate::error::Result;
use crate::host::users;
use crate::ops::tokens::{self, NewToken};
use crate::store::{Store, TokenInfo};

pub(crate) fn run(store: &mut Store, cmd: TokenCommand, output: Output) -> Result<String> {
    let me = users::this_process();
    Ok(match cmd {
        TokenCommand::Create { name, admin } => {
            created(&tokens::create_token(store, &me, &name, admin)?, output)
        }
        TokenCommand::List => listed(&tokens::list_tokens(store, &me)?, output),
        TokenCommand::Revoke { name } => revoked(&tokens::revoke_token(store, &me, &name)?, output),
    })
}

/// A token just made, shown once.
pub(crate) fn created(made: &NewToken, output: Output) -> String {
    if output == Output::Json {
        return render::to_json(made);
    }
    format!(
        "{}\n\nThe token above acts as {}{}. It is shown only now: aima keeps only \
         its hash.\nUse it with: AIMA_API_TOKEN=<token> aima --host http://HOST:PORT …",
        made.token,
        made.info.name,
        if made.info.admin { " (admin)" } else { "" }
    )
}

pub(crate) fn listed(listed: &[TokenInfo], output: Output) -> String {
    if output == Output::Json {
        render::json_list(listed)
    } else {
        table(listed)
    }
}

pub(crate) fn revoked(gone: &TokenInfo, output: Output) -> String {
    if output == Output::Json {
        render::to_json(gone)
    } else {
        format!("revoked token {}", gone.name)
    }
}

fn table(listed: &[TokenInfo]) -> String {
    let now = crate::clock::now_ms();
    let rows: Vec<Vec<String>> = listed
        .iter()
        .map(|t| {
            vec![
                t.name.clone(),
                if t.admin { "yes" } else { "no" }.to_owned(),
                crate::clock::ago(t.created_at, now),
                t.created_by.clone().unwrap_or_else(|| "-".to_owned()),
            ]
        })
        .collect();
    render::table(&["NAME", "ADMIN", "CREATED", "CREATED BY"], &rows)
}
