//! The example's xtask: `cargo xtask image` builds the images and writes the OKD manifests.

fn main() -> xtask_s2i::anyhow::Result<()> {
    xtask_s2i::main()
}
