//! The integration tests: one binary, a module per area. Tests that need Docker or Podman skip
//! with a printed reason unless `XTASK_S2I_REQUIRE_DOCKER=1` / `XTASK_S2I_REQUIRE_PODMAN=1` (CI
//! sets them), in which case they fail loudly; the OpenShift schemas are in the repository
//! (`tests/data/schemas`), so the schema checks always run. `XTASK_S2I_TEST_ENGINE=podman` runs
//! the Docker tests against Podman.

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
mod services;
mod source;
mod support;
