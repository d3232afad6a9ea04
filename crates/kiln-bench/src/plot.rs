//! Plots of a bench run: what `kiln bench --out DIR` draws next to `bench.json`.
//!
//! For every operation of the run ([`Row::op`], per suite) [`write_plots`] draws two charts,
//! each as an SVG and a PNG of [`PLOT_SIZE`] pixels:
//!
//! - `time-<op>`: the median wall time against the size, log-log, one line per (device,
//!   variant), the baseline as a black dashed line, and where a device reports its own clock
//!   (kernel time, or the emulated card's modelled time) a thinner line with hollow markers;
//! - `speedup-<op>`: the median speed-up over the baseline against the size, log-log, with
//!   the repeats' minimum to maximum as error bars and the baseline as a dashed line at 1×.
//!
//! `<op>` is the operation's name with every character outside `[A-Za-z0-9_-]` replaced by
//! `_`; when two operations would share a file name (the same op in two suites) the suite is
//! put in front (`time-<suite>-<op>`), and a number after it if that is not enough.
//!
//! Text is drawn with DejaVu Sans, embedded in the binary (`assets/DejaVuSans.ttf`, licence
//! next to it) and registered with plotters as the `sans-serif` family (normal and bold) the
//! first time plots are drawn in the process: no system font is needed at run time.

use std::collections::BTreeMap;
use std::fmt::Display;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use plotters::coord::ranged1d::{DefaultFormatting, KeyPointHint};
use plotters::coord::Shift;
use plotters::element::DashedPathElement;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use crate::report::{DeviceClock, Report, Row};
use crate::BenchError;

/// The size of every plot, in pixels (the PNG's dimensions and the SVG's view box).
pub const PLOT_SIZE: (u32, u32) = (1024, 640);

/// DejaVu Sans (Bitstream Vera licence, `assets/DejaVuSans-LICENSE.txt`).
static FONT: &[u8] = include_bytes!("../assets/DejaVuSans.ttf");

/// The font family every text of the plots is drawn in.
const FAMILY: &str = "sans-serif";

/// Distinguishable line colours (Tableau 10 without its grey), cycled over the series.
const PALETTE: [RGBColor; 9] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(188, 189, 34),
    RGBColor(23, 190, 207),
];

/// The marker shapes cycled over the series (with a period prime to the palette's, so that
/// colour and shape together tell 36 series apart).
const MARKERS: [Marker; 4] = [
    Marker::Circle,
    Marker::Triangle,
    Marker::Square,
    Marker::Diamond,
];

/// Pixels between the image's edge and the chart.
const MARGIN: u32 = 14;
/// Height of the x axis' tick labels and description.
const X_LABEL_AREA: u32 = 58;
/// Width of the y axis' tick labels and description.
const Y_LABEL_AREA: u32 = 96;
/// The legend's inner margin.
const LEGEND_MARGIN: u32 = 8;
/// Width of a legend entry's line sample.
const LEGEND_SAMPLE: u32 = 34;
/// How far a legend in a corner sits from the plotting area's edges.
const LEGEND_INSET: f64 = 5.0;
/// A marker's radius in pixels.
const MARKER_SIZE: i32 = 5;

/// Writes the plots of `report` into `dir` (created when missing): for every distinct
/// (suite, op) of its rows `time-<op>.svg`, `time-<op>.png`, `speedup-<op>.svg` and
/// `speedup-<op>.png`, in that order, the operations in the order they first appear.
/// Returns the paths written (none for a report without rows).
///
/// Values that cannot be drawn on a log scale (zero, negative, NaN, infinite) are left out;
/// an operation measured at one size only still gets its plots.
pub fn write_plots(report: &Report, dir: &Path) -> Result<Vec<PathBuf>, BenchError> {
    std::fs::create_dir_all(dir)
        .map_err(|e| BenchError::io(dir, "cannot create the plot directory", e))?;
    let groups = op_groups(&report.rows);
    if groups.is_empty() {
        return Ok(Vec::new());
    }
    register_font().map_err(|reason| BenchError::Plot {
        path: dir.to_path_buf(),
        reason,
    })?;
    let series_index = series_indices(&report.rows);
    let stems = file_stems(&groups);
    let mut written = Vec::with_capacity(groups.len() * 4);
    for (group, stem) in groups.iter().zip(&stems) {
        let figures = [
            ("time", time_figure(report, group, &series_index)),
            ("speedup", speedup_figure(report, group, &series_index)),
        ];
        for (kind, figure) in &figures {
            for ext in ["svg", "png"] {
                let path = dir.join(format!("{kind}-{stem}.{ext}"));
                render(figure, &path).map_err(|reason| BenchError::Plot {
                    path: path.clone(),
                    reason,
                })?;
                tracing::debug!(target: crate::TARGET, path = %path.display(), "wrote plot");
                written.push(path);
            }
        }
    }
    Ok(written)
}

/// Registers the embedded font as plotters' `sans-serif` family, once per process.
fn register_font() -> Result<(), String> {
    static REGISTERED: OnceLock<bool> = OnceLock::new();
    let ok = *REGISTERED.get_or_init(|| {
        [FontStyle::Normal, FontStyle::Bold]
            .into_iter()
            .all(|style| plotters::style::register_font(FAMILY, style, FONT).is_ok())
    });
    if ok {
        Ok(())
    } else {
        Err("the embedded DejaVu Sans font could not be loaded".to_string())
    }
}

/// The rows of one operation.
struct OpGroup<'a> {
    suite: &'a str,
    op: &'a str,
    rows: Vec<&'a Row>,
}

/// The rows grouped by (suite, op), in the order the operations first appear.
fn op_groups(rows: &[Row]) -> Vec<OpGroup<'_>> {
    let mut groups: Vec<OpGroup<'_>> = Vec::new();
    for row in rows {
        match groups
            .iter_mut()
            .find(|g| g.suite == row.suite && g.op == row.op)
        {
            Some(group) => group.rows.push(row),
            None => groups.push(OpGroup {
                suite: &row.suite,
                op: &row.op,
                rows: vec![row],
            }),
        }
    }
    groups
}

/// Every (device, variant) of the run numbered in the order it first appears, so that a
/// series keeps its colour and marker in every plot.
fn series_indices(rows: &[Row]) -> BTreeMap<(&str, &str), usize> {
    let mut indices = BTreeMap::new();
    for row in rows {
        let next = indices.len();
        indices
            .entry((row.device.as_str(), row.variant.as_str()))
            .or_insert(next);
    }
    indices
}

