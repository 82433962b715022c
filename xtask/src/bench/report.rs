//! The report of a bench, `target/bench/report.json`: every sample, the medians, the ratios, the
//! targets and whether they were met, the sizes, the stage reports of our chain and the
//! machine, as one typed [`Report`] that is written, read back (`--table`) and turned into the
//! Markdown table printed on stdout (and pasted into docs/BENCHMARKS.md).

use std::collections::BTreeSet;
use std::path::Path;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use xtask_s2i::anyhow::{Context, Result, bail};
use xtask_s2i::sink::human_size;

use super::machine::Machine;
use super::{BASE, Measured, NAMESPACE, Part};

/// The targets: the no-op and one-line ratios of issue 5 tightened to today's standard (0.3×), the cold
/// chain no slower than the baseline, the runtime image the binary plus at most 300 KiB (the CA
/// bundle, `/etc/passwd`, `/etc/group` and `/tmp` of `runtime-files = "minimal"`, issue 19).
const NOOP_MAX_SECONDS: f64 = 0.5;
const NOOP_MAX_RATIO: f64 = 0.3;
const CHANGE_MAX_RATIO: f64 = 0.3;
const COLD_MAX_RATIO: f64 = 1.0;
const SIZE_MAX_OVERHEAD: u64 = 300 * 1024;
/// The workspace of three services (one group) against the example alone (issue 21): the cold
/// chain at most 1.3× the one service's, a one-line change in one service at most 1.2×.
const WS_COLD_MAX_RATIO: f64 = 1.3;
const WS_CHANGE_MAX_RATIO: f64 = 1.2;

/// The version of the report's shape; a report of another version is not read.
const SCHEMA: u32 = 1;

/// What one bench measured.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Report {
    pub schema: u32,
    /// `cargo xtask bench`.
    pub command: String,
    /// `examples/hello-world`.
    pub app: String,
    pub base_image: String,
    /// The pattern of the images the run tagged (`localhost/xtask-s2i-bench/*:run-<pid>`).
    pub images: String,
    pub runs: usize,
    pub parts: Vec<Part>,
    pub machine: Machine,
    pub seconds: Seconds,
    pub ratios: Ratios,
    pub bytes: Bytes,
    pub targets: Targets,
    /// Per run of ours: the stage reports of its cold, no-op and change invocations.
    pub stages: Vec<RunStages>,
    /// The same of the workspace of three services.
    #[serde(default)]
    pub workspace_stages: Vec<RunStages>,
    pub notes: Vec<String>,
}

/// The samples of one figure, in seconds, with their median, minimum and maximum (`None`
/// without samples: the part was not measured).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Figure {
    pub samples: Vec<f64>,
    pub median: Option<f64>,
    pub min: Option<f64>,
    pub max: Option<f64>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Seconds {
    pub ours: OursSeconds,
    pub baseline: BaselineSeconds,
    pub floor: FloorSeconds,
    #[serde(default)]
    pub workspace: OursSeconds,
}

/// `cargo xtask image`: the cold chain, a no-op rerun, a one-line change (in the workspace, in
/// one of its three services).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct OursSeconds {
    pub cold: Figure,
    pub noop: Figure,
    pub change: Figure,
}

/// `docker build`: cold (`--no-cache`), no change, a one-line change.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct BaselineSeconds {
    pub cold: Figure,
    pub nochange: Figure,
    pub change: Figure,
}

/// The host's `cargo build --release` of the one-line change.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct FloorSeconds {
    pub change: Figure,
}

/// Ours over the baseline (and over the floor), of the medians.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Ratios {
    pub cold: Option<f64>,
    pub noop: Option<f64>,
    pub change: Option<f64>,
    pub change_vs_floor: Option<f64>,
    /// The workspace of three services over the example alone: cold chain, one-line change.
    #[serde(default)]
    pub workspace_cold: Option<f64>,
    #[serde(default)]
    pub workspace_change: Option<f64>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Bytes {
    pub runtime_image: Option<u64>,
    pub binary: Option<u64>,
    /// The runtime image's size less the binary's.
    pub runtime_overhead: Option<f64>,
    pub baseline_image: Option<u64>,
}

