//! The workload step: every container of a committed Deployment or CronJob whose image is one the
//! rehearsal built (by its `image.openshift.io/triggers` annotation, else its `image`) is run as
//! `restricted-v2` runs pods — an arbitrary UID of group 0, a read-only root filesystem, no
//! capabilities, no privilege escalation — with the container's `env`, `command` and `args`.
//!
//! A Deployment with a readiness probe must pass it (HTTP GET or TCP, against the container's IP
//! on its network, within the probe's own deadline); one without must still be running after a
//! moment (a container that exits is a CrashLoopBackOff in the cluster). A CronJob's container
//! must exit 0. The engine's container run ([`crate::engine::step::ContainerRun`]) creates,
//! starts and removes the container in every case; this module watches it.

use std::io::{Read, Write};
use std::net::{IpAddr, SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result, anyhow, bail};

use super::chain::Step;
use super::manifests::{Container, PortRef, Probe, Workload};
use super::{Rehearsal, UID};
use crate::Error;
use crate::engine::client::ContainerSpec;
use crate::engine::step::ContainerRun;
use crate::sink::Event;

/// How long a Deployment without a probe must keep running.
const SETTLE: Duration = Duration::from_secs(2);
/// How long a CronJob's container may run.
const JOB_LIMIT: Duration = Duration::from_secs(60);

