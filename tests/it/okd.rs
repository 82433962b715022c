//! The OKD manifests: every generated object validated against the OpenShift 4.19 JSON schemas
//! (for the example, for a configuration using every key, and for two packages sharing a
//! directory); the chain's invariants checked on the YAML read back; the whole output pinned by
//! snapshots; and `--check` exercised through the real command on copies of the example, plus
//! once on the example itself so committed manifests cannot drift.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use serde_json::Value;
use xtask_s2i::ImageArgs;
use xtask_s2i::config::{KEYS, OKD_KEYS};
use xtask_s2i::files::{FileSet, GENERATED_MARKER};
use xtask_s2i::sink::Buffer;

use crate::support;

/// The regenerate command every `--check` failure must print.
const REGENERATE: &str = "cargo xtask image --no-build";

/// The manifests of the workspace of `manifest`, as the command would write them.
fn sets(manifest: &Path) -> Vec<FileSet> {
    let metadata = xtask_s2i::config::read_metadata(Some(manifest)).expect("cargo metadata");
    let plans = xtask_s2i::plan::Plan::for_workspace(&metadata, &[], None).expect("plans");
    xtask_s2i::okd::file_sets(&plans).expect("manifests")
}

fn one_set(manifest: &Path) -> FileSet {
    let mut sets = sets(manifest);
    assert_eq!(sets.len(), 1, "expected one manifests directory");
    sets.remove(0)
}

fn example_set() -> FileSet {
    one_set(&support::example_dir().join("Cargo.toml"))
}

/// The objects of a set: relative path → the YAML read back as JSON.
fn objects(set: &FileSet) -> BTreeMap<String, Value> {
    set.files
        .iter()
        .filter(|(rel, _)| rel.ends_with(".yaml") && !rel.ends_with("kustomization.yaml"))
        .map(|(rel, (text, _))| {
            let value: Value = serde_norway::from_str(text)
                .unwrap_or_else(|e| panic!("`{rel}` does not parse: {e}\n{text}"));
            (rel.clone(), value)
        })
        .collect()
}

/// Replaces the `[package.metadata.s2i]` tables of a copied example with `s2i`.
fn set_s2i(manifest: &Path, s2i: &str) {
    let text = std::fs::read_to_string(manifest).unwrap();
    let start = text.find("[package.metadata.s2i]").expect("an s2i table");
    let end = text.find("[workspace]").expect("a workspace table");
    assert!(start < end);
    let text = format!("{}{s2i}\n{}", &text[..start], &text[end..]);
    std::fs::write(manifest, text).unwrap();
}

/// A configuration that sets every key of `[package.metadata.s2i]` and its `okd` table, with
/// values that YAML 1.1 would misread unless quoted.
const EVERY_KEY: &str = r#"[package.metadata.s2i]
builder-base = "quay.io/acme/rust@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
builder-packages = ["libssl-dev"]
builder-image = "quay.io/acme/hello-builder"
app-image = "quay.io/acme/hello-app"
runtime-image = "quay.io/acme/hello"
tag = "1.0"
pull-policy = "never"
bin = "hello-world"
features = ["extra"]
no-default-features = true
profile = "release"
vendor = false
strip = false
user = { builder = 1001, runtime = 1000 }
env = { RUST_LOG = "info", FLAG = "no", MODE = "on", PERM = "0755", VERSION = "1.0", TILDE = "~", NOTHING = "null", TRUTH = "true" }
labels = { "com.example.team" = "platform", "com.example.enabled" = "yes" }
port = 8443
runtime-files = "minimal"
args = ["--config", "/etc/app/app.toml", "it's here"]
tzdata = true

[package.metadata.s2i.okd]
namespace = "demo"
git-uri = "ssh://git@example.com/acme/hello.git"
git-ref = "release/1.0"
context-dir = "./examples//hello-world/"
manifests-dir = "k8s/okd"
webhooks = { generic = "hello-generic", github = "hello-github", gitlab = "hello-gitlab", bitbucket = "hello-bitbucket" }
replicas = 3
tls = "reencrypt"
serves-tls = true
env-from = [{ secret = "every-key-db" }, { config-map = "every-key-config" }]
build-resources = { limits = { cpu = "2", memory = "4Gi" }, requests = { cpu = "500m", memory = "1Gi", ephemeral-storage = "10Gi" } }
build-timeout = 1800
tag = "stable"
workload = "deployment"
health-path = "/healthz"
resources = { limits = { cpu = "1", memory = "256Mi" }, requests = { memory = "64Mi" } }
source-secret = "hello-git"
unauthenticated-webhooks = true
"#;

/// The keys [`EVERY_KEY`] cannot set together with a Deployment: a CronJob and its schedule.
const CRONJOB: &str = r#"[package.metadata.s2i]
env = { RUST_LOG = "info" }

[package.metadata.s2i.okd]
context-dir = "examples/hello-world"
workload = "cronjob"
schedule = "*/15 * * * *"
"#;

/// A copy of the example configured with [`EVERY_KEY`]; returns (tempdir guard, manifest).
fn every_key_workspace() -> (tempfile::TempDir, PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let root = support::copy_example(tmp.path());
    let manifest = root.join("Cargo.toml");
    support::edit(
        &manifest,
        "[dependencies]",
        "[features]\ndefault = []\nextra = []\n\n[dependencies]",
    );
    set_s2i(&manifest, EVERY_KEY);
    (tmp, manifest)
}

/// A copy of the example with a second package `second` in the same workspace, whose s2i
/// table is `s2i`.
fn two_package_workspace(s2i: &str) -> (tempfile::TempDir, PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let root = support::copy_example(tmp.path());
    // A git checkout, as a real repository is: `second`'s default `okd.context-dir` comes from it.
    let git = std::process::Command::new("git")
        .args(["init", "-q"])
        .current_dir(tmp.path())
        .status()
        .expect("run `git init`");
    assert!(git.success());
    let manifest = root.join("Cargo.toml");
    support::edit(
        &manifest,
        "members = [\"xtask\"]",
        "members = [\"xtask\", \"second\"]",
    );
    std::fs::create_dir_all(root.join("second/src")).unwrap();
    std::fs::write(root.join("second/src/main.rs"), "fn main() {}\n").unwrap();
    std::fs::write(
        root.join("second/Cargo.toml"),
        format!(
            "[package]\nname = \"second\"\nversion = \"0.2.0\"\nedition = \"2024\"\nrepository = \"https://github.com/acme/second\"\n\n[package.metadata.s2i]\n{s2i}\n"
        ),
    )
    .unwrap();
    (tmp, manifest)
}