/// The palette and marker index of each of a plot's `series`: their run-wide index (so that
/// a series looks the same in every plot) unless two would then look alike in this plot,
/// else their order in it.
fn style_indices(
    series: &[((&str, &str), Vec<&Row>)],
    series_index: &BTreeMap<(&str, &str), usize>,
) -> Vec<usize> {
    let global: Vec<usize> = series
        .iter()
        .enumerate()
        .map(|(i, (key, _))| series_index.get(key).copied().unwrap_or(i))
        .collect();
    let mut colours: Vec<usize> = global.iter().map(|i| i % PALETTE.len()).collect();
    colours.sort_unstable();
    colours.dedup();
    if colours.len() == global.len() {
        global
    } else {
        (0..series.len()).collect()
    }
}

/// `name` with every character outside `[A-Za-z0-9_-]` replaced by `_` (`_` when empty).
fn sanitize(name: &str) -> String {
    if name.is_empty() {
        return "_".to_string();
    }
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// The `<op>` part of each group's file names: the sanitized op, with the suite in front
/// where two groups would share it, and a number after it where that is not enough.
fn file_stems(groups: &[OpGroup<'_>]) -> Vec<String> {
    let plain: Vec<String> = groups.iter().map(|g| sanitize(g.op)).collect();
    let mut taken = std::collections::BTreeSet::new();
    let mut stems = Vec::with_capacity(groups.len());
    for (i, group) in groups.iter().enumerate() {
        let shared = plain.iter().filter(|s| **s == plain[i]).count() > 1;
        let base = if shared {
            sanitize(&format!("{}-{}", group.suite, group.op))
        } else {
            plain[i].clone()
        };
        let mut stem = base.clone();
        let mut n = 2;
        while !taken.insert(stem.clone()) {
            stem = format!("{base}-{n}");
            n += 1;
        }
        stems.push(stem);
    }
    stems
}

/// `v` when it can be drawn on a log scale.
fn positive(v: f64) -> Option<f64> {
    (v.is_finite() && v > 0.0).then_some(v)
}

/// The median of `values` (the mean of the middle two for an even count).
fn median(mut values: Vec<f64>) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    values.sort_by(f64::total_cmp);
    let n = values.len();
    Some(if n % 2 == 1 {
        values[n / 2]
    } else {
        (values[n / 2 - 1] + values[n / 2]) / 2.0
    })
}

/// Per size, the median of `value` over `rows` (values that cannot be drawn left out), as
/// points (log2 size, log10 value).
fn log_points<'a>(
    rows: impl IntoIterator<Item = &'a Row>,
    value: impl Fn(&Row) -> Option<f64>,
) -> Vec<(f64, f64)> {
    let mut by_size: BTreeMap<u32, Vec<f64>> = BTreeMap::new();
    for row in rows {
        if let Some(v) = value(row).and_then(positive) {
            by_size.entry(row.size_log2).or_default().push(v);
        }
    }
    by_size
        .into_iter()
        .filter_map(|(size, values)| Some((f64::from(size), median(values)?.log10())))
        .collect()
}

/// The baseline's name: the rows' (distinct names joined), `None` when they name none.
fn baseline_name(rows: &[&Row]) -> Option<String> {
    let mut names: Vec<&str> = Vec::new();
    for row in rows {
        if !row.baseline.is_empty() && !names.contains(&row.baseline.as_str()) {
            names.push(&row.baseline);
        }
    }
    (!names.is_empty()).then(|| names.join(" / "))
}

/// The baseline's legend label: `baseline (arkworks VariableBaseMSM)`.
fn baseline_label(name: Option<&str>) -> String {
    match name {
        Some(name) => format!("baseline ({name})"),
        None => "baseline".to_string(),
    }
}

/// The (device, variant) series of a group, in the order they first appear, with their rows.
fn group_series<'a>(rows: &[&'a Row]) -> Vec<((&'a str, &'a str), Vec<&'a Row>)> {
    let mut series: Vec<((&str, &str), Vec<&Row>)> = Vec::new();
    for &row in rows {
        let key = (row.device.as_str(), row.variant.as_str());
        match series.iter_mut().find(|(k, _)| *k == key) {
            Some((_, rows)) => rows.push(row),
            None => series.push((key, vec![row])),
        }
    }
    series
}

/// A series' legend label: the device's label, and the variant unless it is `default`.
fn series_label(report: &Report, device: &str, variant: &str) -> String {
    let label = report.label(device);
    if variant == "default" {
        label
    } else {
        format!("{label} [{variant}]")
    }
}

/// What the sizes of a suite count, for the x axis' description.
fn size_unit(suite: &str) -> &'static str {
    match suite {
        "msm" => "points",
        "ntt" => "vector length",
        "prove" | "serve" => "proof domain",
        "rollup" => "transfers per batch",
        _ => "size",
    }
}

/// A marker's shape.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Marker {
    Circle,
    Triangle,
    Square,
    Diamond,
    Cross,
}

/// What the y axis shows (and so how its ticks read).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Scale {
    /// Seconds (`1 ms`).
    Seconds,
    /// A ratio (`2×`).
    Ratio,
}

/// One line of a chart, in log coordinates (log2 size, log10 value).
struct Line {
    label: String,
    colour: RGBColor,
    width: u32,
    dashed: bool,
    marker: Option<Marker>,
    hollow: bool,
    points: Vec<(f64, f64)>,
    /// Error bars: (x, log10 min, log10 max).
    errors: Vec<(f64, f64, f64)>,
}

impl Line {
    /// The line's stroke.
    fn style(&self) -> ShapeStyle {
        ShapeStyle {
            color: self.colour.to_rgba(),
            filled: false,
            stroke_width: self.width,
        }
    }

    /// Every point the line covers, for placing the legend (segments sampled).
    fn coverage(&self) -> Vec<(f64, f64)> {
        let mut out = self.points.clone();
        for pair in self.points.windows(2) {
            let ((x0, y0), (x1, y1)) = (pair[0], pair[1]);
            for i in 1..16 {
                let t = f64::from(i) / 16.0;
                out.push((x0 + (x1 - x0) * t, y0 + (y1 - y0) * t));
            }
        }
        for &(x, lo, hi) in &self.errors {
            out.extend([(x, lo), (x, (lo + hi) / 2.0), (x, hi)]);
        }
        out
    }
}

/// A chart ready to draw.
struct Figure {
    title: String,
    x_desc: String,
    y_desc: String,
    y_scale: Scale,
    /// The smallest and largest log2 size.
    sizes: (f64, f64),
    /// The y values the axis must show whatever the data (log10; `0` for the 1× line).
    y_include: Vec<f64>,
    lines: Vec<Line>,
}