impl Rehearsal<'_, '_, '_> {
    pub(super) async fn run_workloads(&self, steps: &[Step<'_>]) -> Result<()> {
        let mut ran = 0;
        for w in &self.manifests.workloads {
            for c in &w.pod.containers {
                let Some(step) = step_for(w, c, steps) else {
                    continue;
                };
                ran += 1;
                self.run_container(w, c, step).await.map_err(|e| {
                    e.context(format!(
                        "the rehearsal of the {} `{}` (`{}` at {}) failed, container `{}`",
                        w.kind,
                        w.name,
                        w.file.display(),
                        self.committed.short(),
                        c.name
                    ))
                })?;
            }
        }
        if ran == 0 {
            self.status(
                "Skipped",
                "running the image: no committed Deployment or CronJob runs an image these BuildConfigs build",
            );
        }
        Ok(())
    }

    async fn run_container(&self, w: &Workload, c: &Container, step: &Step<'_>) -> Result<()> {
        let mut env = Vec::new();
        for e in &c.env {
            match (&e.value, &e.value_from) {
                (_, Some(_)) => self.sink.event(Event::warning(format!(
                    "`{}` of the container `{}` comes from `valueFrom`, which the rehearsal leaves unset",
                    e.name, c.name
                ))),
                (v, None) => env.push(format!("{}={}", e.name, v.as_deref().unwrap_or(""))),
            }
        }
        for e in &c.env_from {
            let what = match (&e.secret_ref, &e.config_map_ref) {
                (Some(s), _) => format!("the Secret `{}`", s.name),
                (None, Some(m)) => format!("the ConfigMap `{}`", m.name),
                (None, None) => "an `envFrom` source".to_string(),
            };
            self.sink.event(Event::warning(format!(
                "the container `{}` takes its environment from {what} (`envFrom`), which the rehearsal cannot supply locally: those variables are unset",
                c.name
            )));
        }
        let tmpfs = self.tmpfs(w, c);
        let how = how(step, c, &tmpfs);
        self.status("Running", format!("{} `{}` ({how})", w.kind, w.name));
        let run = ContainerRun {
            log: c.name.clone(),
            spec: ContainerSpec {
                image: step.local.clone(),
                user: Some(format!("{UID}:0")),
                env: Some(env),
                entrypoint: (!c.command.is_empty()).then(|| c.command.clone()),
                cmd: (!c.args.is_empty()).then(|| c.args.clone()),
                restricted: true,
                tmpfs,
                ..Default::default()
            },
            ..Default::default()
        };
        self.runner()
            .run_watched(run, async |container| self.watch(w, c, container).await)
            .await
    }

    /// The container's `emptyDir` mounts, as tmpfs mounts (what the kubelet gives a pod whose
    /// root is read-only); other volumes are left out with a warning.
    fn tmpfs(&self, w: &Workload, c: &Container) -> Vec<String> {
        let mut out = Vec::new();
        for m in &c.volume_mounts {
            let volume = w.pod.volumes.iter().find(|v| v.name == m.name);
            match volume {
                Some(v) if v.empty_dir.is_some() => out.push(m.mount_path.clone()),
                _ => self.sink.event(Event::warning(format!(
                    "the volume `{}` of the container `{}` is not an `emptyDir`, which the rehearsal leaves unmounted",
                    m.name, c.name
                ))),
            }
        }
        out
    }

    /// Watches the started container as the workload's controller would: a job until it exits,
    /// a Deployment until its readiness probe answers (or for a while without one).
    async fn watch(&self, w: &Workload, c: &Container, container: &str) -> Result<()> {
        let started = Instant::now();
        if w.kind == "CronJob" {
            return self.watch_job(w, container, started).await;
        }
        match &c.readiness_probe {
            Some(probe) => self.watch_ready(w, c, probe, container, started).await,
            None => self.watch_unprobed(w, container).await,
        }
    }

    /// A job's container: it must exit 0 (or still run at the rehearsal's limit).
    async fn watch_job(&self, w: &Workload, container: &str, started: Instant) -> Result<()> {
        while started.elapsed() < JOB_LIMIT {
            if let Some(code) = self.exited(container).await? {
                if code != 0 {
                    bail!("step `run`: the job's container exited with code {code}");
                }
                self.status(
                    "Ran",
                    format!(
                        "CronJob `{}`: exit code 0 in {:.1}s",
                        w.name,
                        started.elapsed().as_secs_f64()
                    ),
                );
                return Ok(());
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        self.status(
            "Stopped",
            format!(
                "CronJob `{}`: still running after {}s",
                w.name,
                JOB_LIMIT.as_secs()
            ),
        );
        Ok(())
    }

    /// A Deployment's container without a readiness probe: it must still run after a while.
    async fn watch_unprobed(&self, w: &Workload, container: &str) -> Result<()> {
        tokio::time::sleep(SETTLE).await;
        if let Some(code) = self.exited(container).await? {
            return Err(Error::new(format!(
                "step `run`: the container exited with code {code} within {}s; a Deployment \
                 restarts it forever (CrashLoopBackOff)",
                SETTLE.as_secs()
            ))
            .note(
                "a program that exits belongs in a CronJob or no workload; a service should \
                 get a readiness probe",
            )
            .into());
        }
        self.status(
            "Running",
            format!(
                "Deployment `{}`: still up after {}s (no readiness probe to wait for)",
                w.name,
                SETTLE.as_secs()
            ),
        );
        Ok(())
    }

    /// A Deployment's container with a readiness probe: probed until it answers or the probe's
    /// deadline passes.
    async fn watch_ready(
        &self,
        w: &Workload,
        c: &Container,
        probe: &Probe,
        container: &str,
        started: Instant,
    ) -> Result<()> {
        let (port, http_path) = probe_target(c, probe)?;
        let limit = probe_deadline(probe);
        let what = match &http_path {
            Some(p) => format!("GET {p} on port {port}"),
            None => format!("TCP port {port}"),
        };
        loop {
            if let Some(code) = self.exited(container).await? {
                bail!(
                    "step `readiness probe`: the container exited with code {code} before it was ready ({what})"
                );
            }
            let ip = self.container_ip(container).await?;
            let addr = SocketAddr::new(ip, port);
            let answer = tokio::task::spawn_blocking({
                let path = http_path.clone();
                move || probe_once(addr, path.as_deref())
            })
            .await
            .unwrap_or_else(|e| Err(e.to_string()));
            match answer {
                Ok(detail) => {
                    self.status(
                        "Ready",
                        format!(
                            "{} `{}`: readiness probe {what} {detail} after {:.1}s",
                            w.kind,
                            w.name,
                            started.elapsed().as_secs_f64()
                        ),
                    );
                    return Ok(());
                }
                Err(why) if started.elapsed() > limit => bail!(
                    "step `readiness probe`: {what} did not succeed within {}s: {why}",
                    limit.as_secs()
                ),
                Err(_) => tokio::time::sleep(Duration::from_millis(250)).await,
            }
        }
    }

    /// The exit code when the container is no longer running.
    async fn exited(&self, container: &str) -> Result<Option<i64>> {
        let state = self.docker.container(container).await?;
        Ok((!state.running).then(|| state.exit_code.unwrap_or(-1)))
    }

    async fn container_ip(&self, container: &str) -> Result<IpAddr> {
        let ip = self.docker.container(container).await?.ip.ok_or_else(|| {
            anyhow!("step `readiness probe`: the container has no IP address on a Docker network")
        })?;
        ip.parse()
            .with_context(|| format!("the container's IP address `{ip}`"))
    }
}

/// How the container runs, for its status line: the image, the user, the restrictions, the
/// `emptyDir` mounts and the arguments.
fn how(step: &Step<'_>, c: &Container, tmpfs: &[String]) -> String {
    let mut how = format!("{} as {UID}:0, read-only root, no capabilities", step.local);
    for t in tmpfs {
        how.push_str(&format!(", emptyDir at {t}"));
    }
    if !c.args.is_empty() {
        how.push_str(&format!(", args {:?}", c.args));
    }
    how
}

/// The rehearsal step whose image `c` of `w` runs.
fn step_for<'s, 'm>(w: &Workload, c: &Container, steps: &'s [Step<'m>]) -> Option<&'s Step<'m>> {
    let qualified = |n: &str| {
        if n.contains(':') {
            n.to_string()
        } else {
            format!("{n}:latest")
        }
    };
    let by_trigger = w
        .triggers
        .iter()
        .filter(|(_, name)| name.is_empty() || *name == c.name)
        .find_map(|(istag, _)| steps.iter().find(|s| s.output == qualified(istag)));
    by_trigger.or_else(|| {
        let image = qualified(
            Some(c.image.as_str())
                .filter(|i| !i.trim().is_empty())?
                .rsplit('/')
                .next()?,
        );
        steps.iter().find(|s| s.output == image)
    })
}

/// The port number and, for an HTTP probe, the path. An `HTTPS` probe (a program that serves
/// TLS itself) is rehearsed as a TCP connect: the rehearsal speaks no TLS.
fn probe_target(c: &Container, probe: &Probe) -> Result<(u16, Option<String>)> {
    let (port, path) = match (&probe.http_get, &probe.tcp_socket) {
        (Some(h), _) if h.scheme.as_deref() == Some("HTTPS") => (&h.port, None),
        (Some(h), _) => (&h.port, Some(h.path.clone().unwrap_or_else(|| "/".into()))),
        (None, Some(t)) => (&t.port, None),
        (None, None) => {
            bail!("step `readiness probe`: only `httpGet` and `tcpSocket` probes are rehearsed")
        }
    };
    let number = match port {
        PortRef::Number(n) => *n,
        PortRef::Name(name) => c
            .ports
            .iter()
            .find(|p| p.name == *name)
            .map(|p| p.container_port)
            .ok_or_else(|| {
                anyhow!(
                    "step `readiness probe`: its port `{name}` is not a named port of the container"
                )
            })?,
    };
    Ok((number, path))
}

/// `initialDelaySeconds + failureThreshold * periodSeconds` (Kubernetes defaults 0, 3, 10), at
/// least 10 s.
fn probe_deadline(p: &Probe) -> Duration {
    let secs = p.initial_delay_seconds.unwrap_or(0)
        + p.failure_threshold.unwrap_or(3) * p.period_seconds.unwrap_or(10);
    Duration::from_secs(secs.max(10).into())
}

/// One probe: `Ok(detail)` when it succeeds (HTTP 200-399, or a TCP connection).
fn probe_once(addr: SocketAddr, path: Option<&str>) -> Result<String, String> {
    let mut s =
        TcpStream::connect_timeout(&addr, Duration::from_secs(1)).map_err(|e| e.to_string())?;
    let Some(path) = path else {
        return Ok("connected".into());
    };
    let _ = s.set_read_timeout(Some(Duration::from_secs(1)));
    // One write: a server may answer and close as soon as it has read the request line.
    let request =
        format!("GET {path} HTTP/1.0\r\nHost: {addr}\r\nUser-Agent: kube-probe/xtask-s2i\r\n\r\n");
    s.write_all(request.as_bytes()).map_err(|e| e.to_string())?;
    let mut head = Vec::new();
    let mut buf = [0u8; 512];
    while !head.windows(2).any(|w| w == b"\r\n") {
        match s.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => head.extend_from_slice(&buf[..n]),
            Err(e) => return Err(e.to_string()),
        }
    }
    let line = String::from_utf8_lossy(&head);
    let status: u16 = line
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .ok_or_else(|| {
            format!(
                "not an HTTP answer: {:?}",
                line.lines().next().unwrap_or("")
            )
        })?;
    if (200..400).contains(&status) {
        Ok(format!("answered {status}"))
    } else {
        Err(format!("it answered {status}"))
    }
}