#[test]
fn every_key_of_the_configuration_is_used() {
    let table: toml::Table = EVERY_KEY.parse().unwrap();
    let s2i = &table["package"]["metadata"]["s2i"];
    for key in KEYS {
        assert!(
            s2i.get(key.key).is_some(),
            "EVERY_KEY does not set `{}`",
            key.key
        );
    }
    let cron: toml::Table = CRONJOB.parse().unwrap();
    for key in OKD_KEYS {
        assert!(
            s2i["okd"].get(key.key).is_some()
                || cron["package"]["metadata"]["s2i"]["okd"]
                    .get(key.key)
                    .is_some(),
            "neither EVERY_KEY nor CRONJOB sets `okd.{}`",
            key.key
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Schemas

/// Draft 4 validators of the OpenShift 4.19 schemas, by kind; `PodTemplateSpec` and
/// `ObjectMeta` are the Deployment schema's parts, for the kinds the schema folder lacks.
struct Schemas(BTreeMap<&'static str, jsonschema::Validator>);

/// The fields of the batch/v1 and rbac/v1 objects whose schemas are not in the schema folder
/// (Kubernetes 1.32 API reference); their pod template and metadata are validated with the
/// Deployment schema's parts.
const CRONJOB_SPEC: &[&str] = &[
    "schedule",
    "timeZone",
    "startingDeadlineSeconds",
    "concurrencyPolicy",
    "suspend",
    "jobTemplate",
    "successfulJobsHistoryLimit",
    "failedJobsHistoryLimit",
];
const JOB_SPEC: &[&str] = &[
    "parallelism",
    "completions",
    "activeDeadlineSeconds",
    "podFailurePolicy",
    "successPolicy",
    "backoffLimit",
    "backoffLimitPerIndex",
    "maxFailedIndexes",
    "selector",
    "manualSelector",
    "template",
    "ttlSecondsAfterFinished",
    "completionMode",
    "suspend",
    "podReplacementPolicy",
    "managedBy",
];

/// Keys of `value` that are not in `allowed`, as `path: message` lines.
fn unknown_keys(path: &str, value: &Value, allowed: &[&str]) -> Vec<String> {
    match value.as_object() {
        Some(map) => map
            .keys()
            .filter(|k| !allowed.contains(&k.as_str()))
            .map(|k| format!("{path}: unknown field `{k}`"))
            .collect(),
        None => vec![format!("{path}: not an object")],
    }
}

impl Schemas {
    fn load() -> Schemas {
        let dir = support::schemas_dir();
        let files = [
            ("BuildConfig", "buildconfig-build-v1.json"),
            ("ImageStream", "imagestream-image-v1.json"),
            ("Deployment", "deployment-apps-v1.json"),
            ("Service", "service-v1.json"),
            ("Route", "route-route-v1.json"),
        ];
        let mut out = BTreeMap::new();
        for (kind, file) in files {
            let path = dir.join(file);
            let text = std::fs::read_to_string(&path)
                .unwrap_or_else(|e| panic!("read `{}`: {e}", path.display()));
            let schema: Value = serde_json::from_str(&text).unwrap();
            let validator = jsonschema::draft4::new(&schema)
                .unwrap_or_else(|e| panic!("compile `{}`: {e}", path.display()));
            out.insert(kind, validator);
        }
        let deployment: Value = serde_json::from_str(
            &std::fs::read_to_string(dir.join("deployment-apps-v1.json")).unwrap(),
        )
        .unwrap();
        for (name, part) in [
            (
                "PodTemplateSpec",
                &deployment["properties"]["spec"]["properties"]["template"],
            ),
            ("ObjectMeta", &deployment["properties"]["metadata"]),
        ] {
            let validator = jsonschema::draft4::new(part)
                .unwrap_or_else(|e| panic!("compile the Deployment schema's {name}: {e}"));
            out.insert(name, validator);
        }
        Schemas(out)
    }

    fn part_errors(&self, part: &str, path: &str, value: &Value) -> Vec<String> {
        self.0[part]
            .iter_errors(value)
            .map(|e| format!("{path}{}: {e}", e.instance_path()))
            .collect()
    }

    /// A batch/v1 CronJob: its fields, its metadata and its pod template.
    fn cron_job_errors(&self, o: &Value) -> Vec<String> {
        let mut errors = unknown_keys("", o, &["apiVersion", "kind", "metadata", "spec"]);
        if o["apiVersion"] != "batch/v1" {
            errors.push(format!("/apiVersion: {}", o["apiVersion"]));
        }
        errors.extend(self.part_errors("ObjectMeta", "/metadata", &o["metadata"]));
        let spec = &o["spec"];
        errors.extend(unknown_keys("/spec", spec, CRONJOB_SPEC));
        if !spec["schedule"].is_string() {
            errors.push("/spec/schedule: required string".into());
        }
        let job = &spec["jobTemplate"];
        errors.extend(unknown_keys(
            "/spec/jobTemplate",
            job,
            &["metadata", "spec"],
        ));
        errors.extend(unknown_keys(
            "/spec/jobTemplate/spec",
            &job["spec"],
            JOB_SPEC,
        ));
        let template = &job["spec"]["template"];
        errors.extend(self.part_errors(
            "PodTemplateSpec",
            "/spec/jobTemplate/spec/template",
            template,
        ));
        let restart = &template["spec"]["restartPolicy"];
        if restart != "Never" && restart != "OnFailure" {
            errors.push(format!("a Job's pods must not restart `Always`: {restart}"));
        }
        errors
    }

    /// An rbac.authorization.k8s.io/v1 RoleBinding.
    fn role_binding_errors(&self, o: &Value) -> Vec<String> {
        let mut errors = unknown_keys(
            "",
            o,
            &["apiVersion", "kind", "metadata", "roleRef", "subjects"],
        );
        if o["apiVersion"] != "rbac.authorization.k8s.io/v1" {
            errors.push(format!("/apiVersion: {}", o["apiVersion"]));
        }
        errors.extend(self.part_errors("ObjectMeta", "/metadata", &o["metadata"]));
        errors.extend(unknown_keys(
            "/roleRef",
            &o["roleRef"],
            &["apiGroup", "kind", "name"],
        ));
        for key in ["apiGroup", "kind", "name"] {
            if !o["roleRef"][key].is_string() {
                errors.push(format!("/roleRef/{key}: required string"));
            }
        }
        for (i, subject) in o["subjects"].as_array().into_iter().flatten().enumerate() {
            errors.extend(unknown_keys(
                &format!("/subjects/{i}"),
                subject,
                &["apiGroup", "kind", "name", "namespace"],
            ));
            if !["User", "Group", "ServiceAccount"]
                .contains(&subject["kind"].as_str().unwrap_or(""))
            {
                errors.push(format!("/subjects/{i}/kind: {}", subject["kind"]));
            }
        }
        errors
    }

    /// Every schema error of one object, as `path: message` lines.
    fn errors(&self, object: &Value) -> Vec<String> {
        let kind = object["kind"].as_str().expect("a kind");
        match kind {
            "CronJob" => return self.cron_job_errors(object),
            "RoleBinding" => return self.role_binding_errors(object),
            _ => {}
        }
        let validator = self
            .0
            .get(kind)
            .unwrap_or_else(|| panic!("no schema for kind `{kind}`"));
        validator
            .iter_errors(object)
            .map(|e| format!("{}: {e}", e.instance_path()))
            .collect()
    }

    fn assert_valid(&self, set: &FileSet) {
        let objects = objects(set);
        assert!(!objects.is_empty());
        for (rel, object) in &objects {
            let errors = self.errors(object);
            assert!(
                errors.is_empty(),
                "`{rel}` does not match the OpenShift 4.19 schema:\n{}",
                errors.join("\n")
            );
        }
    }
}

#[test]
fn example_objects_match_the_openshift_schemas() {
    let schemas = Schemas::load();
    let set = example_set();
    let kinds: Vec<String> = objects(&set)
        .values()
        .map(|o| o["kind"].as_str().unwrap().to_string())
        .collect();
    for kind in [
        "BuildConfig",
        "ImageStream",
        "Deployment",
        "Service",
        "Route",
    ] {
        assert!(kinds.iter().any(|k| k == kind), "no {kind} in {kinds:?}");
    }
    schemas.assert_valid(&set);
}

#[test]
fn every_key_objects_match_the_openshift_schemas() {
    let schemas = Schemas::load();
    let (_tmp, manifest) = every_key_workspace();
    schemas.assert_valid(&one_set(&manifest));
}

#[test]
fn shared_directory_objects_match_the_openshift_schemas() {
    let schemas = Schemas::load();
    let (_tmp, manifest) = two_package_workspace("port = 9000\nokd = { namespace = \"hello\" }");
    schemas.assert_valid(&one_set(&manifest));
}

/// The validation is not vacuous: the trigger the tutorial writes, and an unknown field, fail.
#[test]
fn schemas_reject_the_tutorials_trigger_and_unknown_fields() {
    let schemas = Schemas::load();
    let tutorial: Value = serde_norway::from_str(
        r#"
apiVersion: build.openshift.io/v1
kind: BuildConfig
metadata:
  name: rust-runtime
spec:
  source:
    dockerfile: |
      FROM scratch
      COPY app /app
  strategy:
    type: Docker
    dockerStrategy: {}
  triggers:
  - type: ConfigChange
  - imageChange: {type: ImageChange}
"#,
    )
    .unwrap();
    let errors = schemas.errors(&tutorial);
    assert!(
        errors.iter().any(
            |e| e.contains("/spec/triggers/1") && e.contains("\"type\" is a required property")
        ),
        "the tutorial's trigger item was not rejected for its missing `type`: {errors:?}"
    );

    // The same item in the example's generated builder BuildConfig.
    let set = example_set();
    let mut builder = objects(&set)["buildconfig-hello-world-builder.yaml"].clone();
    assert!(schemas.errors(&builder).is_empty());
    builder["spec"]["triggers"][0] = serde_json::json!({"imageChange": {"type": "ImageChange"}});
    assert!(!schemas.errors(&builder).is_empty());

    let mut deployment = objects(&set)["deployment-hello-world.yaml"].clone();
    deployment["spec"]["template"]["spec"]["containers"][0]["securityContext"]["runAsNonroot"] =
        Value::Bool(true);
    let errors = schemas.errors(&deployment);
    assert!(
        errors.iter().any(|e| e.contains("runAsNonroot")),
        "an unknown field passed: {errors:?}"
    );
}

// ---------------------------------------------------------------------------------------------
// The chain's invariants, read back from the YAML

/// `kind/name` → object, for the objects of a set.
fn by_kind_name(set: &FileSet) -> BTreeMap<String, Value> {
    objects(set)
        .into_values()
        .map(|o| {
            let key = format!(
                "{}/{}",
                o["kind"].as_str().unwrap(),
                o["metadata"]["name"].as_str().unwrap()
            );
            (key, o)
        })
        .collect()
}

/// Every ImageStreamTag an object references (in any `{kind, name}`, and in the Deployment's
/// trigger annotation).
fn image_stream_tags(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            if map.get("kind").and_then(Value::as_str) == Some("ImageStreamTag") {
                out.push(map["name"].as_str().unwrap().to_string());
            }
            if let Some(triggers) = map
                .get("annotations")
                .and_then(|a| a.get("image.openshift.io/triggers"))
            {
                let parsed: Value = serde_json::from_str(triggers.as_str().unwrap()).unwrap();
                image_stream_tags(&parsed, out);
            }
            map.values().for_each(|v| image_stream_tags(v, out));
        }
        Value::Array(items) => items.iter().for_each(|v| image_stream_tags(v, out)),
        _ => {}
    }
}

fn build_config_to<'a>(objects: &'a BTreeMap<String, Value>, tag: &str) -> &'a Value {
    objects
        .values()
        .find(|o| o["kind"] == "BuildConfig" && o["spec"]["output"]["to"]["name"] == tag)
        .unwrap_or_else(|| panic!("no BuildConfig outputs `{tag}`"))
}