/// The time-against-size chart of one operation.
fn time_figure(
    report: &Report,
    group: &OpGroup<'_>,
    series_index: &BTreeMap<(&str, &str), usize>,
) -> Figure {
    let baseline = baseline_name(&group.rows);
    let mut lines = vec![Line {
        label: baseline_label(baseline.as_deref()),
        colour: BLACK,
        width: 2,
        dashed: true,
        marker: Some(Marker::Cross),
        hollow: false,
        points: log_points(group.rows.iter().copied(), |r| Some(r.baseline_s.median)),
        errors: Vec::new(),
    }];
    let series = group_series(&group.rows);
    let indices = style_indices(&series, series_index);
    for (((device, variant), rows), index) in series.into_iter().zip(indices) {
        let colour = PALETTE[index % PALETTE.len()];
        let marker = MARKERS[index % MARKERS.len()];
        let label = series_label(report, device, variant);
        let device_rows: Vec<&Row> = rows
            .iter()
            .copied()
            .filter(|r| r.device_s.is_some())
            .collect();
        lines.push(Line {
            label: label.clone(),
            colour,
            width: 2,
            dashed: false,
            marker: Some(marker),
            hollow: false,
            points: log_points(rows.iter().copied(), |r| Some(r.wall_s.median)),
            errors: Vec::new(),
        });
        if !device_rows.is_empty() {
            let what = match device_rows.iter().find_map(|r| r.device_clock) {
                Some(DeviceClock::ModelledCard) => "device time (modelled)",
                Some(DeviceClock::Kernel) => "kernel time",
                None => "device time",
            };
            lines.push(Line {
                label: format!("{label} {what}"),
                colour,
                width: 1,
                dashed: false,
                marker: Some(marker),
                hollow: true,
                points: log_points(device_rows.iter().copied(), |r| {
                    r.device_s.as_ref().map(|s| s.median)
                }),
                errors: Vec::new(),
            });
        }
    }
    lines.retain(|line| !line.points.is_empty());
    Figure {
        title: format!("{}: time against size (log-log)", group.op),
        x_desc: format!("size: {} (log scale)", size_unit(group.suite)),
        y_desc: "median wall time (log scale)".to_string(),
        y_scale: Scale::Seconds,
        sizes: size_range(&group.rows),
        y_include: Vec::new(),
        lines,
    }
}

/// The speed-up chart of one operation.
fn speedup_figure(
    report: &Report,
    group: &OpGroup<'_>,
    series_index: &BTreeMap<(&str, &str), usize>,
) -> Figure {
    let baseline = baseline_name(&group.rows);
    let sizes = size_range(&group.rows);
    let series = group_series(&group.rows);
    // Series side by side at each size, so that their error bars do not hide each other.
    let step = if series.len() > 1 {
        (0.6 / (series.len() - 1) as f64).min(0.08)
    } else {
        0.0
    };
    let mut lines = vec![Line {
        label: baseline_label(baseline.as_deref()),
        colour: BLACK,
        width: 2,
        dashed: true,
        marker: None,
        hollow: false,
        points: vec![(sizes.0 - 0.5, 0.0), (sizes.1 + 0.5, 0.0)],
        errors: Vec::new(),
    }];
    let indices = style_indices(&series, series_index);
    for (i, (((device, variant), rows), index)) in series.iter().zip(indices).enumerate() {
        let dodge = (i as f64 - (series.len() - 1) as f64 / 2.0) * step;
        let mut by_size: BTreeMap<u32, Vec<&Row>> = BTreeMap::new();
        for &row in rows {
            by_size.entry(row.size_log2).or_default().push(row);
        }
        let mut points = Vec::new();
        let mut errors = Vec::new();
        for (size, rows) in by_size {
            let x = f64::from(size) + dodge;
            let medians = rows.iter().filter_map(|r| positive(r.speedup.median));
            let Some(mid) = median(medians.collect()) else {
                continue;
            };
            let lo = rows.iter().filter_map(|r| positive(r.speedup.min));
            let hi = rows.iter().filter_map(|r| positive(r.speedup.max));
            let lo = lo.fold(mid, f64::min);
            let hi = hi.fold(mid, f64::max);
            points.push((x, mid.log10()));
            if hi > lo {
                errors.push((x, lo.log10(), hi.log10()));
            }
        }
        let label = series_label(report, device, variant);
        // The speed-up by the device's own clock (the emulated card's model, a GPU's
        // kernel time), thin and hollow beside the wall-clock one.
        let own: Vec<(f64, f64)> = rows
            .iter()
            .filter_map(|r| {
                let s = r.device_speedup.as_ref()?;
                Some((f64::from(r.size_log2) + dodge, positive(s.median)?.log10()))
            })
            .collect();
        let own_clock = rows.iter().find_map(|r| r.device_clock);
        lines.push(Line {
            label: label.clone(),
            colour: PALETTE[index % PALETTE.len()],
            width: 2,
            dashed: false,
            marker: Some(MARKERS[index % MARKERS.len()]),
            hollow: false,
            points,
            errors,
        });
        if !own.is_empty() {
            lines.push(Line {
                label: format!(
                    "{label} by {}",
                    match own_clock {
                        Some(DeviceClock::ModelledCard) => "modelled card time",
                        _ => "kernel time",
                    }
                ),
                colour: PALETTE[index % PALETTE.len()],
                width: 1,
                dashed: false,
                marker: Some(MARKERS[index % MARKERS.len()]),
                hollow: true,
                points: own,
                errors: Vec::new(),
            });
        }
    }
    lines.retain(|line| !line.points.is_empty());
    Figure {
        title: format!(
            "{}: speed-up over {}",
            group.op,
            baseline.as_deref().unwrap_or("the baseline")
        ),
        x_desc: format!("size: {} (log scale)", size_unit(group.suite)),
        y_desc: "speed-up: baseline time / time (log scale)".to_string(),
        y_scale: Scale::Ratio,
        sizes,
        y_include: vec![0.0],
        lines,
    }
}

/// The smallest and largest log2 size of `rows`.
fn size_range(rows: &[&Row]) -> (f64, f64) {
    let lo = rows.iter().map(|r| r.size_log2).min().unwrap_or(0);
    let hi = rows.iter().map(|r| r.size_log2).max().unwrap_or(lo);
    (f64::from(lo), f64::from(hi))
}

/// An axis: its range and where its labelled (bold) and unlabelled (light) grid lines go.
/// Linear over the log values it is given.
#[derive(Clone, Debug)]
struct Axis {
    lo: f64,
    hi: f64,
    bold: Vec<f64>,
    light: Vec<f64>,
}

impl Ranged for Axis {
    type FormatOption = DefaultFormatting;
    type ValueType = f64;

    fn map(&self, value: &f64, limit: (i32, i32)) -> i32 {
        let t = (value - self.lo) / (self.hi - self.lo);
        if !t.is_finite() {
            return (limit.0 + limit.1) / 2;
        }
        let pixel = f64::from(limit.0) + f64::from(limit.1 - limit.0) * t;
        // Clamped far outside the image, so that a stray value cannot overflow.
        pixel.round().clamp(-1e6, 1e6) as i32
    }

