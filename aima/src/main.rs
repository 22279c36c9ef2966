use std::process::ExitCode;

fn main() -> ExitCode {
    aima::cli::main()
}
