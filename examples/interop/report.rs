//! The tables of the scenarios beside the suite matrix (gateway, key log, AH): a row per
//! client / algorithm / mode, a column per check, the same cells and counting as the matrix.

use std::path::PathBuf;

use crate::Cell;

pub(crate) struct Table {
    pub(crate) title: String,
    pub(crate) columns: Vec<&'static str>,
    pub(crate) rows: Vec<TableRow>,
    /// lines printed under the table, before the details
    pub(crate) notes: Vec<String>,
}

pub(crate) struct TableRow {
    pub(crate) label: String,
    pub(crate) cells: Vec<Cell>,
    pub(crate) notes: Vec<String>,
    pub(crate) files: Option<PathBuf>,
}

impl TableRow {
    /// A row whose cells are all "not run" yet.
    pub(crate) fn new(label: impl Into<String>, columns: usize) -> TableRow {
        TableRow {
            label: label.into(),
            cells: vec![Cell::Skip("not run".into()); columns],
            notes: Vec::new(),
            files: None,
        }
    }

    pub(crate) fn set(&mut self, col: usize, ok: bool, detail: impl Into<String>) {
        let d = detail.into();
        if let Some(c) = self.cells.get_mut(col) {
            *c = if ok { Cell::Pass(d) } else { Cell::Fail(d) };
        }
    }

    pub(crate) fn put(&mut self, col: usize, cell: Cell) {
        if let Some(c) = self.cells.get_mut(col) {
            *c = cell;
        }
    }

    /// Every cell still "not run" fails with `why`.
    pub(crate) fn fail_unset(&mut self, why: &str) {
        for c in self.cells.iter_mut() {
            if matches!(c, Cell::Skip(s) if s == "not run") {
                *c = Cell::Fail(why.to_string());
            }
        }
    }
}

impl Table {
    pub(crate) fn new(title: impl Into<String>, columns: &[&'static str]) -> Table {
        Table {
            title: title.into(),
            columns: columns.to_vec(),
            rows: Vec::new(),
            notes: Vec::new(),
        }
    }

    /// A table whose one row failed before any check could run.
    pub(crate) fn failed(title: &str, columns: &[&'static str], label: &str, why: &str) -> Table {
        let mut t = Table::new(title, columns);
        let mut r = TableRow::new(label, columns.len());
        r.fail_unset(why);
        t.rows.push(r);
        t
    }

    /// Prints the table and its details; returns (passed, failed, skipped) cells.
    pub(crate) fn print(&self) -> (usize, usize, usize) {
        let mut out = String::new();
        let w0 = self
            .rows
            .iter()
            .map(|r| r.label.chars().count())
            .max()
            .unwrap_or(5)
            .max(5);
        let widths: Vec<usize> = self.columns.iter().map(|c| c.len().max(10)).collect();
        out.push_str(&format!("\n{}\n{:<w0$}", self.title, ""));
        for (c, w) in self.columns.iter().zip(&widths) {
            out.push_str(&format!(" | {c:<w$}"));
        }
        out.push('\n');
        out.push_str(&"-".repeat(w0 + widths.iter().map(|w| w + 3).sum::<usize>()));
        out.push('\n');
        let (mut pass, mut fail, mut skip) = (0, 0, 0);
        for r in &self.rows {
            out.push_str(&format!("{:<w0$}", r.label));
            for (c, w) in r.cells.iter().zip(&widths) {
                let t = match c {
                    Cell::Pass(_) => {
                        pass += 1;
                        "ok"
                    }
                    Cell::Fail(_) => {
                        fail += 1;
                        "FAIL"
                    }
                    Cell::Skip(_) => {
                        skip += 1;
                        "n/a"
                    }
                    Cell::Absent => "-",
                };
                out.push_str(&format!(" | {t:<w$}"));
            }
            out.push('\n');
        }
        for n in &self.notes {
            out.push_str(&format!("{n}\n"));
        }
        out.push_str("details:\n");
        for r in &self.rows {
            match &r.files {
                Some(f) => out.push_str(&format!("{} (files in {}):\n", r.label, f.display())),
                None => out.push_str(&format!("{}:\n", r.label)),
            }
            for (i, c) in r.cells.iter().enumerate() {
                let (t, d) = match c {
                    Cell::Pass(d) => ("ok  ", d),
                    Cell::Fail(d) => ("FAIL", d),
                    Cell::Skip(d) => ("n/a ", d),
                    Cell::Absent => continue,
                };
                let name = self.columns.get(i).copied().unwrap_or("?");
                out.push_str(&format!("  {t} {name:<12}: {d}\n"));
            }
            for n in &r.notes {
                out.push_str(&format!("  note: {n}\n"));
            }
        }
        print!("{out}");
        (pass, fail, skip)
    }
}