    fn key_points<Hint: KeyPointHint>(&self, hint: Hint) -> Vec<f64> {
        if hint.weight().allow_light_points() {
            self.light.clone()
        } else {
            self.bold.clone()
        }
    }

    fn range(&self) -> std::ops::Range<f64> {
        self.lo..self.hi
    }
}

/// The x axis over log2 sizes `lo..=hi`: half a doubling of room either side, a tick at
/// every size or every few, so that there are at most `max_ticks` (and at least one).
fn x_axis((lo, hi): (f64, f64), max_ticks: usize) -> Axis {
    let span = hi - lo;
    let max_steps = max_ticks.saturating_sub(1).max(1) as f64;
    let step = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 8.0, 10.0, 16.0, 32.0]
        .into_iter()
        .find(|s| (span / s).floor() <= max_steps)
        .unwrap_or_else(|| (span / max_steps).ceil());
    let mut bold = Vec::new();
    let mut x = lo;
    while x <= hi {
        bold.push(x);
        x += step;
    }
    // Light lines at every size in between, unless that is a wall of them.
    let light = if step > 1.0 && span <= 64.0 {
        (lo as i64..=hi as i64).map(|k| k as f64).collect()
    } else {
        Vec::new()
    };
    Axis {
        lo: lo - 0.5,
        hi: hi + 0.5,
        bold,
        light,
    }
}

/// The log10 range `lo..hi` widened to at least one decade and padded a little.
fn y_range(lo: f64, hi: f64) -> (f64, f64) {
    let (mut lo, mut hi) = (lo, hi);
    if hi - lo < 1.0 {
        let mid = (lo + hi) / 2.0;
        lo = mid - 0.5;
        hi = mid + 0.5;
    }
    let pad = (hi - lo) * 0.06;
    (lo - pad, hi + pad)
}

/// Ticks for a log10 axis `lo..hi`: 1-2-3-5, 1-2-5 or 1-3 steps over a short range, decades
/// (with light lines at 2..9) over a longer one, every few decades over a very long one.
fn y_axis(lo: f64, hi: f64) -> Axis {
    let span = hi - lo;
    let (mantissas, light_mantissas, decade_step): (&[f64], &[f64], i64) = if span <= 1.5 {
        (&[1.0, 2.0, 3.0, 5.0], &[4.0, 6.0, 7.0, 8.0, 9.0], 1)
    } else if span <= 2.5 {
        (&[1.0, 2.0, 5.0], &[3.0, 4.0, 6.0, 7.0, 8.0, 9.0], 1)
    } else if span <= 4.0 {
        (&[1.0, 3.0], &[2.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0], 1)
    } else if span <= 7.0 {
        (&[1.0], &[2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0], 1)
    } else {
        (&[1.0], &[], (span / 8.0).ceil() as i64)
    };
    let first = lo.floor() as i64 - 1;
    let last = hi.ceil() as i64 + 1;
    let within = |v: &f64| *v >= lo && *v <= hi;
    let mut bold = Vec::new();
    let mut light = Vec::new();
    for decade in first..=last {
        let d = decade as f64;
        if decade.rem_euclid(decade_step) == 0 {
            bold.extend(mantissas.iter().map(|m| d + m.log10()));
        } else {
            light.push(d);
        }
        light.extend(light_mantissas.iter().map(|m| d + m.log10()));
    }
    bold.retain(within);
    light.retain(within);
    Axis {
        lo,
        hi,
        bold,
        light,
    }
}

/// `v` rounded to `digits` significant digits.
fn round_sig(v: f64, digits: i32) -> f64 {
    if v == 0.0 || !v.is_finite() {
        return v;
    }
    let e = digits - 1 - v.abs().log10().floor() as i32;
    if e >= 0 {
        let f = 10f64.powi(e);
        (v * f).round() / f
    } else {
        let f = 10f64.powi(-e);
        (v / f).round() * f
    }
}

/// A time in seconds as a tick label: `1 ms`, `20 µs`, `1.5 s`.
fn format_seconds(s: f64) -> String {
    // Nudged up so that 10^log10(1e-3) reads `1 ms`, not `1000 µs`.
    let nudged = s * (1.0 + 1e-9);
    let (unit, name) = if nudged >= 1.0 {
        (1.0, "s")
    } else if nudged >= 1e-3 {
        (1e-3, "ms")
    } else if nudged >= 1e-6 {
        (1e-6, "µs")
    } else {
        (1e-9, "ns")
    };
    format!("{} {name}", round_sig(s / unit, 3))
}

/// A ratio as a tick label: `0.5×`, `1×`, `20×`.
fn format_ratio(r: f64) -> String {
    format!("{}×", round_sig(r, 3))
}

/// A corner of the plotting area.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Corner {
    UpperLeft,
    UpperRight,
    LowerRight,
    LowerLeft,
}

/// Where the legend goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum LegendPlace {
    /// In a corner of the plotting area.
    Inside(Corner),
    /// Right of the plotting area (too big to sit over the data).
    Outside,
}

/// The legend's text and its size in pixels.
struct Legend<'a> {
    font: TextStyle<'a>,
    line_height: i32,
    width: i32,
    height: i32,
}

impl<'a> Legend<'a> {
    /// Measures the legend of `lines` in font size `size` on `area`.
    fn measure<DB: DrawingBackend>(
        area: &DrawingArea<DB, Shift>,
        lines: &[Line],
        size: f64,
    ) -> Result<Legend<'a>, String> {
        let font = (FAMILY, size).into_font().color(&BLACK);
        let (_, text_h) = area.estimate_text_size("Ag", &font).map_err(err)?;
        let line_height = (f64::from(text_h) * 1.35).round().max(16.0) as i32;
        let mut text_w = 0;
        for line in lines {
            let (w, _) = area.estimate_text_size(&line.label, &font).map_err(err)?;
            text_w = text_w.max(w as i32);
        }
        let margin = LEGEND_MARGIN as i32;
        let width = text_w + LEGEND_SAMPLE as i32 + 6 + 2 * margin;
        let height = line_height * lines.len() as i32 + 2 * margin;
        Ok(Legend {
            font,
            line_height,
            width,
            height,
        })
    }

    /// Draws the legend of `lines` on `area` with its top left corner at `origin`.
    fn draw<DB: DrawingBackend>(
        &self,
        area: &DrawingArea<DB, Shift>,
        origin: (i32, i32),
        lines: &[Line],
    ) -> Result<(), String> {
        let corner = (origin.0 + self.width, origin.1 + self.height);
        area.draw(&Rectangle::new([origin, corner], WHITE.mix(0.92).filled()))
            .map_err(err)?;
        area.draw(&Rectangle::new([origin, corner], BLACK.mix(0.4)))
            .map_err(err)?;
        let margin = LEGEND_MARGIN as i32;
        let text_style = self.font.pos(Pos::new(HPos::Left, VPos::Center));
        for (i, line) in lines.iter().enumerate() {
            let x = origin.0 + margin;
            let y = origin.1 + margin + self.line_height * i as i32 + self.line_height / 2;
            draw_legend_sample(area, line, (x, y))?;
            let text_x = x + LEGEND_SAMPLE as i32 + 6;
            area.draw(&Text::new(line.label.as_str(), (text_x, y), &text_style))
                .map_err(err)?;
        }
        Ok(())
    }
}