/// One target: met when the value is at most the limit (`None` when not measured).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Target {
    pub name: String,
    pub value: Option<f64>,
    pub limit: f64,
    /// `s`, `x` or `B`.
    pub unit: String,
    pub met: Option<bool>,
}

impl Target {
    fn new(name: &str, value: Option<f64>, limit: f64, unit: &str) -> Target {
        Target {
            name: name.to_string(),
            value,
            limit,
            unit: unit.to_string(),
            met: value.map(|v| v <= limit),
        }
    }
}

/// The targets by name; in the file, a list of [`Target`]s that names each (as it always was).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(into = "Vec<Target>", try_from = "Vec<Target>")]
pub struct Targets {
    pub noop_seconds: Target,
    pub noop_ratio: Target,
    pub change_ratio: Target,
    pub cold_ratio: Target,
    pub size_overhead: Target,
    pub workspace_cold_ratio: Target,
    pub workspace_change_ratio: Target,
}

const NOOP_SECONDS: &str = "no-op rerun, seconds";
const NOOP_RATIO: &str = "no-op rerun / baseline no change";
const CHANGE_RATIO: &str = "one-line change / baseline";
const COLD_RATIO: &str = "cold chain / baseline";
const SIZE_OVERHEAD: &str = "runtime image - binary, bytes";
const WS_COLD_RATIO: &str = "workspace of 3 services cold chain / 1 service";
const WS_CHANGE_RATIO: &str = "workspace one-line change in 1 of 3 services / 1 service";

impl From<Targets> for Vec<Target> {
    fn from(t: Targets) -> Vec<Target> {
        let Targets {
            noop_seconds,
            noop_ratio,
            change_ratio,
            cold_ratio,
            size_overhead,
            workspace_cold_ratio,
            workspace_change_ratio,
        } = t;
        vec![
            noop_seconds,
            noop_ratio,
            change_ratio,
            cold_ratio,
            size_overhead,
            workspace_cold_ratio,
            workspace_change_ratio,
        ]
    }
}

impl TryFrom<Vec<Target>> for Targets {
    type Error = String;

    fn try_from(list: Vec<Target>) -> Result<Targets, String> {
        let take = |name: &str| {
            list.iter()
                .find(|t| t.name == name)
                .cloned()
                .ok_or_else(|| format!("the report has no target `{name}`"))
        };
        Ok(Targets {
            noop_seconds: take(NOOP_SECONDS)?,
            noop_ratio: take(NOOP_RATIO)?,
            change_ratio: take(CHANGE_RATIO)?,
            cold_ratio: take(COLD_RATIO)?,
            size_overhead: take(SIZE_OVERHEAD)?,
            // Reports before the workspace scenario: not measured.
            workspace_cold_ratio: take(WS_COLD_RATIO)
                .unwrap_or_else(|_| Target::new(WS_COLD_RATIO, None, WS_COLD_MAX_RATIO, "x")),
            workspace_change_ratio: take(WS_CHANGE_RATIO)
                .unwrap_or_else(|_| Target::new(WS_CHANGE_RATIO, None, WS_CHANGE_MAX_RATIO, "x")),
        })
    }
}

impl Targets {
    /// The targets of a bench's samples and ratios.
    fn new(
        m: &Measured,
        noop_ratio: Option<f64>,
        change_ratio: Option<f64>,
        cold_ratio: Option<f64>,
        size_overhead: Option<f64>,
    ) -> Targets {
        Targets {
            noop_seconds: Target::new(NOOP_SECONDS, median(&m.ours_noop), NOOP_MAX_SECONDS, "s"),
            noop_ratio: Target::new(NOOP_RATIO, noop_ratio, NOOP_MAX_RATIO, "x"),
            change_ratio: Target::new(CHANGE_RATIO, change_ratio, CHANGE_MAX_RATIO, "x"),
            cold_ratio: Target::new(COLD_RATIO, cold_ratio, COLD_MAX_RATIO, "x"),
            size_overhead: Target::new(SIZE_OVERHEAD, size_overhead, SIZE_MAX_OVERHEAD as f64, "B"),
            workspace_cold_ratio: Target::new(
                WS_COLD_RATIO,
                ratio(&m.ws_cold, &m.ours_cold),
                WS_COLD_MAX_RATIO,
                "x",
            ),
            workspace_change_ratio: Target::new(
                WS_CHANGE_RATIO,
                ratio(&m.ws_change, &m.ours_change),
                WS_CHANGE_MAX_RATIO,
                "x",
            ),
        }
    }
}