/// The ImageStreamTags the ImageChange triggers of a BuildConfig watch (a trigger without
/// `from` watches the strategy's `from`).
fn watched(bc: &Value) -> Vec<String> {
    let strategy_from = ["dockerStrategy", "sourceStrategy"]
        .iter()
        .find_map(|s| bc["spec"]["strategy"][s]["from"]["name"].as_str());
    bc["spec"]["triggers"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| t["type"] == "ImageChange")
        .map(|t| match t["imageChange"]["from"]["name"].as_str() {
            Some(name) => name.to_string(),
            None => strategy_from
                .expect("an ImageChange trigger without `from` on a strategy without `from` watches nothing")
                .to_string(),
        })
        .collect()
}

/// The value of `NAME=` in a shell script (unquoting a single-quoted word).
fn shell_var(script: &str, name: &str) -> String {
    let line = script
        .lines()
        .find_map(|l| l.strip_prefix(&format!("{name}=")))
        .unwrap_or_else(|| panic!("no `{name}=` in the script"));
    line.trim_matches('\'').to_string()
}

/// The pod template of a Deployment or a CronJob.
fn pod_template(workload: &Value) -> &Value {
    match workload["kind"].as_str() {
        Some("CronJob") => &workload["spec"]["jobTemplate"]["spec"]["template"],
        _ => &workload["spec"]["template"],
    }
}

/// What the `restricted-v2` SCC admits as it is: no pinned UID, GID or fsGroup anywhere; every
/// container non-root, without privilege escalation or capabilities, with the runtime's
/// seccomp profile and a read-only root file system.
fn assert_restricted_v2(workload: &Value) {
    let name = workload["metadata"]["name"].as_str().unwrap();
    let pod = &pod_template(workload)["spec"];
    for key in ["runAsUser", "runAsGroup", "fsGroup", "supplementalGroups"] {
        assert!(
            pod["securityContext"].get(key).is_none(),
            "{name}: the pod pins `{key}`"
        );
    }
    for c in pod["containers"].as_array().unwrap() {
        let sc = &c["securityContext"];
        for key in ["runAsUser", "runAsGroup", "privileged"] {
            assert!(sc.get(key).is_none(), "{name}: the container sets `{key}`");
        }
        assert_eq!(sc["runAsNonRoot"], true, "{name}");
        assert_eq!(sc["allowPrivilegeEscalation"], false, "{name}");
        assert_eq!(
            sc["capabilities"]["drop"],
            serde_json::json!(["ALL"]),
            "{name}"
        );
        assert!(sc["capabilities"].get("add").is_none(), "{name}");
        assert_eq!(sc["seccompProfile"]["type"], "RuntimeDefault", "{name}");
        assert_eq!(sc["readOnlyRootFilesystem"], true, "{name}");
    }
}

/// Checks every chain of a set.
fn assert_chain(set: &FileSet) {
    let objects = by_kind_name(set);
    let runtimes: Vec<&Value> = objects
        .values()
        .filter(|o| {
            o["kind"] == "BuildConfig"
                && o["metadata"]["labels"]["app.kubernetes.io/component"] == "runtime"
        })
        .collect();
    assert!(!runtimes.is_empty());
    assert_references(&objects);
    assert_workload_triggers(&objects);
    for runtime in runtimes {
        let (app_tag, source_path) = assert_runtime_build(&objects, runtime);
        let builder_tag = assert_app_build(&objects, &app_tag);
        assert_builder_build(set, &objects, &builder_tag, &source_path);
    }
}

/// Every referenced ImageStreamTag has its ImageStream, every trigger its type, and no object
/// names its namespace (the kustomization does, once).
fn assert_references(objects: &BTreeMap<String, Value>) {
    for (key, object) in objects {
        let mut tags = Vec::new();
        image_stream_tags(object, &mut tags);
        for tag in tags {
            let (stream, _) = tag.split_once(':').expect("stream:tag");
            assert!(
                objects.contains_key(&format!("ImageStream/{stream}")),
                "{key} references `{tag}` but there is no ImageStream `{stream}`"
            );
        }
        // Every trigger item has its type.
        if let Some(triggers) = object["spec"]["triggers"].as_array() {
            for t in triggers {
                assert!(t["type"].is_string(), "{key}: trigger without `type`: {t}");
            }
        }
        // The namespace is set once, in the kustomization.
        assert!(
            object["metadata"].get("namespace").is_none(),
            "{key} names its namespace"
        );
    }
}

/// Each workload's trigger names a runtime tag some BuildConfig builds, and one of its
/// containers; its pod is admitted by `restricted-v2`.
fn assert_workload_triggers(objects: &BTreeMap<String, Value>) {
    for workload in objects
        .values()
        .filter(|o| o["kind"] == "Deployment" || o["kind"] == "CronJob")
    {
        let annotation = workload["metadata"]["annotations"]["image.openshift.io/triggers"]
            .as_str()
            .expect("the image trigger annotation");
        let triggers: Value = serde_json::from_str(annotation).unwrap();
        let trigger = &triggers[0];
        assert_eq!(trigger["from"]["kind"], "ImageStreamTag");
        let runtime_tag = trigger["from"]["name"].as_str().unwrap();
        build_config_to(objects, runtime_tag);
        let field_path = trigger["fieldPath"].as_str().unwrap();
        let pod = pod_template(workload);
        let containers = pod["spec"]["containers"].as_array().unwrap();
        let prefix = match workload["kind"].as_str() {
            Some("CronJob") => "spec.jobTemplate.spec.template.spec",
            _ => "spec.template.spec",
        };
        assert!(
            containers.iter().any(|c| field_path
                == format!(
                    "{prefix}.containers[?(@.name==\"{}\")].image",
                    c["name"].as_str().unwrap()
                )),
            "the trigger's fieldPath `{field_path}` names no container"
        );
        assert_restricted_v2(workload);
    }
}

/// The runtime BuildConfig: FROM scratch (no strategy `from`), the binary copied out of the app
/// image, triggered by the app tag. Returns the app tag and the path it copies from.
fn assert_runtime_build(objects: &BTreeMap<String, Value>, runtime: &Value) -> (String, String) {
    let runtime_tag = runtime["spec"]["output"]["to"]["name"].as_str().unwrap();
    let (runtime_stream, _) = runtime_tag.split_once(':').unwrap();
    assert_eq!(
        objects[&format!("ImageStream/{runtime_stream}")]["spec"]["lookupPolicy"]["local"],
        true
    );
    let runtime = build_config_to(objects, runtime_tag);
    assert_eq!(runtime["spec"]["strategy"]["type"], "Docker");
    assert!(runtime["spec"]["strategy"]["dockerStrategy"]["from"].is_null());
    let image = &runtime["spec"]["source"]["images"][0];
    assert_eq!(image["from"]["kind"], "ImageStreamTag");
    let app_tag = image["from"]["name"].as_str().unwrap();
    assert_eq!(watched(runtime), [app_tag]);
    let source_path = image["paths"][0]["sourcePath"].as_str().unwrap();
    let dockerfile = runtime["spec"]["source"]["dockerfile"].as_str().unwrap();
    assert!(dockerfile.contains("\nFROM scratch\n"), "{dockerfile}");
    // What the Dockerfile copies is exactly what the image source provides (the binary and the
    // runtime files' directory), each into the context's top.
    let copied: BTreeSet<&str> = dockerfile
        .lines()
        .filter_map(|l| l.strip_prefix("COPY "))
        .filter_map(|l| l.split_whitespace().next())
        .map(|s| s.trim_end_matches('/'))
        .collect();
    let provided: BTreeSet<&str> = image["paths"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            assert_eq!(p["destinationDir"], ".");
            p["sourcePath"]
                .as_str()
                .unwrap()
                .rsplit('/')
                .next()
                .unwrap()
        })
        .collect();
    assert_eq!(
        copied, provided,
        "the Dockerfile copies {copied:?}, the image source provides {provided:?}"
    );
    (app_tag.to_string(), source_path.to_string())
}

