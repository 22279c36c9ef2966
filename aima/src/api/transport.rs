//! Which listener a request came in through. The unix socket admits only callers its file
//! permissions allow, so requests through it need no token; TCP requests do.

/// Set by the daemon's server on every request as an extension; a request without one (a
/// router driven directly, as in tests) counts as TCP.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Transport {
    Tcp,
    Unix,
}