/// The stage reports of one run of ours.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RunStages {
    pub cold: Vec<Stage>,
    pub noop: Vec<Stage>,
    pub change: Vec<Stage>,
}

/// A `"reason": "stage"` line of `cargo xtask image --message-format json`: what the bench reads
/// of it, and the rest of the line as it came.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Stage {
    /// `builder`, `app` or `runtime`.
    pub stage: String,
    /// The image ID.
    pub id: String,
    /// Nothing was built: the tagged image had the stage's input digest.
    pub cached: bool,
    #[serde(flatten)]
    pub rest: Map<String, Value>,
}

impl Stage {
    /// The stage lines of a JSON event stream; other lines and events are skipped.
    pub fn parse_events(stdout: &str) -> Result<Vec<Stage>> {
        stdout
            .lines()
            .filter_map(|l| serde_json::from_str::<Value>(l).ok())
            .filter(|v| v["reason"] == "stage")
            .map(|v| {
                serde_json::from_value(v.clone())
                    .with_context(|| format!("`cargo xtask image` reported an odd stage: {v}"))
            })
            .collect()
    }
}

impl Report {
    /// The report of a bench's samples.
    pub fn new(
        machine: Machine,
        runs: usize,
        parts: &BTreeSet<Part>,
        m: &Measured,
        notes: Vec<String>,
        tag: &str,
    ) -> Report {
        let noop_ratio = ratio(&m.ours_noop, &m.base_nochange);
        let change_ratio = ratio(&m.ours_change, &m.base_change);
        let cold_ratio = ratio(&m.ours_cold, &m.base_cold);
        let ws_cold = ratio(&m.ws_cold, &m.ours_cold);
        let ws_change = ratio(&m.ws_change, &m.ours_change);
        let size_overhead = match (m.ours_image, m.binary) {
            (Some(i), Some(b)) => Some(i as f64 - b as f64),
            _ => None,
        };
        Report {
            schema: SCHEMA,
            command: "cargo xtask bench".into(),
            app: "examples/hello-world".into(),
            base_image: BASE.into(),
            images: format!("{NAMESPACE}/*:{tag}"),
            runs,
            parts: parts.iter().copied().collect(),
            machine,
            seconds: Seconds {
                ours: OursSeconds {
                    cold: figure(&m.ours_cold),
                    noop: figure(&m.ours_noop),
                    change: figure(&m.ours_change),
                },
                baseline: BaselineSeconds {
                    cold: figure(&m.base_cold),
                    nochange: figure(&m.base_nochange),
                    change: figure(&m.base_change),
                },
                floor: FloorSeconds {
                    change: figure(&m.floor),
                },
                workspace: OursSeconds {
                    cold: figure(&m.ws_cold),
                    noop: figure(&m.ws_noop),
                    change: figure(&m.ws_change),
                },
            },
            ratios: Ratios {
                cold: cold_ratio,
                noop: noop_ratio,
                change: change_ratio,
                change_vs_floor: ratio(&m.ours_change, &m.floor),
                workspace_cold: ws_cold,
                workspace_change: ws_change,
            },
            bytes: Bytes {
                runtime_image: m.ours_image,
                binary: m.binary,
                runtime_overhead: size_overhead,
                baseline_image: m.base_image,
            },
            targets: Targets::new(m, noop_ratio, change_ratio, cold_ratio, size_overhead),
            stages: m.ours_stages.clone(),
            workspace_stages: m.ws_stages.clone(),
            notes,
        }
    }

