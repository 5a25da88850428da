//! The Markdown the sections write.

use std::fmt::Write as _;

/// A section's heading, the paragraphs saying how it measured, and the
/// head of its table (`columns` as "A | B | C").
pub fn section(report: &mut String, heading: &str, method: &[&str], columns: &str) {
    let _ = writeln!(report, "\n## {heading}\n");
    for paragraph in method {
        let _ = writeln!(report, "{paragraph}\n");
    }
    let _ = writeln!(report, "| {columns} |");
    let _ = writeln!(report, "|{}", "---|".repeat(columns.split(" | ").count()));
}