/// Draws a legend entry's sample of `line` (a stretch of it with its marker) on `area`,
/// `anchor` its left end.
fn draw_legend_sample<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    line: &Line,
    anchor: (i32, i32),
) -> Result<(), String> {
    let sample = LEGEND_SAMPLE as i32;
    // A solid line is a dash as long as the sample.
    let (dash, gap) = if line.dashed { (7, 4) } else { (sample, 0) };
    let (fill, outline) = marker_shape(line.marker, (sample / 2, 0), line.colour, line.hollow);
    let element = EmptyElement::at(anchor)
        + DashedPathElement::new(vec![(0, 0), (sample, 0)], dash, gap, line.style())
        + fill
        + outline;
    area.draw(&element).map_err(err)
}

/// Draws `figure` to `path`: SVG when its extension is `svg`, PNG otherwise.
fn render(figure: &Figure, path: &Path) -> Result<(), String> {
    if path.extension().is_some_and(|e| e == "svg") {
        let root = SVGBackend::new(path, PLOT_SIZE).into_drawing_area();
        draw(figure, &root)?;
        root.present().map_err(err)
    } else {
        let root = BitMapBackend::new(path, PLOT_SIZE).into_drawing_area();
        draw(figure, &root)?;
        root.present().map_err(err)
    }
}

/// Any error as the message [`BenchError::Plot`] carries.
fn err(e: impl Display) -> String {
    e.to_string()
}

/// The y range of `figure`'s data (log10), at least a decade, padded.
fn figure_y_range(figure: &Figure) -> (f64, f64) {
    let mut values: Vec<f64> = figure
        .lines
        .iter()
        .flat_map(|l| {
            let points = l.points.iter().map(|p| p.1);
            points.chain(l.errors.iter().flat_map(|e| [e.1, e.2]))
        })
        .chain(figure.y_include.iter().copied())
        .filter(|v| v.is_finite())
        .collect();
    if values.is_empty() {
        values = match figure.y_scale {
            Scale::Seconds => vec![-3.0, 0.0],
            Scale::Ratio => vec![0.0],
        };
    }
    let lo = values.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    y_range(lo, hi)
}

/// Where the legend goes and the top of the y axis that leaves room for it: the corner of
/// the plotting area (`plot` pixels) where it covers no data; failing that, an upper corner
/// with the y axis raised so the data stays below it; failing that (too big), outside.
fn place_legend(
    figure: &Figure,
    legend: &Legend<'_>,
    plot: (f64, f64),
    x: &Axis,
    (y_lo, y_hi): (f64, f64),
) -> (LegendPlace, f64) {
    let frac_w = (f64::from(legend.width) + 2.0 * LEGEND_INSET) / plot.0;
    let frac_h = (f64::from(legend.height) + 2.0 * LEGEND_INSET) / plot.1;
    if frac_h > 0.5 || frac_w > 0.55 {
        return (LegendPlace::Outside, y_hi);
    }
    // Markers stick out of their points: keep a marker's width of room.
    let (pad_x, pad_y) = (8.0 / plot.0, 8.0 / plot.1);
    let covered: Vec<(f64, f64)> = figure
        .lines
        .iter()
        .flat_map(Line::coverage)
        .map(|(px, py)| ((px - x.lo) / (x.hi - x.lo), (py - y_lo) / (y_hi - y_lo)))
        .collect();
    let count = |left: bool, top: bool| {
        covered
            .iter()
            .filter(|(px, py)| {
                let in_x = if left {
                    *px <= frac_w + pad_x
                } else {
                    *px >= 1.0 - frac_w - pad_x
                };
                let in_y = if top {
                    *py >= 1.0 - frac_h - pad_y
                } else {
                    *py <= frac_h + pad_y
                };
                in_x && in_y
            })
            .count()
    };
    let corners = [
        (Corner::UpperLeft, count(true, true)),
        (Corner::UpperRight, count(false, true)),
        (Corner::LowerRight, count(false, false)),
        (Corner::LowerLeft, count(true, false)),
    ];
    let best = corners[1..]
        .iter()
        .fold(corners[0], |best, c| if c.1 < best.1 { *c } else { best });
    if best.1 == 0 {
        return (LegendPlace::Inside(best.0), y_hi);
    }
    // Room above the data: the data keeps the part of the axis below the legend.
    let raised = y_lo + (y_hi - y_lo) / (1.0 - frac_h - pad_y);
    let top = if corners[0].1 <= corners[1].1 {
        Corner::UpperLeft
    } else {
        Corner::UpperRight
    };
    (LegendPlace::Inside(top), raised)
}