    /// Writes the report (pretty JSON) atomically.
    pub fn write(&self, path: &Path) -> Result<()> {
        let text = serde_json::to_string_pretty(self).context("failed to serialize the report")?;
        xtask_s2i::files::write_atomic(path, format!("{text}\n").as_bytes(), 0o644)
    }

    /// Reads a report that [`Report::write`] wrote.
    pub fn read(path: &Path) -> Result<Report> {
        let text = match std::fs::read_to_string(path) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => bail!(
                "there is no report at `{}`\nnote: `cargo xtask bench` writes it",
                path.display()
            ),
            read => read.with_context(|| format!("failed to read `{}`", path.display()))?,
        };
        let value: Value = serde_json::from_str(&text)
            .with_context(|| format!("failed to parse `{}`", path.display()))?;
        let schema = value["schema"].as_u64();
        if schema != Some(u64::from(SCHEMA)) {
            bail!(
                "`{}` is a report of schema {}, this bench reads schema {SCHEMA}\nnote: run `cargo xtask bench` again",
                path.display(),
                schema.map_or("(none)".to_string(), |s| s.to_string())
            );
        }
        serde_json::from_value(value)
            .with_context(|| format!("failed to read the report `{}`", path.display()))
    }

    /// The Markdown table printed on stdout (and pasted into docs/BENCHMARKS.md).
    pub fn table(&self) -> String {
        let mut out = self.heading();
        out.push_str(&self.rows());
        if self.parts.contains(&Part::Workspace) {
            out.push('\n');
            out.push_str(&self.workspace_rows());
        }
        if !self.notes.is_empty() {
            out.push('\n');
            for n in &self.notes {
                out.push_str(&format!("- {n}\n"));
            }
        }
        out
    }

    /// The two lines above the table: what was measured, and on which machine.
    fn heading(&self) -> String {
        let m = &self.machine;
        let unknown = |v: &Option<String>| v.clone().unwrap_or_else(|| "?".to_string());
        let load = |l: &[f64]| l.first().map_or("?".to_string(), |v| number(*v));
        let mut out = format!(
            "`cargo xtask bench`: examples/hello-world FROM `{}`, {} run(s), medians (min–max)\n",
            self.base_image, self.runs
        );
        out.push_str(&format!(
            "machine: {} cores ({}), {} memory, {} {} (API {}, {} storage), {}, load average {} at the start, {} at the end\n\n",
            m.nproc.map_or("?".to_string(), |n| n.to_string()),
            unknown(&m.cpu),
            m.memory_bytes.map_or("–".to_string(), size),
            m.engine,
            unknown(&m.docker_server),
            unknown(&m.docker_api),
            unknown(&m.docker_storage_driver),
            unknown(&m.date),
            load(&m.load_average),
            load(&m.load_average_end),
        ));
        out
    }

    /// The table: one row per figure, with its target and whether it was met.
    fn rows(&self) -> String {
        let Report {
            seconds: s,
            ratios: r,
            bytes: b,
            targets: t,
            ..
        } = self;
        let bytes = |v: Option<u64>| v.map_or("–".to_string(), size);
        let overhead = b.runtime_overhead.map_or("binary + –".to_string(), |o| {
            let sign = if o < 0.0 { "-" } else { "+" };
            format!("binary {sign} {:.0} KiB", o.abs() / 1024.0)
        });
        let mut out = String::new();
        out.push_str("| figure | ours (`cargo xtask image`) | baseline (`docker build`) | ours / baseline | target | met |\n");
        out.push_str("|---|---:|---:|---:|---|---|\n");
        out.push_str(&format!(
            "| cold chain | {} | {} | {} | ≤ {COLD_MAX_RATIO:.1}× | {} |\n",
            secs(&s.ours.cold),
            secs(&s.baseline.cold),
            times(r.cold),
            met(&[&t.cold_ratio])
        ));
        out.push_str(&format!(
            "| no-op rerun / no change | {} | {} | {} | ≤ {NOOP_MAX_SECONDS} s and ≤ {NOOP_MAX_RATIO}× | {} |\n",
            secs(&s.ours.noop),
            secs(&s.baseline.nochange),
            times(r.noop),
            met(&[&t.noop_seconds, &t.noop_ratio])
        ));
        out.push_str(&format!(
            "| one-line change | {} | {} | {} | ≤ {CHANGE_MAX_RATIO}× | {} |\n",
            secs(&s.ours.change),
            secs(&s.baseline.change),
            times(r.change),
            met(&[&t.change_ratio])
        ));
        out.push_str(&format!(
            "| floor: host `cargo build --release` of the change | {} | | ours / floor {} | | |\n",
            secs(&s.floor.change),
            times(r.change_vs_floor),
        ));
        out.push_str(&format!(
            "| runtime image size | {} ({overhead}; binary {}) | {} | | ≤ binary + {} KiB | {} |\n",
            bytes(b.runtime_image),
            bytes(b.binary),
            bytes(b.baseline_image),
            SIZE_MAX_OVERHEAD / 1024,
            met(&[&t.size_overhead])
        ));
        out
    }
}

