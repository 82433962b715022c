//! The integration tests: one binary, a module per area. Tests that need Docker or the OpenShift
//! schemas skip with a printed reason unless `XTASK_S2I_REQUIRE_DOCKER=1` /
//! `XTASK_S2I_REQUIRE_SCHEMAS=1` (CI sets both), in which case they fail loudly.

mod adopt;
mod config;
mod conformance;
mod docker;
mod fixtures;
mod okd;
mod policy;
mod rehearse;
mod render;
mod source;
mod support;