/// Draws `figure` on `root`.
fn draw<DB: DrawingBackend>(figure: &Figure, root: &DrawingArea<DB, Shift>) -> Result<(), String> {
    root.fill(&WHITE).map_err(err)?;
    let area = root
        .titled(&figure.title, (FAMILY, 27).into_font().color(&BLACK))
        .map_err(err)?;
    let (area_w, area_h) = area.dim_in_pixel();
    let plot_w = f64::from(area_w.saturating_sub(2 * MARGIN + Y_LABEL_AREA).max(1));
    let plot_h = f64::from(area_h.saturating_sub(2 * MARGIN + X_LABEL_AREA).max(1));

    let mut legend = Legend::measure(&area, &figure.lines, 17.0)?;
    let x = x_axis(figure.sizes, 2);
    let (y_lo, y_hi) = figure_y_range(figure);
    let (place, y_hi) = if figure.lines.is_empty() {
        (LegendPlace::Inside(Corner::UpperLeft), y_hi)
    } else {
        place_legend(figure, &legend, (plot_w, plot_h), &x, (y_lo, y_hi))
    };
    let y = y_axis(y_lo, y_hi);
    // A tick label (`2^20`) every 70 pixels at most.
    let x_room = match place {
        LegendPlace::Outside => plot_w - f64::from(legend.width),
        LegendPlace::Inside(_) => plot_w,
    };
    let x = x_axis(figure.sizes, (x_room / 70.0) as usize);

    // Outside, the legend takes the right of the image, its text shrunk to fit the height.
    let (chart_area, side) = match place {
        LegendPlace::Outside => {
            let room = f64::from(area_h.saturating_sub(2 * MARGIN).max(1));
            if f64::from(legend.height) > room {
                let size = (17.0 * room / f64::from(legend.height)).max(9.0);
                legend = Legend::measure(&area, &figure.lines, size)?;
            }
            let width = (legend.width as u32 + MARGIN).min(area_w / 2);
            let (chart_area, side) = area.split_horizontally(area_w - width);
            (chart_area, Some(side))
        }
        LegendPlace::Inside(_) => (area.clone(), None),
    };

    let mut chart = ChartBuilder::on(&chart_area)
        .margin(MARGIN)
        .x_label_area_size(X_LABEL_AREA)
        .y_label_area_size(Y_LABEL_AREA)
        .build_cartesian_2d(x, y)
        .map_err(err)?;
    let x_format = |v: &f64| format!("2^{}", v.round() as i64);
    let y_format = |v: &f64| match figure.y_scale {
        Scale::Seconds => format_seconds(10f64.powf(*v)),
        Scale::Ratio => format_ratio(10f64.powf(*v)),
    };
    chart
        .configure_mesh()
        .x_desc(figure.x_desc.as_str())
        .y_desc(figure.y_desc.as_str())
        .x_label_formatter(&x_format)
        .y_label_formatter(&y_format)
        .label_style((FAMILY, 18).into_font().color(&BLACK))
        .axis_desc_style((FAMILY, 18).into_font().color(&BLACK))
        .bold_line_style(BLACK.mix(0.2))
        .light_line_style(BLACK.mix(0.07))
        .axis_style(BLACK.mix(0.8))
        .draw()
        .map_err(err)?;

    // Lines under markers; the baseline's markers (on its dashed line) on top of all.
    for line in &figure.lines {
        let style = line.style();
        if line.dashed {
            chart.draw_series(DashedLineSeries::new(line.points.clone(), 10, 6, style))
        } else {
            chart.draw_series(LineSeries::new(line.points.clone(), style))
        }
        .map_err(err)?;
    }
    for line in figure.lines.iter().filter(|l| !l.dashed) {
        draw_marks(&mut chart, line)?;
    }
    for line in figure.lines.iter().filter(|l| l.dashed) {
        draw_marks(&mut chart, line)?;
    }

    if figure.lines.is_empty() {
        return Ok(());
    }
    match (place, side) {
        (LegendPlace::Inside(corner), _) => {
            let plotting = chart.plotting_area().strip_coord_spec();
            let (w, h) = plotting.dim_in_pixel();
            let (w, h) = (w as i32, h as i32);
            let inset = LEGEND_INSET as i32;
            let origin = match corner {
                Corner::UpperLeft => (inset, inset),
                Corner::UpperRight => (w - legend.width - inset, inset),
                Corner::LowerRight => (w - legend.width - inset, h - legend.height - inset),
                Corner::LowerLeft => (inset, h - legend.height - inset),
            };
            legend.draw(&plotting, origin, &figure.lines)
        }
        (LegendPlace::Outside, Some(side)) => legend.draw(&side, (0, MARGIN as i32), &figure.lines),
        (LegendPlace::Outside, None) => Ok(()),
    }
}

/// The chart type [`draw`] builds.
type Chart<'a, DB> = ChartContext<'a, DB, Cartesian2d<Axis, Axis>>;

/// Draws a line's error bars and markers.
fn draw_marks<DB: DrawingBackend>(chart: &mut Chart<'_, DB>, line: &Line) -> Result<(), String> {
    let (marker, colour, hollow) = (line.marker, line.colour, line.hollow);
    let bar = ShapeStyle {
        color: line.colour.to_rgba(),
        filled: false,
        stroke_width: 1,
    };
    if !line.errors.is_empty() {
        chart
            .draw_series(
                line.errors
                    .iter()
                    .map(|&(ex, lo, hi)| PathElement::new(vec![(ex, lo), (ex, hi)], bar)),
            )
            .map_err(err)?;
        chart
            .draw_series(line.errors.iter().flat_map(|&(ex, lo, hi)| {
                [lo, hi].map(|ey| {
                    EmptyElement::at((ex, ey)) + PathElement::new(vec![(-5, 0), (5, 0)], bar)
                })
            }))
            .map_err(err)?;
    }
    if line.marker.is_some() {
        chart
            .draw_series(line.points.iter().map(|&p| {
                let (fill, outline) = marker_shape(marker, (0, 0), colour, hollow);
                EmptyElement::at(p) + fill + outline
            }))
            .map_err(err)?;
    }
    Ok(())
}

/// A marker's filling and outline, in pixels from its anchor.
type MarkerParts = (Polygon<(i32, i32)>, PathElement<(i32, i32)>);

