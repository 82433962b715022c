//! `.s2iignore` as source-to-image reads it, the one matcher the local source tar, the rehearsal
//! and the cluster-source check share.
//!
//! Upstream (source-to-image v1.3.8, `pkg/ignore/ignore.go`, `GetListOfFilesToIgnore`) reads the
//! file only at the root of the source it received (the BuildConfig's `contextDir`). Each line is
//! trimmed of spaces; empty lines and lines starting with `#` are skipped. A line is a Go
//! `filepath.Glob` pattern joined to the root (`filepath.Join`, so a leading `/`, `./` or a
//! trailing `/` change nothing); every existing path it matches is added to the set to delete. A
//! line starting with `!` takes, in order, the paths already in the set that its pattern
//! `filepath.Match`es out of it again (it cannot bring back a file below a deleted directory:
//! only the directory itself). A pattern Go rejects as malformed is skipped. Every path of the set
//! is then removed with `os.RemoveAll`: a matched directory goes with everything under it.
//!
//! These are not gitignore rules: `*` and `?` never cross `/`, a pattern without `/` matches at
//! the root only, there is no `**`, and a class is `[...]` or `[^...]` (Go's syntax, `\` escapes).
//! No crate implements Go's `filepath.Match` (the `glob` crate has `**` and `[!...]`, `globset`
//! and `ignore` are gitignore-like), so it is ported here from Go's `path/filepath/match.go`.

/// The custom ignore file of s2i, read at the source root only.
pub const IGNORE_FILE: &str = ".s2iignore";

/// One line of `.s2iignore`: its pattern relative to the root (cleaned as `filepath.Join`
/// cleans it), or `None` when it points outside the root and so matches nothing under it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Rule {
    keep: bool,
    pattern: Option<String>,
    line: String,
}

/// The rules of one `.s2iignore`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct S2iIgnore {
    rules: Vec<Rule>,
}

impl S2iIgnore {
    /// Reads `<root>/.s2iignore`; no file means no rules.
    pub fn read(root: &std::path::Path) -> std::io::Result<S2iIgnore> {
        match std::fs::read_to_string(root.join(IGNORE_FILE)) {
            Ok(text) => Ok(S2iIgnore::parse(&text)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(S2iIgnore::default()),
            Err(e) => Err(e),
        }
    }

    /// The rules of the file's text, malformed patterns left out as upstream skips them.
    pub fn parse(text: &str) -> S2iIgnore {
        let mut rules = Vec::new();
        for line in text.lines() {
            // Go's `strings.Trim(line, " ")`: spaces only; `bufio.Scanner` drops a final `\r`.
            let spec = line.strip_suffix('\r').unwrap_or(line).trim_matches(' ');
            if spec.is_empty() || spec.starts_with('#') {
                continue;
            }
            let (keep, spec) = match spec.strip_prefix('!') {
                Some(rest) => (true, rest),
                None => (false, spec),
            };
            let pattern = clean(spec);
            if pattern.as_deref().is_some_and(|p| !well_formed(p)) {
                continue;
            }
            rules.push(Rule {
                keep,
                pattern,
                line: line.trim_matches(' ').to_string(),
            });
        }
        S2iIgnore { rules }
    }

    /// Whether the existing entry at `rel` (relative to the root, `/`-separated, `""` for the
    /// root itself) is in the set s2i deletes; an entry under a deleted directory is gone too,
    /// see [`S2iIgnore::dropped`].
    pub fn in_set(&self, rel: &str) -> Option<&str> {
        let mut hit = None;
        for r in &self.rules {
            let Some(p) = &r.pattern else { continue };
            if go_match(p, rel) == Some(true) {
                hit = (!r.keep).then_some(r.line.as_str());
            }
        }
        hit
    }

    /// The line that removes the existing entry at `rel`, itself or one of its directories.
    pub fn dropped(&self, rel: &str) -> Option<&str> {
        if self.rules.is_empty() {
            return None;
        }
        let mut prefix = String::new();
        if let Some(line) = self.in_set("") {
            return Some(line);
        }
        for part in rel.split('/').filter(|p| !p.is_empty()) {
            if !prefix.is_empty() {
                prefix.push('/');
            }
            prefix.push_str(part);
            if let Some(line) = self.in_set(&prefix) {
                return Some(line);
            }
        }
        None
    }
}

/// `filepath.Join(root, spec)` relative to the root: `.` and empty segments dropped, `..` taking
/// the previous one (lexically, as `filepath.Clean` does); `None` when it leaves the root.
fn clean(spec: &str) -> Option<String> {
    let mut parts: Vec<&str> = Vec::new();
    for part in spec.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop()?;
            }
            p => parts.push(p),
        }
    }
    Some(parts.join("/"))
}