#[cfg(test)]
mod tests {
    use std::io::BufRead;

    use super::*;

    /// A server that answers each connection with `status`.
    fn serve(status: u16) -> SocketAddr {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        std::thread::spawn(move || {
            for mut s in listener.incoming().flatten() {
                let mut line = String::new();
                let _ = std::io::BufReader::new(&s).read_line(&mut line);
                let _ = write!(s, "HTTP/1.1 {status} X\r\nContent-Length: 0\r\n\r\n");
            }
        });
        addr
    }

    #[test]
    fn probes_succeed_on_2xx_and_3xx_only() {
        assert_eq!(
            probe_once(serve(200), Some("/healthz")),
            Ok("answered 200".into())
        );
        assert_eq!(probe_once(serve(302), Some("/")), Ok("answered 302".into()));
        assert_eq!(
            probe_once(serve(503), Some("/")),
            Err("it answered 503".into())
        );
        assert_eq!(probe_once(serve(200), None), Ok("connected".into()));
        let closed = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap();
        assert!(probe_once(closed, None).is_err());
    }

    #[test]
    fn probe_ports_by_number_or_name() {
        let c = Container {
            ports: vec![crate::okd::model::ContainerPort {
                name: "http".into(),
                container_port: 8080,
                protocol: "TCP".into(),
            }],
            ..Default::default()
        };
        let named: Probe = serde_norway::from_str("httpGet: {path: /h, port: http}").unwrap();
        assert_eq!(probe_target(&c, &named).unwrap(), (8080, Some("/h".into())));
        let tcp: Probe = serde_norway::from_str("tcpSocket: {port: 9000}").unwrap();
        assert_eq!(probe_target(&c, &tcp).unwrap(), (9000, None));
        let wrong: Probe = serde_norway::from_str("tcpSocket: {port: grpc}").unwrap();
        assert!(probe_target(&c, &wrong).is_err());
        assert_eq!(probe_deadline(&Probe::default()), Duration::from_secs(30));
    }
}