/// The app BuildConfig: S2I from the builder tag, incremental, triggered by the builder tag.
/// Returns the builder tag.
fn assert_app_build(objects: &BTreeMap<String, Value>, app_tag: &str) -> String {
    let app = build_config_to(objects, app_tag);
    assert_eq!(app["spec"]["strategy"]["type"], "Source");
    assert_eq!(
        app["spec"]["strategy"]["sourceStrategy"]["incremental"],
        true
    );
    let builder_tag = app["spec"]["strategy"]["sourceStrategy"]["from"]["name"]
        .as_str()
        .unwrap();
    assert_eq!(watched(app), [builder_tag]);
    assert_eq!(app["spec"]["source"]["type"], "Git");
    builder_tag.to_string()
}

/// The builder BuildConfig: Docker from the upstream-base tag, triggered by it, from a committed
/// builder context of `set` whose `assemble` installs the binary at `source_path`.
fn assert_builder_build(
    set: &FileSet,
    objects: &BTreeMap<String, Value>,
    builder_tag: &str,
    source_path: &str,
) {
    let builder = build_config_to(objects, builder_tag);
    assert_eq!(builder["spec"]["strategy"]["type"], "Docker");
    let base_tag = builder["spec"]["strategy"]["dockerStrategy"]["from"]["name"]
        .as_str()
        .unwrap();
    assert_eq!(watched(builder), [base_tag]);
    let (base_stream, base_tag_name) = base_tag.split_once(':').unwrap();
    let base = &objects[&format!("ImageStream/{base_stream}")];
    let tag = base["spec"]["tags"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == base_tag_name)
        .expect("the base stream has the tag the builder builds from");
    assert_eq!(tag["from"]["kind"], "DockerImage");
    assert_eq!(tag["importPolicy"]["scheduled"], true);
    // The builder's contextDir ends with the directory of a builder context in the set.
    let context_dir = builder["spec"]["source"]["contextDir"].as_str().unwrap();
    let builder_dir = set
        .files
        .keys()
        .filter_map(|rel| rel.strip_suffix("/Dockerfile"))
        .find(|dir| context_dir == *dir || context_dir.ends_with(&format!("/{dir}")))
        .unwrap_or_else(|| panic!("contextDir `{context_dir}` is no builder context of the set"));

    // The path the runtime copies from is where assemble installs the binary.
    let (assemble, mode) = &set.files[&format!("{builder_dir}/s2i/bin/assemble")];
    assert_eq!(mode & 0o777, 0o755);
    assert_eq!(shell_var(assemble, "BIN_PATH"), source_path);
}

fn objects_files(set: &FileSet) -> Vec<String> {
    objects(set).into_keys().collect()
}

#[test]
fn example_chain_holds_together() {
    let set = example_set();
    assert_chain(&set);
    let objects = by_kind_name(&set);
    assert_eq!(
        objects["BuildConfig/hello-world-builder"]["spec"]["source"]["contextDir"],
        "examples/hello-world/deploy/okd/builder"
    );
    // The example's build dependency `xtask-s2i` is the repository root: the cluster's source is
    // the whole repository, and assemble is told where the workspace is.
    let app = &objects["BuildConfig/hello-world-app"];
    assert!(app["spec"]["source"].get("contextDir").is_none(), "{app}");
    assert!(
        app["spec"]["strategy"]["sourceStrategy"]["env"]
            .as_array()
            .unwrap()
            .contains(&serde_json::json!({
                "name": "XTASK_S2I_WORKSPACE_DIR",
                "value": "examples/hello-world"
            })),
        "{app}"
    );
    let (assemble, _) = &set.files["builder/s2i/bin/assemble"];
    assert!(
        assemble.contains("cd \"$XTASK_S2I_WORKSPACE_DIR\""),
        "assemble does not read the workspace directory"
    );
}