/// Whether Go would accept the pattern (`Glob` checks it before matching and fails otherwise).
fn well_formed(pattern: &str) -> bool {
    let mut rest = pattern.as_bytes();
    while !rest.is_empty() {
        let (_, chunk, r) = scan_chunk(rest);
        rest = r;
        if match_chunk(chunk, b"").is_err() {
            return false;
        }
    }
    true
}

/// Go's `filepath.Match(pattern, name)` on Unix: `Some(matched)`, `None` for a malformed pattern.
pub fn go_match(pattern: &str, name: &str) -> Option<bool> {
    let (mut pattern, mut name) = (pattern.as_bytes(), name.as_bytes());
    'pattern: while !pattern.is_empty() {
        let (star, chunk, rest) = scan_chunk(pattern);
        pattern = rest;
        if star && chunk.is_empty() {
            // A trailing `*` matches the rest of the name unless it has a `/`.
            return Some(!name.contains(&b'/'));
        }
        let m = match_chunk(chunk, name).ok()?;
        if let Some(t) = m
            && (t.is_empty() || !pattern.is_empty())
        {
            name = t;
            continue;
        }
        if star {
            // Look for a match skipping i+1 bytes; `*` cannot skip a `/`.
            let mut i = 0;
            while i < name.len() && name[i] != b'/' {
                if let Some(t) = match_chunk(chunk, &name[i + 1..]).ok()? {
                    if pattern.is_empty() && !t.is_empty() {
                        i += 1;
                        continue;
                    }
                    name = t;
                    continue 'pattern;
                }
                i += 1;
            }
        }
        return Some(false);
    }
    Some(name.is_empty())
}

/// Go's `scanChunk`: the leading stars, then the chunk up to the next `*` outside a class.
fn scan_chunk(pattern: &[u8]) -> (bool, &[u8], &[u8]) {
    let mut p = pattern;
    let mut star = false;
    while let [b'*', rest @ ..] = p {
        p = rest;
        star = true;
    }
    let (mut in_range, mut i) = (false, 0);
    while i < p.len() {
        match p[i] {
            b'\\' if i + 1 < p.len() => i += 1,
            b'[' => in_range = true,
            b']' => in_range = false,
            b'*' if !in_range => break,
            _ => {}
        }
        i += 1;
    }
    (star, &p[..i], &p[i..])
}

/// One UTF-8 character of `s` (Go's `utf8.DecodeRune`: U+FFFD and width 1 when invalid).
fn decode(s: &[u8]) -> (u32, usize) {
    let end = s.len().min(4);
    for n in 1..=end {
        if let Ok(t) = std::str::from_utf8(&s[..n])
            && let Some(c) = t.chars().next()
        {
            return (c as u32, n);
        }
    }
    (0xFFFD, 1)
}

