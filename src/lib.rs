//! lambda-ci: tests AWS Lambda functions in their real base images, through the Runtime
//! Interface Emulator those images contain.

pub mod docker;
pub mod invoke;
pub mod judge;
pub mod suite;
