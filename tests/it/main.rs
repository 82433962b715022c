//! The integration tests: one binary, a module per area. Tests that need Docker, Podman or the
//! OpenShift schemas skip with a printed reason unless `XTASK_S2I_REQUIRE_DOCKER=1` /
//! `XTASK_S2I_REQUIRE_PODMAN=1` / `XTASK_S2I_REQUIRE_SCHEMAS=1` (CI sets them), in which case they
//! fail loudly. `XTASK_S2I_TEST_ENGINE=podman` runs the Docker tests against Podman.

mod adopt;
mod config;
mod conformance;
mod docker;
mod fixtures;
mod json;
mod msrv;
mod okd;
mod podman;
mod policy;
mod rehearse;
mod render;
mod sequence;
mod source;
mod support;
