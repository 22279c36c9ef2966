//! The docs tested against the binary, so they cannot drift from it: the ```` ```console ````
//! examples of README.md and docs/*.md run against the engine simulator, the exit-code table
//! matches [`aima::error::Kind`], and the configuration reference lists every setting aima reads.

mod apply_file;
mod examples;
mod exit_codes;
mod markdown;
mod settings;
