//! Exit codes: a stable machine contract, documented in `docs/cli.md`.

/// Every command's exit status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub(crate) enum Exit {
    /// Everything passed.
    Success = 0,
    /// At least one scenario failed, or a validated file has errors.
    Failed = 1,
    /// A scenario file is invalid, a path cannot be read, or the command line is wrong.
    Invalid = 2,
    /// The simulated ecosystem could not be set up on this machine (e.g. no loopback socket).
    Environment = 3,
    /// Interrupted (Ctrl-C or SIGTERM) before the end: 128 + SIGINT, as shells report it.
    Interrupted = 130,
}

impl From<Exit> for std::process::ExitCode {
    fn from(exit: Exit) -> Self {
        std::process::ExitCode::from(exit as u8)
    }
}
