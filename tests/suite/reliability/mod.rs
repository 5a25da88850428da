//! The contract's hard rules under failure: every dependency against every
//! fault, AWS's documented errors, races and slow dependencies.

mod aws_errors;
mod fault_matrix;
mod races;
mod slow;

/// Prints a matrix and writes it to `target/reliability/{file}`, then fails
/// with every violation, the matrix below them.
fn publish(file: &str, table: &str, violations: &[String]) {
    println!("{table}");
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target/reliability");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join(file), table).unwrap();
    assert!(violations.is_empty(), "{}\n{table}", violations.join("\n"));
}
