//! The suites: each times one kind of operation on every device against its baseline.

pub mod msm;
pub mod ntt;
pub mod prove;
pub mod rollup;
pub mod serve;
