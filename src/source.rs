//! The source closure of a package: what the app stage's tar holds (filled in by the Docker-chain issue).

use anyhow::Result;
use cargo_metadata::Metadata;

use crate::plan::Plan;
use crate::sink::Sink;

/// The files of a package's build closure.
pub struct Closure {
    digest: String,
}

impl Closure {
    pub fn scan(_plan: &Plan, _metadata: &Metadata) -> Result<Closure> {
        Ok(Closure {
            digest: String::new(),
        })
    }
}

impl crate::engine::SourceTree for Closure {
    fn digest(&self) -> &str {
        &self.digest
    }
    fn location(&self) -> String {
        String::new()
    }
    fn commit(&self) -> Option<String> {
        None
    }
    fn write_tar(
        &self,
        _out: &mut dyn std::io::Write,
        _uid: u64,
        _gid: u64,
        _sink: &dyn Sink,
    ) -> Result<()> {
        anyhow::bail!("not implemented")
    }
}