#[test]
fn every_key_chain_holds_together() {
    let (_tmp, manifest) = every_key_workspace();
    let set = one_set(&manifest);
    assert_chain(&set);
    let objects = by_kind_name(&set);
    assert_eq!(
        objects["BuildConfig/hello-builder"]["spec"]["source"]["contextDir"],
        "examples/hello-world/k8s/okd/builder"
    );
    let app = &objects["BuildConfig/hello-app"];
    let types: Vec<&str> = app["spec"]["triggers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["type"].as_str().unwrap())
        .collect();
    // The app follows the builder's new image; only the builder takes the webhooks (a push
    // would otherwise build the app twice).
    assert_eq!(types, ["ImageChange"]);
    assert!(app["spec"]["source"].get("contextDir").is_none(), "{app}");
    assert_eq!(app["spec"]["source"]["git"]["ref"], "release/1.0");
    assert_eq!(app["spec"]["source"]["sourceSecret"]["name"], "hello-git");
    // The configured resources are merged over the defaults.
    assert_eq!(app["spec"]["resources"]["limits"]["cpu"], "2");
    assert_eq!(
        app["spec"]["resources"]["limits"]["ephemeral-storage"],
        "10Gi"
    );
    assert_eq!(app["spec"]["completionDeadlineSeconds"], 1800);
    assert_eq!(app["spec"]["output"]["to"]["name"], "hello-app:stable");
    // The builder has the webhooks and the source secret too.
    let builder = &objects["BuildConfig/hello-builder"];
    let types: Vec<&str> = builder["spec"]["triggers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["type"].as_str().unwrap())
        .collect();
    assert_eq!(
        types,
        ["ImageChange", "Generic", "GitHub", "GitLab", "Bitbucket"]
    );
    assert_eq!(
        builder["spec"]["source"]["sourceSecret"]["name"],
        "hello-git"
    );
    assert_every_key_workload(&objects);
    let kustomization: Value = serde_norway::from_str(&set.files["kustomization.yaml"].0).unwrap();
    assert_eq!(kustomization["namespace"], "demo");
}

/// The workload side of the every-key configuration: probes, resources, replicas, the Route's
/// TLS, the webhook RoleBinding and the pinned base.
fn assert_every_key_workload(objects: &BTreeMap<String, Value>) {
    let container = &objects["Deployment/hello"]["spec"]["template"]["spec"]["containers"][0];
    for probe in ["readinessProbe", "livenessProbe"] {
        assert_eq!(
            container[probe]["httpGet"]["path"], "/healthz",
            "{container}"
        );
        assert_eq!(container[probe]["httpGet"]["port"], "http", "{container}");
    }
    assert_eq!(container["resources"]["limits"]["memory"], "256Mi");
    assert_eq!(container["resources"]["requests"]["memory"], "64Mi");
    assert_eq!(container["resources"]["requests"]["cpu"], "10m");
    let binding = &objects["RoleBinding/hello-webhook-unauthenticated"];
    assert_eq!(binding["roleRef"]["name"], "system:webhook");
    assert_eq!(binding["subjects"][0]["name"], "system:unauthenticated");
    assert_eq!(objects["Deployment/hello"]["spec"]["replicas"], 3);
    assert_eq!(
        objects["Route/hello"]["spec"]["tls"]["termination"],
        "reencrypt"
    );
    assert_eq!(
        objects["ImageStream/hello-builder-base"]["spec"]["tags"][0]["name"],
        "pinned"
    );
}

#[test]
fn shared_directory_keeps_each_builder_context_apart() {
    let (_tmp, manifest) = two_package_workspace("port = 9000\nokd = { namespace = \"hello\" }");
    let set = one_set(&manifest);
    assert!(set.root.ends_with("deploy/okd"));
    for package in ["hello-world", "second"] {
        assert!(
            set.files
                .contains_key(&format!("{package}/builder/Dockerfile")),
            "{:?}",
            set.files.keys()
        );
    }
    assert!(!set.files.contains_key("builder/Dockerfile"));
    // The example sets its context-dir; `second` takes it from the git checkout.
    let objects = by_kind_name(&set);
    assert_eq!(
        objects["BuildConfig/hello-world-builder"]["spec"]["source"]["contextDir"],
        "examples/hello-world/deploy/okd/hello-world/builder"
    );
    assert_eq!(
        objects["BuildConfig/second-builder"]["spec"]["source"]["contextDir"],
        "examples/hello-world/deploy/okd/second/builder"
    );
    let objects_by_file = objects_files(&set);
    assert!(objects_by_file.contains(&"deployment-second.yaml".to_string()));
    assert!(objects_by_file.contains(&"deployment-hello-world.yaml".to_string()));
    assert_chain(&set);
}

#[test]
fn packages_writing_the_same_object_are_refused() {
    let (_tmp, manifest) = two_package_workspace("runtime-image = \"hello-world\"");
    let metadata = xtask_s2i::config::read_metadata(Some(&manifest)).unwrap();
    let plans = xtask_s2i::plan::Plan::for_workspace(&metadata, &[], None).unwrap();
    let err = match xtask_s2i::okd::file_sets(&plans) {
        Ok(_) => panic!("two packages wrote the ImageStream `hello-world`"),
        Err(e) => format!("{e:#}"),
    };
    assert!(
        err.contains(
            "packages `hello-world` and `second` both generate the ImageStream `hello-world`"
        ),
        "{err}"
    );
    assert!(err.contains("okd.manifests-dir"), "{err}");
}

#[test]
fn packages_sharing_a_directory_share_the_namespace() {
    let (_tmp, manifest) = two_package_workspace("port = 9000");
    let metadata = xtask_s2i::config::read_metadata(Some(&manifest)).unwrap();
    let plans = xtask_s2i::plan::Plan::for_workspace(&metadata, &[], None).unwrap();
    let err = match xtask_s2i::okd::file_sets(&plans) {
        Ok(_) => panic!("two namespaces in one kustomization"),
        Err(e) => format!("{e:#}"),
    };
    assert!(
        err.contains("packages `hello-world` and `second` share the manifests directory"),
        "{err}"
    );
    assert!(err.contains("(`hello` and none)"), "{err}");
    assert!(
        err.contains("\nnote: ") && err.contains("okd.namespace"),
        "{err}"
    );
}

#[test]
fn packages_with_their_own_directories_get_their_own_sets() {
    let (_tmp, manifest) =
        two_package_workspace("port = 9000\nokd = { manifests-dir = \"deploy/second\" }");
    let sets = sets(&manifest);
    let roots: Vec<String> = sets.iter().map(|s| s.root.display().to_string()).collect();
    assert_eq!(sets.len(), 2, "{roots:?}");
    for set in &sets {
        assert!(set.files.contains_key("builder/Dockerfile"));
        assert_chain(set);
    }
}

// ---------------------------------------------------------------------------------------------
// Output rules and snapshots

/// The whole output of a set as one text: every YAML file with its mode and contents; the
/// builder context files (rendered templates, pinned byte for byte by the committed example and
/// `committed_example_manifests_are_up_to_date`, and by the render tests) with their paths and
/// modes only, so a template edit does not churn these snapshots.
fn dump(set: &FileSet) -> String {
    let mut out = String::new();
    for (rel, (text, mode)) in &set.files {
        if rel.ends_with(".yaml") {
            out.push_str(&format!("=== {rel} ({mode:o})\n{text}"));
        } else {
            out.push_str(&format!("=== {rel} ({mode:o})\n"));
        }
    }
    out
}

fn assert_output_rules(set: &FileSet) {
    for (rel, (text, _)) in &set.files {
        assert!(!text.contains('\r'), "`{rel}` has CR line endings");
        assert!(text.ends_with('\n'), "`{rel}` does not end with a newline");
        let head: Vec<&str> = text.lines().take(2).collect();
        assert!(
            head.iter().any(|l| l.contains(GENERATED_MARKER)),
            "`{rel}` does not say it is generated"
        );
        if rel.ends_with(".yaml") {
            assert!(
                text.starts_with(
                    "# Generated by `cargo xtask image` from `[package.metadata.s2i]`; do not edit.\n"
                ),
                "`{rel}`"
            );
        }
    }
}

#[test]
fn example_output_snapshot() {
    let set = example_set();
    assert_output_rules(&set);
    insta::assert_snapshot!("example", dump(&set));
}

#[test]
fn every_key_output_snapshot() {
    let (_tmp, manifest) = every_key_workspace();
    let set = one_set(&manifest);
    assert_output_rules(&set);
    // The same input gives the same bytes.
    assert_eq!(dump(&set), dump(&one_set(&manifest)));
    insta::assert_snapshot!("every_key", dump(&set));
}

#[test]
fn shared_directory_output_snapshot() {
    let (_tmp, manifest) = two_package_workspace("port = 9000\nokd = { namespace = \"hello\" }");
    let set = one_set(&manifest);
    assert_output_rules(&set);
    insta::assert_snapshot!("shared_directory", dump(&set));
}

#[test]
fn yaml_1_1_ambiguous_strings_are_quoted() {
    let (_tmp, manifest) = every_key_workspace();
    let set = one_set(&manifest);
    let deployment = &set.files["deployment-hello.yaml"].0;
    for (name, value) in [
        ("FLAG", "no"),
        ("MODE", "on"),
        ("PERM", "0755"),
        ("VERSION", "1.0"),
        ("TILDE", "~"),
        ("NOTHING", "null"),
        ("TRUTH", "true"),
    ] {
        let item = format!("- name: {name}\n          value: '{value}'\n");
        assert!(
            deployment.contains(&item),
            "{name}={value} is not quoted:\n{deployment}"
        );
    }
    let app = &set.files["buildconfig-hello-app.yaml"].0;
    assert!(
        app.contains("- name: com.example.enabled\n      value: 'yes'\n"),
        "{app}"
    );
    assert!(app.contains("name: hello-app:stable\n"), "{app}");
    assert!(app.contains("cpu: '2'\n"), "{app}");
    // Read back, the values are the strings that were configured.
    let value: Value = serde_norway::from_str(deployment).unwrap();
    let env = &value["spec"]["template"]["spec"]["containers"][0]["env"];
    assert!(
        env.as_array()
            .unwrap()
            .iter()
            .all(|e| e["value"].is_string())
    );
}

// ---------------------------------------------------------------------------------------------
// The command: --check, and errors

fn check(manifest: &Path) -> Result<(), String> {
    ImageArgs {
        check: true,
        manifest_path: Some(manifest.to_path_buf()),
        ..Default::default()
    }
    .execute(&Buffer::new())
    .map(|_| ())
    .map_err(|e| format!("{e:#}"))
}

fn generate(manifest: &Path) {
    ImageArgs {
        no_build: true,
        manifest_path: Some(manifest.to_path_buf()),
        ..Default::default()
    }
    .execute(&Buffer::new())
    .unwrap_or_else(|e| panic!("{e:#}"));
}

/// A copy of the example (with its committed manifests); returns (guard, manifest, okd dir).
fn example_copy() -> (tempfile::TempDir, PathBuf, PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let root = support::copy_example(tmp.path());
    let okd = root.join("deploy/okd");
    (tmp, root.join("Cargo.toml"), okd)
}

/// The committed example manifests are what the generator writes. On failure, regenerate them
/// with `cargo xtask image --no-build` in `examples/hello-world` and commit.
#[test]
fn committed_example_manifests_are_up_to_date() {
    let manifest = support::example_dir().join("Cargo.toml");
    if let Err(e) = check(&manifest) {
        panic!("{e}\n(run `{REGENERATE}` in examples/hello-world)");
    }
}

/// `--builder-base` / `XTASK_S2I_BUILDER_BASE` change the local build only: the committed
/// manifests keep building FROM the configured `builder-base`.
#[test]
fn a_builder_base_override_does_not_reach_the_manifests() {
    let manifest = support::example_dir().join("Cargo.toml");
    let result = ImageArgs {
        check: true,
        builder_base: Some(support::RUST_BASE.into()),
        manifest_path: Some(manifest),
        ..Default::default()
    }
    .execute(&Buffer::new());
    if let Err(e) = result {
        panic!("the override leaked into the manifests: {e:#}");
    }
    let set = example_set();
    let all: String = set.files.values().map(|(text, _)| text.as_str()).collect();
    assert!(!all.contains(support::RUST_BASE));
    assert!(all.contains("docker.io/library/rust:1-slim"));
}

#[test]
fn check_passes_on_a_clean_copy() {
    let (_tmp, manifest, okd) = example_copy();
    assert!(okd.join("kustomization.yaml").is_file());
    check(&manifest).unwrap();
}

#[test]
fn check_reports_a_drifted_file_and_writes_nothing() {
    let (_tmp, manifest, okd) = example_copy();
    let path = okd.join("deployment-hello-world.yaml");
    support::edit(&path, "replicas: 1", "replicas: 4");
    let err = check(&manifest).unwrap_err();
    assert!(err.contains("deployment-hello-world.yaml"), "{err}");
    assert!(err.contains("-  replicas: 4\n+  replicas: 1\n"), "{err}");
    assert!(err.contains(REGENERATE), "{err}");
    assert!(
        std::fs::read_to_string(&path)
            .unwrap()
            .contains("replicas: 4")
    );

    generate(&manifest);
    check(&manifest).unwrap();
}

#[test]
fn check_reports_a_missing_file() {
    let (_tmp, manifest, okd) = example_copy();
    std::fs::remove_file(okd.join("route-hello-world.yaml")).unwrap();
    std::fs::remove_file(okd.join("builder/s2i/bin/assemble")).unwrap();
    let err = check(&manifest).unwrap_err();
    assert!(err.contains("route-hello-world.yaml"), "{err}");
    assert!(err.contains("+kind: Route\n"), "{err}");
    assert!(err.contains("builder/s2i/bin/assemble"), "{err}");
    assert!(err.contains(REGENERATE), "{err}");
    assert!(!okd.join("route-hello-world.yaml").exists());

    generate(&manifest);
    check(&manifest).unwrap();
    assert!(okd.join("route-hello-world.yaml").is_file());
}

#[test]
fn check_reports_a_stray_generated_file_and_generate_removes_it() {
    let (_tmp, manifest, okd) = example_copy();
    let stray = okd.join("deploymentconfig-hello-world.yaml");
    std::fs::write(
        &stray,
        "# Generated by `cargo xtask image` from `[package.metadata.s2i]`; do not edit.\nkind: DeploymentConfig\n",
    )
    .unwrap();
    let err = check(&manifest).unwrap_err();
    assert!(err.contains("deploymentconfig-hello-world.yaml"), "{err}");
    assert!(err.contains("-kind: DeploymentConfig\n"), "{err}");
    assert!(err.contains(REGENERATE), "{err}");
    assert!(stray.exists());

    generate(&manifest);
    assert!(!stray.exists());
    check(&manifest).unwrap();
}

#[test]
fn a_users_own_files_are_never_touched() {
    let (_tmp, manifest, okd) = example_copy();
    let mine = okd.join("secret-webhooks.yaml");
    let notes = okd.join("builder/NOTES.md");
    std::fs::write(&mine, "kind: Secret\n").unwrap();
    std::fs::write(&notes, "my notes\n").unwrap();
    check(&manifest).unwrap();
    generate(&manifest);
    assert_eq!(std::fs::read_to_string(&mine).unwrap(), "kind: Secret\n");
    assert_eq!(std::fs::read_to_string(&notes).unwrap(), "my notes\n");
    check(&manifest).unwrap();
}

#[test]
fn a_missing_git_uri_is_an_error_that_names_both_keys() {
    let (_tmp, manifest, okd) = example_copy();
    support::edit(
        &manifest,
        "repository = \"https://github.com/xtask-s2i/xtask-s2i\"\n",
        "",
    );
    let before = std::fs::read_to_string(okd.join("buildconfig-hello-world-app.yaml")).unwrap();
    let err = ImageArgs {
        no_build: true,
        manifest_path: Some(manifest.clone()),
        ..Default::default()
    }
    .execute(&Buffer::new())
    .map(|_| ())
    .unwrap_err();
    let err = format!("{err:#}");
    for needle in [
        "package `hello-world` has no git repository",
        "`okd.git-uri` in `[package.metadata.s2i]`",
        "`package.repository`",
        &manifest.display().to_string(),
        "[package.metadata.s2i.okd]\n    git-uri = \"https://github.com/acme/hello-world.git\"",
    ] {
        assert!(err.contains(needle), "missing {needle:?} in:\n{err}");
    }
    let after = std::fs::read_to_string(okd.join("buildconfig-hello-world-app.yaml")).unwrap();
    assert_eq!(before, after, "a failed run changed the manifests");
    // `--check` too (a local build only warns: see the Docker tests).
    let err = ImageArgs {
        check: true,
        manifest_path: Some(manifest.clone()),
        ..Default::default()
    }
    .execute(&Buffer::new())
    .map(|_| ())
    .unwrap_err();
    assert!(
        format!("{err:#}").contains("package `hello-world` has no git repository"),
        "{err:#}"
    );
    let rendered = manifest.parent().unwrap().join("target/s2i");
    assert!(
        !rendered.exists(),
        "a failed run rendered into `{}`",
        rendered.display()
    );
}

/// Without `okd.git-uri` and `package.repository`, the checkout's `origin` remote is the
/// BuildConfigs' `uri`, an SSH remote in its https form, and the run says so.
#[test]
fn only_an_origin_remote_becomes_the_buildconfigs_uri() {
    let (tmp, manifest, okd) = example_copy();
    support::edit(
        &manifest,
        "repository = \"https://github.com/xtask-s2i/xtask-s2i\"\n",
        "",
    );
    for args in [
        &["init", "-q"][..],
        &["remote", "add", "origin", "git@github.com:acme/hello.git"],
    ] {
        let out = std::process::Command::new("git")
            .args(args)
            .current_dir(tmp.path())
            .output()
            .unwrap();
        assert!(out.status.success(), "git {args:?}: {out:?}");
    }
    let sink = Buffer::new();
    ImageArgs {
        no_build: true,
        manifest_path: Some(manifest.clone()),
        ..Default::default()
    }
    .execute(&sink)
    .unwrap_or_else(|e| panic!("{e:#}"));
    for stage in ["builder", "app"] {
        let path = okd.join(format!("buildconfig-hello-world-{stage}.yaml"));
        let bc: Value = serde_norway::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        assert_eq!(
            bc["spec"]["source"]["git"]["uri"],
            "https://github.com/acme/hello.git",
            "{}",
            path.display()
        );
    }
    let said = format!("{:?}", sink.events());
    assert!(
        said.contains("the git `origin` remote `https://github.com/acme/hello.git`")
            && said.contains("`okd.source-secret`"),
        "{said}"
    );
}

/// Removes the example's port (and the probe path that needs it).
fn without_port(manifest: &Path) {
    support::edit(manifest, "port = 8080\n", "");
    support::edit(manifest, "health-path = \"/healthz\"\n", "");
}

#[test]
fn without_a_port_the_workload_is_none() {
    let (_tmp, manifest, _) = example_copy();
    without_port(&manifest);
    let set = one_set(&manifest);
    let objects = by_kind_name(&set);
    let kinds: Vec<&str> = objects
        .keys()
        .map(|k| k.split('/').next().unwrap())
        .collect();
    assert_eq!(
        kinds
            .iter()
            .filter(|k| **k != "ImageStream")
            .collect::<Vec<_>>(),
        ["BuildConfig"; 3].iter().collect::<Vec<_>>(),
        "{kinds:?}"
    );
    assert!(!set.files["kustomization.yaml"].0.contains("deployment-"));
    assert_chain(&set);
    assert_output_rules(&set);
    insta::assert_snapshot!("workload_none", dump_objects(&set, &["kustomization.yaml"]));
    Schemas::load().assert_valid(&set);
}

#[test]
fn a_deployment_without_a_port_has_no_service_route_or_probes() {
    let (_tmp, manifest, _) = example_copy();
    without_port(&manifest);
    support::edit(
        &manifest,
        "git-ref = \"main\"\n",
        "git-ref = \"main\"\nworkload = \"deployment\"\n",
    );
    let set = one_set(&manifest);
    let objects = by_kind_name(&set);
    assert!(
        !objects
            .keys()
            .any(|k| k.starts_with("Service/") || k.starts_with("Route/"))
    );
    let container = &objects["Deployment/hello-world"]["spec"]["template"]["spec"]["containers"][0];
    for field in ["ports", "readinessProbe", "livenessProbe"] {
        assert!(container.get(field).is_none(), "{field}: {container}");
    }
    assert_eq!(container["resources"]["limits"]["memory"], "128Mi");
    assert_chain(&set);
}

#[test]
fn without_a_health_path_the_probes_are_tcp() {
    let (_tmp, manifest, _) = example_copy();
    support::edit(&manifest, "health-path = \"/healthz\"\n", "");
    let objects = by_kind_name(&one_set(&manifest));
    let container = &objects["Deployment/hello-world"]["spec"]["template"]["spec"]["containers"][0];
    for probe in ["readinessProbe", "livenessProbe"] {
        assert_eq!(container[probe]["tcpSocket"]["port"], "http", "{container}");
        assert!(container[probe].get("httpGet").is_none(), "{container}");
    }
}

/// A CronJob: the trigger annotation at the job template's container, a schedule, pods that do
/// not restart, no Service, Route or probes.
#[test]
fn a_cronjob_workload() {
    let (_tmp, manifest, _) = example_copy();
    set_s2i(&manifest, CRONJOB);
    let set = one_set(&manifest);
    assert_chain(&set);
    assert_output_rules(&set);
    let objects = by_kind_name(&set);
    let cron = &objects["CronJob/hello-world"];
    assert_eq!(cron["spec"]["schedule"], "*/15 * * * *");
    assert_eq!(cron["spec"]["concurrencyPolicy"], "Forbid");
    let container = &pod_template(cron)["spec"]["containers"][0];
    for field in ["ports", "readinessProbe", "livenessProbe"] {
        assert!(container.get(field).is_none(), "{field}: {container}");
    }
    assert!(!objects.keys().any(|k| k.starts_with("Deployment/")
        || k.starts_with("Service/")
        || k.starts_with("Route/")));
    insta::assert_snapshot!(
        "workload_cronjob",
        dump_objects(&set, &["cronjob-hello-world.yaml", "kustomization.yaml"])
    );
    let schemas = Schemas::load();
    schemas.assert_valid(&set);
    // The checks of the CronJob are not vacuous.
    let mut bad = cron.clone();
    bad["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"][0]["securityContext"]["runAsNonroot"] =
        Value::Bool(true);
    bad["spec"]["jobTemplate"]["spec"]["backofLimit"] = 2.into();
    bad["spec"]["jobTemplate"]["spec"]["template"]["spec"]["restartPolicy"] = "Always".into();
    let errors = schemas.errors(&bad);
    assert_eq!(errors.len(), 3, "{errors:#?}");
}

/// Only the given files of a set, whole.
fn dump_objects(set: &FileSet, files: &[&str]) -> String {
    let mut out = String::new();
    for (rel, (text, mode)) in &set.files {
        if files.contains(&rel.as_str()) {
            out.push_str(&format!("=== {rel} ({mode:o})\n{text}"));
        }
    }
    out
}

/// A release changes the version label and nothing else of the BuildConfigs and the
/// Deployment: the chain's tags are stable, so no BuildConfig waits on a tag nothing builds.
#[test]
fn a_version_bump_changes_no_spec_but_the_labels() {
    let (_tmp, manifest, _) = example_copy();
    let before = by_kind_name(&one_set(&manifest));
    support::edit(&manifest, "version = \"0.1.0\"", "version = \"0.2.0\"");
    let after = by_kind_name(&one_set(&manifest));
    assert_eq!(
        before.keys().collect::<Vec<_>>(),
        after.keys().collect::<Vec<_>>()
    );
    let strip = |o: &Value| {
        let mut o = o.clone();
        if let Some(output) = o["spec"].get_mut("output") {
            output.as_object_mut().unwrap().remove("imageLabels");
        }
        o
    };
    let mut labels_changed = 0;
    for (key, old) in &before {
        let new = &after[key];
        assert_eq!(strip(old), strip(new), "{key} changed with the version");
        if old != new {
            labels_changed += 1;
            let labels = new["spec"]["output"]["imageLabels"].to_string();
            assert!(labels.contains("\"0.2.0\""), "{key}: {labels}");
        }
    }
    assert_eq!(
        labels_changed, 3,
        "the three BuildConfigs carry the version label"
    );
    let text: String = one_set(&manifest)
        .files
        .values()
        .map(|(t, _)| t.as_str())
        .collect();
    assert!(!text.contains(":0.2.0"), "a tag follows the version");
}

/// Whether `kubectl` runs; when it does not, the test is skipped with a printed reason, unless
/// CI=true, where it fails.
fn kubectl_available(test: &str) -> bool {
    let required = std::env::var("CI").as_deref() == Ok("true");
    let kubectl = std::process::Command::new("kubectl")
        .args(["version", "--client"])
        .output();
    if kubectl.as_ref().is_ok_and(|o| o.status.success()) {
        return true;
    }
    assert!(
        !required,
        "{test}: `kubectl` is missing ({kubectl:?}), and CI=true\nnote: install the `kubectl` package (kubectl 1.32 with kustomize 5.5)"
    );
    eprintln!("skipping {test}: no `kubectl`");
    false
}

/// `kubectl kustomize DIR`, as the documents it prints.
fn kustomize(dir: &Path) -> Vec<Value> {
    let out = std::process::Command::new("kubectl")
        .arg("kustomize")
        .arg(dir)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "kubectl kustomize `{}` failed: {}",
        dir.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
        .split("\n---\n")
        .map(|d| serde_norway::from_str(d).unwrap())
        .collect()
}

/// `kubectl kustomize` builds the example's directory, and puts every object in the namespace
/// that only the kustomization names.
#[test]
fn kubectl_kustomize_builds_the_example() {
    if !kubectl_available("kubectl_kustomize_builds_the_example") {
        return;
    }
    // The committed directory (kept up to date by `committed_example_manifests_are_up_to_date`).
    let dir = support::example_dir().join("deploy/okd");
    let docs = kustomize(&dir);
    let expected = objects(&example_set()).len();
    assert_eq!(docs.len(), expected, "{docs:#?}");
    for doc in &docs {
        assert_eq!(doc["metadata"]["namespace"], "hello", "{doc}");
    }

    // Retargeted by an overlay, as `oc apply -k` users do (kustomize wants relative paths).
    let tmp = tempfile::tempdir().unwrap();
    let base = tmp.path().join("base");
    std::fs::create_dir_all(&base).unwrap();
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "yaml") {
            std::fs::copy(&path, base.join(path.file_name().unwrap())).unwrap();
        }
    }
    let overlay = tmp.path().join("overlay");
    std::fs::create_dir_all(&overlay).unwrap();
    std::fs::write(
        overlay.join("kustomization.yaml"),
        "namespace: other\nresources:\n- ../base\n",
    )
    .unwrap();
    let out = std::process::Command::new("kubectl")
        .arg("kustomize")
        .arg(&overlay)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        stdout.matches("namespace: other\n").count(),
        expected,
        "{stdout}"
    );
}

