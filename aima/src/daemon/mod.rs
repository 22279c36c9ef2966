//! `aima start`: the daemon.

use crate::config::Config;
use crate::error::{Error, Result};

pub async fn run(_config: Config, _listen: Option<String>) -> Result<()> {
    Err(Error::internal("the daemon is not built yet"))
}
