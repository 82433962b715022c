//! The output of builds and containers: split into lines, cleaned of terminal control
//! sequences, reported to the [`Sink`] as log events, the last lines kept for error messages.

use std::collections::VecDeque;

use crate::sink::{Event, Sink};

/// How many lines of output an error shows.
pub const TAIL_LINES: usize = 40;

/// Splits a byte stream into lines, reports each to the sink, and keeps the last ones.
pub struct Output {
    pub stage: String,
    partial: Vec<u8>,
    tail: VecDeque<String>,
    /// Lines anywhere in the output that [`super::sys_crates`] explains (a failed build script,
    /// a missing tool or library), however long the output after them.
    notable: Vec<String>,
    /// The `---> warning: …` lines of the default scripts, to report as warnings.
    warnings: Vec<String>,
}

impl Output {
    pub fn new(stage: &str) -> Output {
        Output {
            stage: stage.to_string(),
            partial: Vec::new(),
            tail: VecDeque::new(),
            notable: Vec::new(),
            warnings: Vec::new(),
        }
    }

    /// Feeds bytes; returns the complete lines they finished.
    pub fn push(&mut self, bytes: &[u8], sink: &dyn Sink) -> Vec<String> {
        self.partial.extend_from_slice(bytes);
        let mut lines = Vec::new();
        while let Some(pos) = self.partial.iter().position(|b| *b == b'\n') {
            let raw: Vec<u8> = self.partial.drain(..=pos).collect();
            let line = clean_line(&raw);
            sink.event(Event::Log {
                stage: self.stage.clone(),
                line: line.clone(),
            });
            self.remember(line.clone());
            lines.push(line);
        }
        lines
    }

    /// Reports an unterminated last line.
    pub fn flush(&mut self, sink: &dyn Sink) {
        self.finish(sink);
    }

    pub(super) fn finish(&mut self, sink: &dyn Sink) -> Vec<String> {
        if self.partial.is_empty() {
            return Vec::new();
        }
        self.partial.push(b'\n');
        let bytes = std::mem::take(&mut self.partial);
        self.push(&bytes, sink)
    }

    /// The lines [`super::sys_crates`] may explain, in order.
    pub fn notable(&self) -> &[String] {
        &self.notable
    }

    /// The `---> warning: …` lines of the default scripts, without the prefix.
    pub fn warnings(&self) -> &[String] {
        &self.warnings
    }

    pub(super) fn remember(&mut self, line: String) {
        if let Some(w) = line.strip_prefix("---> warning: ") {
            self.warnings.push(w.to_string());
        }
        if super::sys_crates::is_notable(&line) && self.notable.len() < 64 {
            self.notable.push(line.clone());
        }
        if self.tail.len() == TAIL_LINES {
            self.tail.pop_front();
        }
        self.tail.push_back(line);
    }

    /// The last lines, indented, for an error message.
    pub fn tail(&self) -> String {
        let mut s = String::new();
        for line in &self.tail {
            s.push_str("    ");
            s.push_str(line);
            s.push('\n');
        }
        s
    }

    /// Whether any remembered line contains `needle`.
    #[cfg(test)]
    pub fn contains(&self, needle: &str) -> bool {
        self.tail.iter().any(|l| l.contains(needle))
    }
}

/// A line without its terminator, carriage-return progress collapsed, control characters other
/// than tabs and ANSI colours dropped.
fn clean_line(raw: &[u8]) -> String {
    let text = String::from_utf8_lossy(raw);
    let text = text.trim_end_matches(['\n', '\r']);
    let text = text.rsplit('\r').next().unwrap_or(text);
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\x1b' {
            // Skip a CSI sequence: ESC [ ... final byte in @..~
            if chars.peek() == Some(&'[') {
                chars.next();
                for c in chars.by_ref() {
                    if ('@'..='~').contains(&c) {
                        break;
                    }
                }
            }
            continue;
        }
        if c == '\t' || !c.is_control() {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_split_and_cleaned() {
        let sink = crate::sink::Buffer::new();
        let mut out = Output::new("app");
        assert!(out.push(b"Compiling a", &sink).is_empty());
        let lines = out.push(
            b"\x1b[1;32m ok\x1b[0m\r\nprogress 1\rprogress 2\nlast",
            &sink,
        );
        assert_eq!(lines, ["Compiling a ok", "progress 2"]);
        out.flush(&sink);
        assert_eq!(out.tail(), "    Compiling a ok\n    progress 2\n    last\n");
        assert_eq!(sink.events().len(), 3);
    }

    #[test]
    fn the_tail_is_bounded() {
        let sink = crate::sink::Buffer::new();
        let mut out = Output::new("app");
        for i in 0..100 {
            out.push(format!("line {i}\n").as_bytes(), &sink);
        }
        assert_eq!(out.tail().lines().count(), TAIL_LINES);
        assert!(out.contains("line 99") && !out.contains("line 59"));
    }
}