/// The CronJob, the RoleBinding and a directory without a namespace build too.
#[test]
fn kubectl_kustomize_builds_every_workload() {
    if !kubectl_available("kubectl_kustomize_builds_every_workload") {
        return;
    }
    let (_tmp, every_key) = every_key_workspace();
    let (_tmp2, cron, _) = example_copy();
    set_s2i(&cron, CRONJOB);
    for (set, namespace, kind) in [
        (one_set(&every_key), Some("demo"), "RoleBinding"),
        (one_set(&cron), None, "CronJob"),
    ] {
        let tmp = tempfile::tempdir().unwrap();
        for (rel, (text, _)) in &set.files {
            let path = tmp.path().join(rel);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, text).unwrap();
        }
        let docs = kustomize(tmp.path());
        assert_eq!(docs.len(), objects(&set).len());
        assert!(docs.iter().any(|d| d["kind"] == kind), "no {kind}");
        for doc in &docs {
            assert_eq!(doc["metadata"]["namespace"].as_str(), namespace, "{doc}");
        }
    }
}

/// A path dependency the cluster's clone does not hold fails the command, naming the
/// dependency and the manifest, and writes nothing.
#[test]
fn a_path_dependency_outside_the_repository_is_an_error() {
    let (tmp, manifest, okd) = example_copy();
    // Checked in a git checkout, which is what the cluster builds from.
    let git = std::process::Command::new("git")
        .args(["init", "-q"])
        .current_dir(tmp.path())
        .status()
        .expect("run `git init`");
    assert!(git.success());
    let outside = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(outside.path().join("shared/src")).unwrap();
    std::fs::write(
        outside.path().join("shared/Cargo.toml"),
        "[package]\nname = \"shared\"\nversion = \"0.1.0\"\nedition = \"2021\"\n",
    )
    .unwrap();
    std::fs::write(outside.path().join("shared/src/lib.rs"), "").unwrap();
    let shared = outside.path().join("shared").canonicalize().unwrap();
    support::edit(
        &manifest,
        "[build-dependencies]",
        &format!(
            "shared = {{ path = {:?} }}\n\n[build-dependencies]",
            shared.display().to_string()
        ),
    );
    let before = std::fs::read_to_string(okd.join("buildconfig-hello-world-app.yaml")).unwrap();
    let err = ImageArgs {
        no_build: true,
        manifest_path: Some(manifest.clone()),
        ..Default::default()
    }
    .execute(&Buffer::new())
    .map(|_| ())
    .unwrap_err();
    let err = format!("{err:#}");
    for needle in [
        "the path dependency `shared`",
        &manifest.display().to_string(),
        &shared.display().to_string(),
        "outside the repository the cluster builds from",
        &tmp.path().canonicalize().unwrap().display().to_string(),
        "\nnote: ",
    ] {
        assert!(err.contains(needle), "missing {needle:?} in:\n{err}");
    }
    let after = std::fs::read_to_string(okd.join("buildconfig-hello-world-app.yaml")).unwrap();
    assert_eq!(before, after, "a failed run changed the manifests");

    // Outside any git checkout (a copy, as the bench makes), the repository is unknown: the
    // dependency is not checked, and not part of the source.
    std::fs::remove_dir_all(tmp.path().join(".git")).unwrap();
    let objects = by_kind_name(&one_set(&manifest));
    let app = &objects["BuildConfig/hello-world-app"];
    assert!(app["spec"]["source"].get("contextDir").is_none(), "{app}");
}

