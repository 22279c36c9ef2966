//! A series of runs of one scenario (`--repeat N`): figures as min / median / max over the runs,
//! so speed is reported from repeated measurement rather than from one lucky or unlucky run.

use std::collections::BTreeMap;

use super::Report;

/// Min, median and max of one figure over the runs that recorded it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Spread {
    pub runs: usize,
    pub min: u64,
    pub median: u64,
    pub max: u64,
}

impl Spread {
    pub fn of(mut values: Vec<u64>) -> Option<Self> {
        values.sort_unstable();
        let (&min, &max) = (values.first()?, values.last()?);
        // The lower median for an even count: a figure that was actually measured.
        let median = values[(values.len() - 1) / 2];
        Some(Spread {
            runs: values.len(),
            min,
            median,
            max,
        })
    }
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct Series {
    pub runs: Vec<String>,
    pub passed: usize,
    pub figures: BTreeMap<String, Spread>,
}

pub fn series(reports: &[Report]) -> Series {
    let mut values: BTreeMap<String, Vec<u64>> = BTreeMap::new();
    for report in reports {
        for (name, value) in &report.figures {
            values.entry(name.clone()).or_default().push(*value);
        }
        values
            .entry("wall_time_ms".to_owned())
            .or_default()
            .push(report.wall_time_ms);
    }
    Series {
        runs: reports.iter().map(|r| r.run_id.clone()).collect(),
        passed: reports.iter().filter(|r| r.all_pass()).count(),
        figures: values
            .into_iter()
            .filter_map(|(k, v)| Some((k, Spread::of(v)?)))
            .collect(),
    }
}

pub fn series_table(s: &Series) -> String {
    let mut out = String::from("| Figure | Runs | Min | Median | Max |\n|---|---|---|---|---|\n");
    for (name, f) in &s.figures {
        out.push_str(&format!(
            "| {name} | {} | {} | {} | {} |\n",
            f.runs, f.min, f.median, f.max
        ));
    }
    out.push_str(&format!(
        "\n{} of {} runs passed every criterion\n",
        s.passed,
        s.runs.len()
    ));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spreads_take_the_lower_median() {
        assert_eq!(
            Spread::of(vec![50, 41, 54]),
            Some(Spread {
                runs: 3,
                min: 41,
                median: 50,
                max: 54
            })
        );
        assert_eq!(Spread::of(vec![4, 1, 3, 2]).unwrap().median, 2);
        assert_eq!(Spread::of(vec![]), None);
    }
}
