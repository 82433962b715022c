//! Where and when a bench ran: cores, memory, the engine and its storage, the compilers, and the
//! load at the start and at the end, as they go into the report.

use serde::{Deserialize, Serialize};
use xshell::{Shell, cmd};

use super::BASE;

/// The machine a report was measured on; `None` where it could not be found out.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Machine {
    pub date: Option<String>,
    pub nproc: Option<usize>,
    pub cpu: Option<String>,
    pub memory_bytes: Option<u64>,
    pub kernel: Option<String>,
    /// `Docker`, `Podman` or `unknown`.
    pub engine: String,
    /// `DOCKER_HOST`, when set.
    pub engine_host: Option<String>,
    pub docker_server: Option<String>,
    pub docker_api: Option<String>,
    pub docker_storage_driver: Option<String>,
    pub host_rustc: Option<String>,
    pub base_rustc: Option<String>,
    /// The 1, 5 and 15 minute load averages when the bench started.
    pub load_average: Vec<f64>,
    /// The same when it ended.
    #[serde(default)]
    pub load_average_end: Vec<f64>,
}

impl Machine {
    /// Asks the machine and the engine (`load_average_end` is left empty).
    pub fn read(sh: &Shell) -> Machine {
        let read = |c: xshell::Cmd<'_>| c.quiet().ignore_stderr().read().ok();
        let server = "{{.Server.Version}} {{.Server.APIVersion}}";
        let components = "{{range .Server.Components}}{{.Name}};{{end}}";
        let engine = match read(cmd!(sh, "docker version --format {components}")) {
            Some(c) if c.contains("Podman") => "Podman",
            Some(_) => "Docker",
            None => "unknown",
        };
        let driver = "{{.Driver}}";
        let docker = read(cmd!(sh, "docker version --format {server}")).unwrap_or_default();
        let mut docker = docker.split_whitespace().map(str::to_string);
        let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
        let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
        Machine {
            date: read(cmd!(sh, "date -u +%Y-%m-%dT%H:%M:%SZ")),
            nproc: std::thread::available_parallelism().map(|n| n.get()).ok(),
            cpu: cpu(&cpuinfo),
            memory_bytes: memory(&meminfo),
            kernel: read(cmd!(sh, "uname -r")),
            engine: engine.to_string(),
            engine_host: sh.var("DOCKER_HOST").ok(),
            docker_server: docker.next(),
            docker_api: docker.next(),
            docker_storage_driver: read(cmd!(sh, "docker info --format {driver}")),
            host_rustc: read(cmd!(sh, "rustc -V")),
            base_rustc: read(cmd!(sh, "docker run --rm --entrypoint rustc {BASE} -V")),
            load_average: load_average(),
            load_average_end: Vec::new(),
        }
    }
}

/// `MemTotal` of `/proc/meminfo`, in bytes.
fn memory(meminfo: &str) -> Option<u64> {
    meminfo
        .lines()
        .find_map(|l| l.strip_prefix("MemTotal:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .map(|kb| kb * 1024)
}

/// The first `model name` of `/proc/cpuinfo`.
fn cpu(cpuinfo: &str) -> Option<String> {
    cpuinfo
        .lines()
        .find_map(|l| l.strip_prefix("model name"))
        .map(|v| v.trim_start_matches([' ', '\t', ':']).to_string())
}

/// The 1, 5 and 15 minute load averages (Linux).
pub fn load_average() -> Vec<f64> {
    std::fs::read_to_string("/proc/loadavg")
        .unwrap_or_default()
        .split_whitespace()
        .take(3)
        .filter_map(|v| v.parse().ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn proc_files() {
        assert_eq!(
            memory("MemFree: 1 kB\nMemTotal:       24576000 kB\n"),
            Some(24576000 * 1024)
        );
        assert_eq!(memory(""), None);
        assert_eq!(
            cpu("processor\t: 0\nmodel name\t: AMD EPYC 7B13\n").as_deref(),
            Some("AMD EPYC 7B13")
        );
    }
}