/// Go's `matchChunk`: `Ok(Some(rest))` when `chunk` matches a prefix of `s`, `Ok(None)` when not,
/// `Err` when the chunk is malformed (checked to its end even after a mismatch).
fn match_chunk<'s>(chunk: &[u8], s: &'s [u8]) -> Result<Option<&'s [u8]>, ()> {
    let (mut chunk, mut s) = (chunk, s);
    let mut failed = false;
    while let Some(&c) = chunk.first() {
        if !failed && s.is_empty() {
            failed = true;
        }
        match c {
            b'[' => {
                let mut r = u32::MAX;
                if !failed {
                    let (ch, n) = decode(s);
                    r = ch;
                    s = &s[n..];
                }
                let (matched, rest) = match_class(&chunk[1..], r)?;
                chunk = rest;
                if !matched {
                    failed = true;
                }
            }
            b'?' => {
                if !failed {
                    if s[0] == b'/' {
                        failed = true;
                    }
                    s = &s[decode(s).1..];
                }
                chunk = &chunk[1..];
            }
            _ => {
                if c == b'\\' {
                    chunk = &chunk[1..];
                    if chunk.is_empty() {
                        return Err(());
                    }
                }
                if !failed {
                    if chunk[0] != s[0] {
                        failed = true;
                    }
                    s = &s[1..];
                }
                chunk = &chunk[1..];
            }
        }
    }
    Ok((!failed).then_some(s))
}

/// A class after its `[`: whether `r` is in it (negated with `^`), and the chunk after its `]`.
fn match_class(chunk: &[u8], r: u32) -> Result<(bool, &[u8]), ()> {
    let mut chunk = chunk;
    let negated = chunk.first() == Some(&b'^');
    if negated {
        chunk = &chunk[1..];
    }
    let (mut matched, mut ranges) = (false, 0);
    loop {
        if chunk.first() == Some(&b']') && ranges > 0 {
            chunk = &chunk[1..];
            break;
        }
        let (lo, rest) = get_esc(chunk)?;
        chunk = rest;
        let mut hi = lo;
        if chunk.first() == Some(&b'-') {
            let (h, rest) = get_esc(&chunk[1..])?;
            hi = h;
            chunk = rest;
        }
        if lo <= r && r <= hi {
            matched = true;
        }
        ranges += 1;
    }
    Ok((matched != negated, chunk))
}