/// A marker of `shape` centred `centre` pixels from its anchor, as its filling and its
/// outline (hollow markers are filled white). No marker is an invisible point.
fn marker_shape(
    shape: Option<Marker>,
    centre: (i32, i32),
    colour: RGBColor,
    hollow: bool,
) -> MarkerParts {
    let r = f64::from(MARKER_SIZE);
    let vertices: Vec<(f64, f64)> = match shape {
        None => vec![(0.0, 0.0); 3],
        Some(Marker::Circle) => (0..16)
            .map(|i| {
                let a = f64::from(i) * std::f64::consts::PI / 8.0;
                (r * a.cos(), r * a.sin())
            })
            .collect(),
        Some(Marker::Triangle) => vec![(0.0, -r - 1.0), (r + 1.0, r), (-r - 1.0, r)],
        Some(Marker::Square) => {
            let h = r - 0.5;
            vec![(-h, -h), (h, -h), (h, h), (-h, h)]
        }
        Some(Marker::Diamond) => vec![
            (0.0, -r - 1.0),
            (r + 1.0, 0.0),
            (0.0, r + 1.0),
            (-r - 1.0, 0.0),
        ],
        // An X drawn as one path through its centre.
        Some(Marker::Cross) => vec![(-r, -r), (r, r), (0.0, 0.0), (-r, r), (r, -r)],
    };
    let points: Vec<(i32, i32)> = vertices
        .iter()
        .map(|&(x, y)| (centre.0 + x.round() as i32, centre.1 + y.round() as i32))
        .collect();
    let (fill, stroke): (ShapeStyle, ShapeStyle) = match shape {
        None => (TRANSPARENT.filled(), TRANSPARENT.into()),
        Some(Marker::Cross) => (TRANSPARENT.filled(), colour.stroke_width(2)),
        Some(_) if hollow => (WHITE.filled(), colour.stroke_width(1)),
        Some(_) => (colour.filled(), colour.stroke_width(1)),
    };
    let mut path = points.clone();
    if !matches!(shape, Some(Marker::Cross)) {
        path.push(points[0]);
    }
    (Polygon::new(points, fill), PathElement::new(path, stroke))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::{DeviceEntry, Machine, Stats, SCHEMA};

    /// Three samples around `median`.
    fn stats(median: f64) -> Stats {
        Stats::of(&[median * 0.97, median, median * 1.08]).unwrap()
    }

    /// A row with wall time `wall` and baseline time `baseline`.
    fn row(op: &str, size_log2: u32, device: &str, variant: &str, wall: f64, baseline: f64) -> Row {
        let (suite, baseline_name) = if op.starts_with("msm") {
            ("msm", "arkworks VariableBaseMSM")
        } else {
            ("prove", "cpu backend")
        };
        let ratio = baseline / wall;
        Row {
            suite: suite.to_string(),
            op: op.to_string(),
            size_log2,
            device: device.to_string(),
            variant: variant.to_string(),
            wall_s: stats(wall),
            device_s: None,
            device_clock: None,
            baseline: baseline_name.to_string(),
            baseline_s: stats(baseline),
            speedup: Stats::of(&[ratio * 0.85, ratio, ratio * 1.1]).unwrap(),
            device_speedup: None,
            vs_cpu: None,
            note: None,
        }
    }

    fn device(device: &str, label: &str, emulated: bool) -> DeviceEntry {
        DeviceEntry {
            device: device.to_string(),
            label: label.to_string(),
            name: device.to_string(),
            host_cpu: true,
            emulated,
            memory_bytes: None,
            note: None,
        }
    }

    fn report(rows: Vec<Row>) -> Report {
        Report {
            schema: SCHEMA.to_string(),
            started_unix: 0,
            command: vec!["kiln".into(), "bench".into()],
            machine: Machine::default(),
            devices: vec![
                device("cpu:0", "cpu:0", false),
                device("fpga:0", "fpga:0 (emulated)", true),
            ],
            rows,
            failures: vec![],
        }
    }

    /// Two devices (the emulated card with modelled card time), a second variant, sizes
    /// 2^12..2^14 of `msm-g1`, and `prove groth16` at one size.
    fn sample_report() -> Report {
        let mut rows = Vec::new();
        for size in 12..=14u32 {
            let n = f64::from(1u32 << size);
            rows.push(row(
                "msm-g1",
                size,
                "cpu:0",
                "default",
                n * 2e-6,
                n * 2.6e-6,
            ));
            rows.push(row("msm-g1", size, "cpu:0", "c=16", n * 1.8e-6, n * 2.6e-6));
            let mut fpga = row("msm-g1", size, "fpga:0", "default", n * 9e-6, n * 2.6e-6);
            fpga.device_s = Some(stats(n * 3e-7));
            fpga.device_clock = Some(DeviceClock::ModelledCard);
            rows.push(fpga);
        }
        rows.push(row("prove groth16", 10, "cpu:0", "default", 0.8, 0.8));
        let mut fpga = row("prove groth16", 10, "fpga:0", "default", 2.5, 0.8);
        fpga.device_s = Some(stats(0.3));
        fpga.device_clock = Some(DeviceClock::ModelledCard);
        rows.push(fpga);
        report(rows)
    }

    /// The width and height in a PNG's IHDR and the total length of its IDAT chunks.
    fn png_facts(bytes: &[u8]) -> (u32, u32, usize) {
        assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n", "PNG signature");
        assert_eq!(&bytes[12..16], b"IHDR");
        let be = |at: usize| u32::from_be_bytes(bytes[at..at + 4].try_into().unwrap());
        let (width, height) = (be(16), be(20));
        let mut idat = 0;
        let mut at = 8;
        while at + 8 <= bytes.len() {
            let len = be(at) as usize;
            if &bytes[at + 4..at + 8] == b"IDAT" {
                idat += len;
            }
            at += 12 + len;
        }
        (width, height, idat)
    }

    /// The IDAT length of a blank white PNG of [`PLOT_SIZE`].
    fn blank_idat(dir: &Path) -> usize {
        let path = dir.join("blank.png");
        {
            let root = BitMapBackend::new(&path, PLOT_SIZE).into_drawing_area();
            root.fill(&WHITE).unwrap();
            root.present().unwrap();
        }
        png_facts(&std::fs::read(&path).unwrap()).2
    }

    /// The texts of an SVG's `<text>` elements, unescaped.
    fn svg_texts(svg: &str) -> Vec<String> {
        svg.split("<text")
            .skip(1)
            .filter_map(|t| {
                let body = &t[t.find('>')? + 1..t.find("</text>")?];
                let body = body.trim();
                Some(
                    body.replace("&lt;", "<")
                        .replace("&gt;", ">")
                        .replace("&quot;", "\"")
                        .replace("&apos;", "'")
                        .replace("&amp;", "&"),
                )
            })
            .collect()
    }

    /// Whether the SVG has a `<text>` element reading `text`.
    fn has_text(svg: &str, text: &str) -> bool {
        svg_texts(svg).iter().any(|t| t == text)
    }

    #[test]
    fn writes_svg_and_png_of_both_plots_per_op() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("plots");
        let written = write_plots(&sample_report(), &out).unwrap();

        let mut expected = Vec::new();
        for stem in ["msm-g1", "prove_groth16"] {
            for kind in ["time", "speedup"] {
                for ext in ["svg", "png"] {
                    expected.push(out.join(format!("{kind}-{stem}.{ext}")));
                }
            }
        }
        assert_eq!(written, expected);

        let blank = blank_idat(dir.path());
        for path in written.iter().filter(|p| p.extension().unwrap() == "png") {
            let (w, h, idat) = png_facts(&std::fs::read(path).unwrap());
            assert_eq!((w, h), PLOT_SIZE, "{}", path.display());
            // A blank 1024x640 image encodes to about 11 kB, these plots to 40-80 kB.
            assert!(
                idat > 2 * blank,
                "{}: {idat} bytes of image data (blank: {blank})",
                path.display()
            );
        }

        let series = [
            "cpu:0",
            "cpu:0 [c=16]",
            "fpga:0 (emulated)",
            "baseline (arkworks VariableBaseMSM)",
        ];
        let svg = |name: &str| std::fs::read_to_string(out.join(name)).unwrap();
        let check = |text: &str, title: &str, labels: &[&str]| {
            assert!(text.starts_with("<svg") || text.starts_with("<?xml"));
            assert!(text.trim_end().ends_with("</svg>"));
            assert!(has_text(text, title), "title {title:?}");
            for label in labels {
                assert!(has_text(text, label), "legend label {label:?}");
            }
        };
        let mut time_labels = series.to_vec();
        time_labels.push("fpga:0 (emulated) device time (modelled)");
        check(
            &svg("time-msm-g1.svg"),
            "msm-g1: time against size (log-log)",
            &time_labels,
        );
        check(
            &svg("speedup-msm-g1.svg"),
            "msm-g1: speed-up over arkworks VariableBaseMSM",
            &series,
        );
        let time = svg("time-msm-g1.svg");
        for tick in ["2^12", "2^13", "2^14", "10 ms", "100 ms"] {
            assert!(has_text(&time, tick), "tick {tick:?}");
        }
        assert!(has_text(&svg("speedup-msm-g1.svg"), "1×"));
        check(
            &svg("time-prove_groth16.svg"),
            "prove groth16: time against size (log-log)",
            &[
                "cpu:0",
                "fpga:0 (emulated)",
                "fpga:0 (emulated) device time (modelled)",
                "baseline (cpu backend)",
            ],
        );
        check(
            &svg("speedup-prove_groth16.svg"),
            "prove groth16: speed-up over cpu backend",
            &["cpu:0", "fpga:0 (emulated)", "baseline (cpu backend)"],
        );
        assert!(has_text(&svg("time-prove_groth16.svg"), "2^10"));
    }

    #[test]
    fn kernel_clock_is_labelled_kernel_time() {
        let mut gpu = row("msm-g1", 12, "opencl:0", "default", 0.01, 0.02);
        gpu.device_s = Some(stats(0.005));
        gpu.device_clock = Some(DeviceClock::Kernel);
        let dir = tempfile::tempdir().unwrap();
        write_plots(&report(vec![gpu]), dir.path()).unwrap();
        let text = std::fs::read_to_string(dir.path().join("time-msm-g1.svg")).unwrap();
        assert!(has_text(&text, "opencl:0 kernel time"));
    }

    #[test]
    fn unplottable_values_do_not_panic() {
        let bad = |v: f64| Stats {
            min: v,
            median: v,
            max: v,
            samples: vec![v],
        };
        let mut rows = Vec::new();
        for (i, v) in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY, 0.0, -1.0]
            .into_iter()
            .enumerate()
        {
            let mut r = row("msm-g1", 10 + i as u32, "cpu:0", "default", 0.01, 0.02);
            r.wall_s = bad(v);
            r.baseline_s = bad(v);
            r.speedup = bad(v);
            r.device_s = Some(bad(v));
            r.device_clock = Some(DeviceClock::Kernel);
            rows.push(r);
            // Nothing plottable at all in this op.
            let mut r = row("msm-g2", 12, "fpga:0", "default", 0.01, 0.02);
            r.wall_s = bad(v);
            r.baseline_s = bad(v);
            r.speedup = bad(v);
            rows.push(r);
        }
        // Plottable medians with unplottable or inverted bounds.
        let mut r = row("msm-g1", 16, "fpga:0", "default", 0.01, 0.02);
        r.speedup = Stats {
            min: f64::NAN,
            median: 2.0,
            max: 1.0,
            samples: vec![],
        };
        rows.push(r);
        // Extreme but valid values.
        rows.push(row("msm-g3", 0, "cpu:0", "default", 1e-150, 1e150));
        rows.push(row("msm-g3", 40, "cpu:0", "default", 1e150, 1e-150));

        let dir = tempfile::tempdir().unwrap();
        let written = write_plots(&report(rows), dir.path()).unwrap();
        assert_eq!(written.len(), 12);
        assert!(written.iter().all(|p| p.is_file()));
    }

    #[test]
    fn no_rows_no_plots() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("a/b");
        assert!(write_plots(&report(Vec::new()), &out).unwrap().is_empty());
        assert!(out.is_dir());
    }

    #[test]
    fn file_names_are_sanitized_and_distinct() {
        assert_eq!(sanitize("msm-g1"), "msm-g1");
        assert_eq!(sanitize("ntt/forward 2^n"), "ntt_forward_2_n");
        assert_eq!(sanitize(""), "_");
        let mut rows = vec![
            row("a b", 10, "cpu:0", "default", 1.0, 1.0),
            row("a_b", 10, "cpu:0", "default", 1.0, 1.0),
            row("prove", 10, "cpu:0", "default", 1.0, 1.0),
        ];
        let mut other = row("prove", 10, "cpu:0", "default", 1.0, 1.0);
        other.suite = "serve".to_string();
        rows.push(other);
        let groups = op_groups(&rows);
        assert_eq!(
            file_stems(&groups),
            ["prove-a_b", "prove-a_b-2", "prove-prove", "serve-prove"]
        );
    }

    #[test]
    fn ticks_read_as_times_and_ratios() {
        assert_eq!(format_seconds(1e-3), "1 ms");
        assert_eq!(format_seconds(10f64.powf(-3.0)), "1 ms");
        assert_eq!(format_seconds(10f64.powf(2f64.log10() - 3.0)), "2 ms");
        assert_eq!(format_seconds(0.05), "50 ms");
        assert_eq!(format_seconds(1.0), "1 s");
        assert_eq!(format_seconds(10f64.powf(1.0)), "10 s");
        assert_eq!(format_seconds(2e-5), "20 µs");
        assert_eq!(format_seconds(5e-9), "5 ns");
        assert_eq!(format_ratio(10f64.powf(0.0)), "1×");
        assert_eq!(format_ratio(10f64.powf(-(2f64.log10()))), "0.5×");
        assert_eq!(format_ratio(10f64.powf(2.0)), "100×");

        let x = x_axis((12.0, 12.0), 12);
        assert!(x.lo < 12.0 && x.hi > 12.0);
        assert_eq!(x.bold, [12.0]);
        assert_eq!(x_axis((10.0, 40.0), 12).bold.len(), 11);
        assert_eq!(
            x_axis((10.0, 20.0), 7).bold,
            [10.0, 12.0, 14.0, 16.0, 18.0, 20.0]
        );
        assert_eq!(x_axis((10.0, 20.0), 11).bold.len(), 11);
        let wide = x_axis((0.0, f64::from(u32::MAX)), 12);
        assert!(wide.bold.len() <= 12 && wide.light.is_empty());

        // Short ranges get 1-2-3-5 or 1-2-5 ticks, long ones decades.
        let labels = |lo: f64, hi: f64| -> Vec<String> {
            let y = y_axis(lo, hi);
            y.bold
                .iter()
                .map(|v| format_seconds(10f64.powf(*v)))
                .collect()
        };
        assert_eq!(
            labels(-3.1, -1.9),
            ["1 ms", "2 ms", "3 ms", "5 ms", "10 ms"]
        );
        assert_eq!(
            labels(-3.1, -1.2),
            ["1 ms", "2 ms", "5 ms", "10 ms", "20 ms", "50 ms"]
        );
        assert_eq!(
            labels(-3.1, -0.1),
            ["1 ms", "3 ms", "10 ms", "30 ms", "100 ms", "300 ms"]
        );
        assert_eq!(
            labels(-6.5, -0.5),
            ["1 µs", "10 µs", "100 µs", "1 ms", "10 ms", "100 ms"]
        );
        assert!(y_axis(-300.0, 300.0).bold.len() <= 10);
    }
}
