//! The exit codes of lambda-ci, documented in docs/reports.md.

/// Every case passed.
pub const SUCCESS: u8 = 0;
/// At least one case failed or ended with an error.
pub const CASES_FAILED: u8 = 1;
/// The input is invalid: suite files, command-line arguments, missing files.
pub const INVALID_INPUT: u8 = 2;
/// The infrastructure failed: the Docker engine cannot be reached, a report cannot be written.
pub const INFRASTRUCTURE: u8 = 3;
/// `--filter` or `--partition` selected no case, so nothing was run (pytest's 5 too): a
/// misspelt filter must not pass in CI.
pub const NO_CASES: u8 = 5;
/// The run was interrupted by Ctrl-C (SIGINT); its containers were removed.
pub const INTERRUPTED: u8 = 130;
/// The run was stopped by SIGTERM; its containers were removed.
pub const TERMINATED: u8 = 143;
/// lambda-ci itself failed unexpectedly; its containers were removed.
pub const INTERNAL: u8 = 101;