/// The `.s2iignore` at the top of the cluster's source must not drop what cargo loads: here a
/// workspace member, as the example's own `.s2iignore` once did.
#[test]
fn an_s2iignore_dropping_a_workspace_member_is_an_error() {
    let (tmp, manifest, _) = example_copy();
    std::fs::write(
        tmp.path().join(".s2iignore"),
        "# mine\n/examples/hello-world/xtask\n",
    )
    .unwrap();
    let err = ImageArgs {
        check: true,
        manifest_path: Some(manifest),
        ..Default::default()
    }
    .execute(&Buffer::new())
    .map(|_| ())
    .unwrap_err();
    let err = format!("{err:#}");
    assert!(
        err.contains(".s2iignore` drops `examples/hello-world/xtask`"),
        "{err}"
    );
    assert!(err.contains("\nnote: "), "{err}");
}

#[test]
fn tls_none_means_a_plain_http_route() {
    let (_tmp, manifest, _) = example_copy();
    support::edit(
        &manifest,
        "git-ref = \"main\"\n",
        "git-ref = \"main\"\ntls = \"none\"\n",
    );
    let objects = by_kind_name(&one_set(&manifest));
    let route = &objects["Route/hello-world"];
    assert!(route["spec"].get("tls").is_none(), "{route}");
    assert_eq!(route["spec"]["port"]["targetPort"], "http");
}

