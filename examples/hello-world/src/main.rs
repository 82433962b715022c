//! hello-world: greets. The example application of xtask-s2i.

use clap::Parser;

/// Prints a greeting.
#[derive(Debug, Parser)]
#[command(version = concat!(env!("CARGO_PKG_VERSION"), " (image ", env!("S2I_RUNTIME_IMAGE"), ")"))]
struct Args {
    /// Whom to greet
    #[arg(long, default_value = "World")]
    name: String,
}

fn main() {
    let args = Args::parse();
    println!("{}", greeting(&args.name));
}

fn greeting(name: &str) -> String {
    format!("Hello {name}!")
}

#[cfg(test)]
mod tests {
    #[test]
    fn greets() {
        assert_eq!(super::greeting("OKD"), "Hello OKD!");
    }
}
