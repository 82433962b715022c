//! The machinery every domain of the configuration shares, written once: the [`KeyDoc`] row of a
//! key, the [`layer!`] macro that turns one field list into a domain's raw layer (its serde
//! model), its workspace merge and its key rows, and the [`ApplyLayer`] merge itself.
//!
//! Modelled on cargo-dist's `config/v1/layer.rs` (`ApplyLayer`): a layer is the all-`Option`
//! form of a domain, and the package's layer is applied over the workspace's, key by key. Here
//! the macro writes `apply_layer` from the field list, so a key is declared once with its name,
//! its documentation row and how it inherits, and no pass can forget it.

use std::collections::BTreeMap;

/// One documented configuration key; the README's reference table is checked against them.
#[derive(Debug, Clone, Copy)]
pub struct KeyDoc {
    pub key: &'static str,
    /// The type, in the words of TOML (`string`, `table of strings`, ...).
    pub ty: &'static str,
    /// A line of TOML setting the key, for the notes of wrong values.
    pub example: &'static str,
    /// The keys of its sub-table, when it is a table of fixed keys (empty otherwise).
    pub table: &'static [&'static str],
    /// How a `[workspace.metadata.s2i]` value reaches the package.
    pub inherit: Inherit,
}

/// How a key of `[workspace.metadata.s2i]` reaches a package that does not set it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Inherit {
    /// The workspace's value, unless the package sets the key.
    Replace,
    /// A table merged key by key; the package's keys win.
    Merge,
    /// Not at all: the key names one package's images, binary or place, and is refused as a
    /// workspace default.
    PerPackage,
}

/// A layer of configuration that a more specific layer of the same shape can be applied over
/// (cargo-dist's `ApplyLayer`): the workspace defaults, then the package's own values.
pub(crate) trait ApplyLayer: Sized {
    /// Applies `layer` over `self`, preferring `layer`'s values.
    fn apply_layer(&mut self, layer: Self);
}

impl ApplyLayer for BTreeMap<String, String> {
    fn apply_layer(&mut self, layer: Self) {
        self.extend(layer);
    }
}

/// The package's value, else the workspace's.
pub(crate) fn replace<T>(ws: Option<T>, pkg: Option<T>) -> Option<T> {
    pkg.or(ws)
}

/// Tables merged key by key, the package's keys winning.
pub(crate) fn merge<T: ApplyLayer>(ws: Option<T>, pkg: Option<T>) -> Option<T> {
    match (ws, pkg) {
        (Some(mut w), Some(p)) => {
            w.apply_layer(p);
            Some(w)
        }
        (w, p) => p.or(w),
    }
}

/// Per-package keys: the workspace cannot set them (`refuse_per_package` says so), so only the
/// package's value counts.
pub(crate) fn per_package<T>(_ws: Option<T>, pkg: Option<T>) -> Option<T> {
    pkg
}

/// Concatenates the key rows of several domains into one table's list, at compile time.
pub(crate) const fn concat<const N: usize>(parts: &[&[KeyDoc]]) -> [KeyDoc; N] {
    const EMPTY: KeyDoc = KeyDoc {
        key: "",
        ty: "",
        example: "",
        table: &[],
        inherit: Inherit::Replace,
    };
    let mut out = [EMPTY; N];
    let (mut i, mut p) = (0, 0);
    while p < parts.len() {
        let mut k = 0;
        while k < parts[p].len() {
            out[i] = parts[p][k];
            i += 1;
            k += 1;
        }
        p += 1;
    }
    assert!(i == N, "the key count does not match the parts");
    out
}

/// Declares a domain's raw layer from one field list. For each field:
///
/// ```text
/// /// What the key is for.
/// field: Type {
///     key: "kebab-name", ty: "string", example: r#"kebab-name = "value""#,
///     inherit: replace | merge | per_package, [table: &["sub", "keys"],]
/// }
/// ```
///
/// it generates the layer struct (every field an `Option`, read by serde under `key`), its
/// [`ApplyLayer`] (each field combined by the function named by `inherit`), and `KEYS`, the
/// documentation rows of its keys in declaration order.
macro_rules! layer {
    (
        $(#[$meta:meta])*
        $vis:vis struct $name:ident {
            $(
                $(#[$fmeta:meta])*
                $field:ident: $ty:ty {
                    key: $key:literal,
                    ty: $tyname:literal,
                    example: $example:literal,
                    inherit: $inherit:ident
                    $(, table: $table:expr)? $(,)?
                }
            )*
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Default, serde::Deserialize)]
        $vis struct $name {
            $(
                $(#[$fmeta])*
                #[serde(rename = $key)]
                pub(crate) $field: Option<$ty>,
            )*
        }

        impl $name {
            /// The documentation rows of this layer's keys.
            pub(crate) const KEYS: &'static [$crate::config::layer::KeyDoc] = &[$(
                $crate::config::layer::KeyDoc {
                    key: $key,
                    ty: $tyname,
                    example: $example,
                    table: $crate::config::layer::layer!(@table $($table)?),
                    inherit: $crate::config::layer::layer!(@inherit $inherit),
                },
            )*];
        }

        impl $crate::config::layer::ApplyLayer for $name {
            fn apply_layer(&mut self, layer: Self) {
                $(
                    self.$field =
                        $crate::config::layer::$inherit(self.$field.take(), layer.$field);
                )*
            }
        }
    };
    (@table) => { &[] };
    (@table $table:expr) => { $table };
    (@inherit replace) => { $crate::config::layer::Inherit::Replace };
    (@inherit merge) => { $crate::config::layer::Inherit::Merge };
    (@inherit per_package) => { $crate::config::layer::Inherit::PerPackage };
}
pub(crate) use layer;
