//! Every program prints its own markdown table and appends each figure to the results file
//! named by `BENCH_RESULTS` (tab-separated: section, figure, value, target, result), from
//! which `scripts/bench` prints the one table of the run.

use std::io::Write;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    Pass,
    Fail,
    /// A figure without a target.
    Info,
}

impl Verdict {
    pub fn of(pass: bool) -> Verdict {
        if pass { Verdict::Pass } else { Verdict::Fail }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Pass => "pass",
            Verdict::Fail => "FAIL",
            Verdict::Info => "-",
        }
    }
}

/// One figure of the final table.
pub fn record(section: &str, figure: &str, value: &str, target: &str, verdict: Verdict) {
    let Ok(path) = std::env::var("BENCH_RESULTS") else {
        return;
    };
    let clean = |s: &str| s.replace(['\t', '\n'], " ");
    let line = format!(
        "{}\t{}\t{}\t{}\t{}\n",
        clean(section),
        clean(figure),
        clean(value),
        clean(if target.is_empty() { "-" } else { target }),
        verdict.as_str()
    );
    let written = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
        .and_then(|mut file| file.write_all(line.as_bytes()));
    if let Err(error) = written {
        eprintln!("cannot append to {path}: {error}");
    }
}

/// A markdown table on standard output.
pub fn print_table(title: &str, header: &[&str], rows: &[Vec<String>]) {
    println!("\n### {title}\n");
    println!("| {} |", header.join(" | "));
    println!(
        "|{}|",
        header.iter().map(|_| "---").collect::<Vec<_>>().join("|")
    );
    for row in rows {
        println!("| {} |", row.join(" | "));
    }
    println!();
}