/// What the cluster clones — the committed tree of this repository, cut to the app
/// BuildConfig's `contextDir` — holds the example's whole Cargo workspace: cargo loads it there
/// (every member, every path dependency) with the committed lock, and the `.s2iignore` at its
/// top (if any) drops nothing it needs.
#[test]
fn the_committed_tree_holds_the_examples_cluster_source() {
    let tmp = tempfile::tempdir().unwrap();
    let clone = tmp.path().join("clone");
    if !committed_tree(&clone) {
        return;
    }

    let objects = by_kind_name(&example_set());
    let app = &objects["BuildConfig/hello-world-app"];
    let context = app["spec"]["source"]["contextDir"].as_str().unwrap_or(".");
    // Only `contextDir` is the build's source: nothing above it is there.
    let source = if context == "." {
        clone
    } else {
        let source = tmp.path().join("source");
        std::fs::rename(clone.join(context), &source).unwrap();
        source
    };
    let workspace = app["spec"]["strategy"]["sourceStrategy"]["env"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["name"] == "XTASK_S2I_WORKSPACE_DIR")
        .map(|e| e["value"].as_str().unwrap().to_string())
        .unwrap_or_else(|| ".".into());
    let manifest = source.join(&workspace).join("Cargo.toml");
    assert!(manifest.is_file(), "no `{}`", manifest.display());
    apply_s2iignore(&source);
    // `cargo fetch --locked` loads the workspace as the cluster's cargo will (it may download
    // into the host's cache: crates come from the registry, not from the clone).
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = std::process::Command::new(&cargo)
        .args(["fetch", "--locked", "--manifest-path"])
        .arg(&manifest)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "the committed workspace does not load from the cluster's source: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_holds_the_workspace(&source, &manifest);
}

/// Removes what the `.s2iignore` at `root` drops, as s2i does before `assemble` runs.
fn apply_s2iignore(root: &Path) {
    let ignore = xtask_s2i::source::ignore::S2iIgnore::read(root).unwrap();
    fn visit(dir: &Path, rel: &str, ignore: &xtask_s2i::source::ignore::S2iIgnore) {
        for e in std::fs::read_dir(dir).unwrap().flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            let rel = if rel.is_empty() {
                name
            } else {
                format!("{rel}/{name}")
            };
            let path = e.path();
            let is_dir = std::fs::symlink_metadata(&path).unwrap().is_dir();
            if ignore.in_set(&rel).is_some() {
                if is_dir {
                    std::fs::remove_dir_all(&path).unwrap();
                } else {
                    std::fs::remove_file(&path).unwrap();
                }
            } else if is_dir {
                visit(&path, &rel, ignore);
            }
        }
    }
    visit(root, "", &ignore);
}

/// `git archive HEAD` of this repository, unpacked into `dir`: what the cluster clones. False
/// (the test skips) outside a git checkout, which CI is not.
fn committed_tree(dir: &Path) -> bool {
    let archive = std::process::Command::new("git")
        .args(["archive", "--format=tar", "HEAD"])
        .current_dir(support::repo_root())
        .output()
        .unwrap();
    if !archive.status.success() {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "`git archive HEAD` failed in CI: {}",
            String::from_utf8_lossy(&archive.stderr)
        );
        eprintln!("skipping: this checkout is no git repository");
        return false;
    }
    tar::Archive::new(archive.stdout.as_slice())
        .unpack(dir)
        .unwrap();
    true
}

/// The workspace of `manifest` loads from `source` alone: its members are the example's, and
/// every path dependency is inside it.
fn assert_holds_the_workspace(source: &Path, manifest: &Path) {
    let metadata = xtask_s2i::config::read_metadata(Some(manifest)).unwrap();
    let mut members: Vec<&str> = metadata
        .workspace_packages()
        .iter()
        .map(|p| p.name.as_str())
        .collect();
    members.sort();
    assert_eq!(members, ["hello-world", "xtask"]);
    let root = source.canonicalize().unwrap();
    for p in metadata.workspace_packages() {
        for d in p.dependencies.iter().filter_map(|d| d.path.as_ref()) {
            assert!(
                d.as_std_path().canonicalize().unwrap().starts_with(&root),
                "`{d}` is outside the clone"
            );
        }
    }
}

#[test]
fn runtime_files_none_copies_the_binary_alone_and_serves_tls_probes_use_https() {
    let (_tmp, manifest, _) = example_copy();
    support::edit(
        &manifest,
        "port = 8080\n",
        "port = 8443\nruntime-files = \"none\"\nargs = [\"--root\", \"/srv\"]\n",
    );
    support::edit(
        &manifest,
        "git-ref = \"main\"\n",
        "git-ref = \"main\"\nserves-tls = true\nenv-from = [{ secret = \"hello-db\" }]\n",
    );
    let set = one_set(&manifest);
    let objects = by_kind_name(&set);
    let runtime = &objects["BuildConfig/hello-world"]["spec"]["source"];
    assert_eq!(runtime["images"][0]["paths"].as_array().unwrap().len(), 1);
    assert!(!runtime["dockerfile"].as_str().unwrap().contains("runtime/"));
    let pod = &objects["Deployment/hello-world"]["spec"]["template"]["spec"];
    let container = &pod["containers"][0];
    assert_eq!(container["readinessProbe"]["httpGet"]["scheme"], "HTTPS");
    assert_eq!(container["args"], serde_json::json!(["--root", "/srv"]));
    assert_eq!(container["envFrom"][0]["secretRef"]["name"], "hello-db");
    // `/tmp` is an emptyDir whatever the image carries: the root file system is read-only.
    assert_eq!(container["volumeMounts"][0]["mountPath"], "/tmp");
    assert_eq!(pod["volumes"][0]["emptyDir"]["sizeLimit"], "256Mi");
    assert_eq!(
        objects["Route/hello-world"]["spec"]["tls"]["termination"],
        "passthrough"
    );
    assert_chain(&set);
}

/// A workspace of three services ([`crate::fixtures::services`]) is one group: one builder and
/// one app BuildConfig (the leader's names), a runtime BuildConfig per service watching the
/// group's app tag and copying its own binary; the objects match the schemas, `kubectl
/// kustomize` builds the directory and every BuildConfig builds once per push.
#[test]
fn a_group_of_services_has_one_builder_and_app_build_and_a_runtime_build_each() {
    let tmp = tempfile::tempdir().unwrap();
    let root = crate::fixtures::services(tmp.path());
    let set = one_set(&root.join("Cargo.toml"));
    Schemas::load().assert_valid(&set);
    let objects = by_kind_name(&set);
    let builds: Vec<&str> = objects
        .keys()
        .filter_map(|k| k.strip_prefix("BuildConfig/"))
        .collect();
    assert_eq!(
        builds,
        [
            "svc-api",
            "svc-api-app",
            "svc-api-builder",
            "svc-migrate",
            "svc-report",
            "svc-worker"
        ]
    );
    assert!(
        set.files.keys().any(|f| f == "builder/Dockerfile"),
        "{:?}",
        set.files.keys()
    );
    let assemble = &set.files["builder/s2i/bin/assemble"].0;
    assert!(
        assemble.contains("--package 'svc-api' --bin 'svc-api' --package 'svc-worker' --bin 'svc-worker' --package 'svc-tools' --bin 'svc-migrate' --package 'svc-tools' --bin 'svc-report'"),
        "{assemble}"
    );
    assert!(
        assemble.contains("--features 'svc-worker/fast'"),
        "{assemble}"
    );
    for service in ["svc-api", "svc-worker", "svc-migrate", "svc-report"] {
        let bin = service;
        let bc = &objects[&format!("BuildConfig/{service}")];
        assert_eq!(watched(bc), ["svc-api-app:latest"], "{service}");
        let from = &bc["spec"]["source"]["images"][0];
        assert_eq!(from["from"]["name"], "svc-api-app:latest", "{service}");
        assert_eq!(
            from["paths"][0]["sourcePath"],
            format!("/opt/app-root/bin/{bin}")
        );
    }

    let dir = tmp.path().join("okd");
    for (rel, file) in &set.files {
        let path = dir.join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, &file.0).unwrap();
    }
    if kubectl_available(
        "a_group_of_services_has_one_builder_and_app_build_and_a_runtime_build_each",
    ) {
        assert_eq!(kustomize(&dir).len(), objects.len());
    }
    let sequence = xtask_s2i::rehearse::sequence_of(&dir).unwrap().to_string();
    insta::assert_snapshot!(sequence);
}
