//! lambda-ci: tests AWS Lambda functions in their real base images, through the Runtime
//! Interface Emulator those images contain.

pub mod suite;