impl Report {
    /// The workspace's table: three services of one group against the example alone.
    fn workspace_rows(&self) -> String {
        let (s, r, t) = (&self.seconds, &self.ratios, &self.targets);
        let mut out = String::new();
        out.push_str("| workspace (`cargo xtask image`) | 3 services, one group | 1 service (ours above) | 3 / 1 | target | met |\n");
        out.push_str("|---|---:|---:|---:|---|---|\n");
        out.push_str(&format!(
            "| cold chain | {} | {} | {} | ≤ {WS_COLD_MAX_RATIO:.1}× | {} |\n",
            secs(&s.workspace.cold),
            secs(&s.ours.cold),
            times(r.workspace_cold),
            met(&[&t.workspace_cold_ratio])
        ));
        out.push_str(&format!(
            "| no-op rerun | {} | {} | {} | | |\n",
            secs(&s.workspace.noop),
            secs(&s.ours.noop),
            times(ratio_of(&s.workspace.noop, &s.ours.noop)),
        ));
        out.push_str(&format!(
            "| one-line change in one service | {} | {} | {} | ≤ {WS_CHANGE_MAX_RATIO:.1}× | {} |\n",
            secs(&s.workspace.change),
            secs(&s.ours.change),
            times(r.workspace_change),
            met(&[&t.workspace_change_ratio])
        ));
        out
    }
}

fn ratio_of(a: &Figure, b: &Figure) -> Option<f64> {
    Some(a.median? / b.median?)
}

fn median(samples: &[f64]) -> Option<f64> {
    if samples.is_empty() {
        return None;
    }
    let mut s = samples.to_vec();
    s.sort_by(f64::total_cmp);
    let mid = s.len() / 2;
    Some(if s.len() % 2 == 1 {
        s[mid]
    } else {
        (s[mid - 1] + s[mid]) / 2.0
    })
}

fn figure(samples: &[f64]) -> Figure {
    Figure {
        samples: samples.to_vec(),
        median: median(samples),
        min: samples.iter().copied().reduce(f64::min),
        max: samples.iter().copied().reduce(f64::max),
    }
}

fn ratio(a: &[f64], b: &[f64]) -> Option<f64> {
    Some(median(a)? / median(b)?)
}

/// `42.09 s (40.49–45.72)`; the range only with more than one sample.
fn secs(f: &Figure) -> String {
    let Some(m) = f.median else {
        return "–".to_string();
    };
    let (lo, hi) = (f.min.unwrap_or(m), f.max.unwrap_or(m));
    if f.samples.len() > 1 {
        format!("{m:.2} s ({lo:.2}–{hi:.2})")
    } else {
        format!("{m:.2} s")
    }
}

fn times(v: Option<f64>) -> String {
    v.map_or("–".to_string(), |v| format!("{v:.2}×"))
}

/// `yes` when every target was met, `**no**` when one was not, `–` when one was not measured.
fn met(targets: &[&Target]) -> &'static str {
    let met: Option<Vec<bool>> = targets.iter().map(|t| t.met).collect();
    match met {
        None => "–",
        Some(m) if m.iter().all(|&m| m) => "yes",
        Some(_) => "**no**",
    }
}

