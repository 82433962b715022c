//! Checks `[package.metadata.s2i]` when the app compiles and exports `S2I_RUNTIME_IMAGE`.

fn main() {
    xtask_s2i::build_script::check();
}