/// Go's `getEsc`: one possibly escaped character of a class.
fn get_esc(chunk: &[u8]) -> Result<(u32, &[u8]), ()> {
    let mut chunk = chunk;
    match chunk.first() {
        None | Some(b'-' | b']') => return Err(()),
        Some(b'\\') => {
            chunk = &chunk[1..];
            if chunk.is_empty() {
                return Err(());
            }
        }
        _ => {}
    }
    let (r, n) = decode(chunk);
    let invalid = r == 0xFFFD && n == 1 && std::str::from_utf8(&chunk[..1]).is_err();
    let rest = &chunk[n..];
    if invalid || rest.is_empty() {
        return Err(());
    }
    Ok((r, rest))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Cases checked against Go 1.19's `filepath.Match` (`go run` on this machine; most from
    /// Go's own `match_test.go`): pattern, name, `Some(matched)` or `None` for `ErrBadPattern`.
    const GO_CASES: &[(&str, &str, Option<bool>)] = &[
        ("abc", "abc", Some(true)),
        ("*", "abc", Some(true)),
        ("*c", "abc", Some(true)),
        ("a*", "a", Some(true)),
        ("a*", "abc", Some(true)),
        ("a*", "ab/c", Some(false)),
        ("a*/b", "abc/b", Some(true)),
        ("a*/b", "a/c/b", Some(false)),
        ("a*b*c*d*e*/f", "axbxcxdxe/f", Some(true)),
        ("a*b*c*d*e*/f", "axbxcxdxexxx/f", Some(true)),
        ("a*b*c*d*e*/f", "axbxcxdxe/xxx/f", Some(false)),
        ("a*b*c*d*e*/f", "axbxcxdxexxx/fff", Some(false)),
        ("a*b?c*x", "abxbbxdbxebxczzx", Some(true)),
        ("a*b?c*x", "abxbbxdbxebxczzy", Some(false)),
        ("ab[c]", "abc", Some(true)),
        ("ab[b-d]", "abc", Some(true)),
        ("ab[e-g]", "abc", Some(false)),
        ("ab[^c]", "abc", Some(false)),
        ("ab[^b-d]", "abc", Some(false)),
        ("ab[^e-g]", "abc", Some(true)),
        ("a\\*b", "a*b", Some(true)),
        ("a\\*b", "ab", Some(false)),
        ("a?b", "a☺b", Some(true)),
        ("a[^a]b", "a☺b", Some(true)),
        ("a???b", "a☺b", Some(false)),
        ("a[^a][^a][^a]b", "a☺b", Some(false)),
        ("[a-ζ]*", "α", Some(true)),
        ("*[a-ζ]", "A", Some(false)),
        ("a?b", "a/b", Some(false)),
        ("a*b", "a/b", Some(false)),
        ("[\\]a]", "]", Some(true)),
        ("[\\-]", "-", Some(true)),
        ("[x\\-]", "x", Some(true)),
        ("[x\\-]", "-", Some(true)),
        ("[x\\-]", "z", Some(false)),
        ("[\\-x]", "x", Some(true)),
        ("[\\-x]", "-", Some(true)),
        ("[\\-x]", "a", Some(false)),
        ("[]a]", "]", None),
        ("[-]", "-", None),
        ("[x-]", "x", None),
        ("[x-]", "-", None),
        ("[x-]", "z", None),
        ("[-x]", "x", None),
        ("[-x]", "-", None),
        ("[-x]", "a", None),
        ("\\", "a", None),
        ("[a-b-c]", "a", None),
        ("[", "a", None),
        ("[^", "a", None),
        ("[^bc", "a", None),
        ("a[", "ab", None),
        ("*x", "xxx", Some(true)),
        ("target", "target", Some(true)),
        ("*.md", "docs/a.md", Some(false)),
        ("*", ".hidden", Some(true)),
    ];

    #[test]
    fn matches_as_go_filepath_match() {
        for (pattern, name, want) in GO_CASES {
            assert_eq!(
                go_match(pattern, name),
                *want,
                "Match({pattern:?}, {name:?})"
            );
        }
    }

    #[test]
    fn lines_are_globs_joined_to_the_root() {
        let ig = S2iIgnore::parse(
            "# a comment\n\n  /deploy/  \n*.md\ndocs/*.txt\n./tmp\nsub/../out\n../outside\n[bad\n",
        );
        // Trimmed, joined to the root: a leading `/` or `./`, a trailing `/` change nothing.
        assert_eq!(ig.dropped("deploy"), Some("/deploy/"));
        assert_eq!(ig.dropped("deploy/okd/x.yaml"), Some("/deploy/"));
        assert_eq!(ig.dropped("tmp/a"), Some("./tmp"));
        assert_eq!(ig.dropped("out"), Some("sub/../out"));
        // At the root only: no pattern crosses a `/`, there is no `**`.
        assert_eq!(ig.dropped("README.md"), Some("*.md"));
        assert_eq!(ig.dropped("crates/a/README.md"), None);
        assert_eq!(ig.dropped("docs/a.txt"), Some("docs/*.txt"));
        assert_eq!(ig.dropped("docs/x/a.txt"), None);
        assert_eq!(ig.dropped("src/main.rs"), None);
        // `../outside` and the malformed `[bad` match nothing.
        assert_eq!(ig.dropped("outside"), None);
        assert_eq!(ig.dropped("[bad"), None);
    }

    #[test]
    fn negation_takes_back_only_what_it_matches_itself() {
        let ig = S2iIgnore::parse("*.md\n!README.md\ndocs\n!docs/keep.md\n");
        assert_eq!(ig.dropped("CHANGES.md"), Some("*.md"));
        assert_eq!(ig.dropped("README.md"), None);
        // `docs` is deleted as a whole: `!docs/keep.md` cannot bring a file of it back.
        assert_eq!(ig.dropped("docs/keep.md"), Some("docs"));
        // A negation before the pattern it would undo does nothing.
        let ig = S2iIgnore::parse("!README.md\n*.md\n");
        assert_eq!(ig.dropped("README.md"), Some("*.md"));
        // `/` or `.` is the root itself: s2i deletes the whole source.
        assert_eq!(S2iIgnore::parse("/\n").dropped("src/main.rs"), Some("/"));
    }
}