/// A number as JSON writes it (`1.5`, `2.0`), as the table always showed the load.
fn number(v: f64) -> String {
    serde_json::Number::from_f64(v).map_or_else(|| v.to_string(), |n| n.to_string())
}

/// A size as the library's status lines give it ([`human_size`]), but MiB with three decimals:
/// precise enough to compare a binary with its image (`1.967 MiB`).
fn size(b: u64) -> String {
    const MIB: u64 = 1024 * 1024;
    if (MIB..MIB * 1024).contains(&b) {
        format!("{:.3} MiB", b as f64 / MIB as f64)
    } else {
        human_size(b)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn medians() {
        assert_eq!(median(&[]), None);
        assert_eq!(median(&[3.0, 1.0, 2.0]), Some(2.0));
        assert_eq!(median(&[4.0, 1.0, 2.0, 3.0]), Some(2.5));
    }

    #[test]
    fn sizes() {
        assert_eq!(size(312), "312 B");
        assert_eq!(size(7373), "7.2 KiB");
        assert_eq!(size(2_062_500), "1.967 MiB");
        assert_eq!(size(25_232_932_864), "23.5 GiB");
    }

    fn measured() -> Measured {
        Measured {
            ours_cold: vec![42.09, 40.49, 45.72],
            ours_noop: vec![0.09, 0.10, 0.09],
            ours_change: vec![10.27, 9.19, 10.49],
            base_cold: vec![47.43, 47.25, 48.76],
            base_nochange: vec![0.65, 0.65, 1.46],
            base_change: vec![44.32, 42.37, 45.54],
            floor: vec![0.80, 0.77, 0.81],
            ours_image: Some(2_062_500),
            binary: Some(2_062_500),
            base_image: Some(2_062_500),
            ours_stages: vec![RunStages {
                cold: Stage::parse_events(concat!(
                    r#"{"reason":"status","verb":"Fresh","message":"x"}"#,
                    "\nnot json\n",
                    r#"{"reason":"stage","package":"hello-world","stage":"builder","image":"b:t","id":"sha256:1","size":1,"seconds":2.2,"cached":false}"#,
                ))
                .unwrap(),
                ..RunStages::default()
            }],
            ..Measured::default()
        }
    }

    fn report(m: &Measured, parts: &[Part]) -> Report {
        let machine = Machine {
            nproc: Some(2),
            cpu: Some("AMD EPYC".into()),
            memory_bytes: Some(25_232_932_864),
            engine: "Docker".into(),
            docker_server: Some("20.10.24".into()),
            docker_api: Some("1.41".into()),
            docker_storage_driver: Some("fuse-overlayfs".into()),
            date: Some("2026-11-24T04:07:41Z".into()),
            load_average: vec![1.8, 1.0, 0.5],
            load_average_end: vec![1.97, 1.0, 0.5],
            ..Machine::default()
        };
        let parts = parts.iter().copied().collect();
        Report::new(machine, 3, &parts, m, vec!["a note".into()], "run-1")
    }

    #[test]
    fn the_table_of_a_full_run() {
        let r = report(&measured(), &[Part::Ours, Part::Baseline, Part::Floor]);
        assert_eq!(
            r.table(),
            "`cargo xtask bench`: examples/hello-world FROM `localhost/xtask-s2i/rust:trixie`, 3 run(s), medians (min–max)
machine: 2 cores (AMD EPYC), 23.5 GiB memory, Docker 20.10.24 (API 1.41, fuse-overlayfs storage), 2026-11-24T04:07:41Z, load average 1.8 at the start, 1.97 at the end

| figure | ours (`cargo xtask image`) | baseline (`docker build`) | ours / baseline | target | met |
|---|---:|---:|---:|---|---|
| cold chain | 42.09 s (40.49–45.72) | 47.43 s (47.25–48.76) | 0.89× | ≤ 1.0× | yes |
| no-op rerun / no change | 0.09 s (0.09–0.10) | 0.65 s (0.65–1.46) | 0.14× | ≤ 0.5 s and ≤ 0.3× | yes |
| one-line change | 10.27 s (9.19–10.49) | 44.32 s (42.37–45.54) | 0.23× | ≤ 0.3× | yes |
| floor: host `cargo build --release` of the change | 0.80 s (0.77–0.81) | | ours / floor 12.84× | | |
| runtime image size | 1.967 MiB (binary + 0 KiB; binary 1.967 MiB) | 1.967 MiB | | ≤ binary + 300 KiB | yes |

- a note
"
        );
    }

    #[test]
    fn targets_not_measured_or_missed() {
        let mut m = measured();
        m.ours_noop = vec![0.6];
        m.base_change.clear();
        let t = report(&m, &[Part::Ours]).table();
        assert!(
            t.contains("| no-op rerun / no change | 0.60 s | 0.65 s (0.65–1.46) | 0.92× | ≤ 0.5 s and ≤ 0.3× | **no** |"),
            "{t}"
        );
        assert!(
            t.contains("| one-line change | 10.27 s (9.19–10.49) | – | – | ≤ 0.3× | – |"),
            "{t}"
        );
    }

    #[test]
    fn the_workspace_table() {
        let mut m = measured();
        m.ws_cold = vec![50.5, 52.6, 51.0];
        m.ws_noop = vec![0.12, 0.11, 0.13];
        m.ws_change = vec![14.92, 10.0, 12.0];
        let r = report(&m, &[Part::Ours, Part::Workspace]);
        let t = r.table();
        assert!(
            t.contains("| workspace (`cargo xtask image`) | 3 services, one group | 1 service (ours above) | 3 / 1 | target | met |\n|---|---:|---:|---:|---|---|\n\
                | cold chain | 51.00 s (50.50–52.60) | 42.09 s (40.49–45.72) | 1.21× | ≤ 1.3× | yes |\n\
                | no-op rerun | 0.12 s (0.11–0.13) | 0.09 s (0.09–0.10) | 1.33× | | |\n\
                | one-line change in one service | 12.00 s (10.00–14.92) | 10.27 s (9.19–10.49) | 1.17× | ≤ 1.2× | yes |\n"),
            "{t}"
        );
        assert_eq!(r.targets.workspace_cold_ratio.met, Some(true));
        m.ws_change = vec![13.0];
        let r = report(&m, &[Part::Ours, Part::Workspace]);
        assert_eq!(r.targets.workspace_change_ratio.met, Some(false));
        // Without the workspace part, no workspace table.
        assert!(
            !report(&measured(), &[Part::Ours])
                .table()
                .contains("workspace")
        );
    }

    #[test]
    fn the_report_reads_back_as_written() {
        let r = report(&measured(), &[Part::Ours, Part::Floor]);
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("bench/report.json");
        r.write(&path).unwrap();
        let json: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        // The shape the report has always had: targets a list that names each, parts lowercase,
        // stage lines whole.
        assert_eq!(json["parts"], serde_json::json!(["ours", "floor"]));
        assert_eq!(json["targets"][3]["name"], "cold chain / baseline");
        assert_eq!(json["targets"][3]["met"], true);
        assert_eq!(
            json["targets"][5]["name"],
            "workspace of 3 services cold chain / 1 service"
        );
        assert_eq!(json["seconds"]["baseline"]["nochange"]["median"], 0.65);
        assert_eq!(json["stages"][0]["cold"][0]["package"], "hello-world");
        assert_eq!(json["stages"][0]["cold"][0]["reason"], "stage");
        assert_eq!(json["machine"]["load_average_end"][0], 1.97);
        // Read back (floats to within serde_json's parsing), it gives the same table.
        let read = Report::read(&path).unwrap();
        assert_eq!(read.table(), r.table());
        assert_eq!(
            (&read.parts, &read.stages, &read.machine),
            (&r.parts, &r.stages, &r.machine)
        );

        std::fs::write(&path, r#"{"schema": 2}"#).unwrap();
        let e = format!("{:#}", Report::read(&path).unwrap_err());
        assert!(e.contains("schema 2, this bench reads schema 1"), "{e}");
    }
}
