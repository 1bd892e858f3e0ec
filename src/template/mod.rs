//! Functions read from deployment templates: SAM and CloudFormation (YAML or JSON), resolved
//! into the suite's function model with every value's origin; what only a deployed stack knows
//! is named at its line, never guessed.

mod auth;
mod auth_cfn;
mod cfn_routes;
mod code;
mod conditions;
mod environment;
pub mod function;
pub mod globals;
pub mod inline;
pub mod intrinsic;
pub mod locate;
pub mod params;
pub mod passed;
mod pseudo;
mod routes;
#[cfg(test)]
mod routes_tests;
pub mod stack;
pub mod value;
pub mod yaml;

pub use function::{Origin, Overrides, Refused, Resolved, listed, refused_words, resolve};
pub use stack::{Options, Stack};
