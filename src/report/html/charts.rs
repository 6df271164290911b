//! Line charts drawn by plotters into SVG text, ready to inline in the
//! page. A chart is described as data ([`LineChart`]); one function draws
//! any of them, whichever axes are logarithmic.

use std::io;
use std::ops::Range;

use anyhow::anyhow;
use plotters::coord::Shift;
use plotters::coord::ranged1d::{
    AsRangedCoord, DefaultFormatting, KeyPointHint, Ranged, ValueFormatter,
};
use plotters::prelude::*;

/// Width of a chart that shares a row with another, in pixels.
pub const HALF_WIDTH: u32 = 560;
/// Height of every chart.
pub const HEIGHT: u32 = 250;

/// Colours that stay apart from each other on white and in greyscale.
pub const BLUE: RGBColor = RGBColor(31, 104, 178);
/// Second colour of a chart.
pub const ORANGE: RGBColor = RGBColor(222, 128, 22);
/// Third colour; also the colour of errors and worst cases.
pub const RED: RGBColor = RGBColor(196, 44, 52);
/// Fourth colour.
pub const GREEN: RGBColor = RGBColor(46, 140, 86);

const AXIS: RGBColor = RGBColor(110, 110, 110);
const GRID: RGBColor = RGBColor(232, 232, 232);
const FONT: &str = "sans-serif";
/// Label size as given to plotters, whose SVG text comes out at about
/// four fifths of it: 14 reads as the page's small print.
const LABEL_SIZE: u32 = 14;

/// Most labels on a time axis.
const TIME_TICKS: usize = 8;

/// Seconds between the points of a time series: one per interval.
const TIME_STEP: f64 = 1.0;

/// What the horizontal axis shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum XAxis {
    /// Seconds since the start of the run, labelled as a clock.
    Time,
    /// 1/(1-q) on a log scale, labelled as the percentile q.
    Percentile,
}

/// What the vertical axis shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum YAxis {
    /// Milliseconds on a linear scale from zero.
    Millis,
    /// Milliseconds on a log scale, for spreads of several decades.
    LogMillis,
    /// A count or rate on a linear scale from zero.
    Count,
}

/// One line of a chart.
#[derive(Debug, Clone)]
pub struct Line {
    /// Legend text.
    pub label: String,
    /// Stroke colour.
    pub colour: RGBColor,
    /// Points in axis units, in x order.
    pub points: Vec<(f64, f64)>,
    /// Stroke width in pixels. A wider line drawn first stays visible as
    /// a border around a narrower one that runs along it.
    pub width: u32,
}

/// A chart to draw.
#[derive(Debug, Clone)]
pub struct LineChart {
    /// Size in pixels.
    pub size: (u32, u32),
    /// Horizontal axis.
    pub x: XAxis,
    /// Vertical axis.
    pub y: YAxis,
    /// The lines; those without points are left out.
    pub lines: Vec<Line>,
    /// Where a time axis ends, in seconds: the run's length, so that every
    /// time chart of a page spans the same run whatever its own data
    /// covers. The axis still reaches past the last point.
    pub x_end: Option<f64>,
}

impl LineChart {
    /// True if and only if no line has a point to draw.
    pub fn is_empty(&self) -> bool {
        self.lines.iter().all(|l| l.points.is_empty())
    }
}

type Area<'a> = DrawingArea<SVGBackend<'a>, Shift>;
type DrawResult = Result<(), DrawingAreaErrorKind<io::Error>>;

/// Draws `chart` as one `<svg>` element.
pub fn draw(chart: &LineChart) -> anyhow::Result<String> {
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, chart.size).into_drawing_area();
        draw_on(&root, chart)
            .and_then(|()| root.present())
            .map_err(|err| anyhow!("drawing a chart of {} lines: {err}", chart.lines.len()))?;
    }
    Ok(svg)
}

fn draw_on(root: &Area<'_>, chart: &LineChart) -> DrawResult {
    root.fill(&WHITE)?;
    let x = x_range(chart);
    let y = y_range(chart);

    // Log axes get ticks of our choosing: plotters' own mark only powers
    // of ten, which leaves a chart spanning one decade with a single label.
    match (chart.x, chart.y) {
        (XAxis::Time, YAxis::LogMillis) => {
            let y_ticks = log_ticks(&y);
            plot(
                root,
                chart,
                TimeAxis::new(x),
                y.log_scale().with_key_points(y_ticks),
            )
        }
        (XAxis::Time, _) => plot(root, chart, TimeAxis::new(x), y),
        (XAxis::Percentile, YAxis::LogMillis) => {
            let (x_ticks, y_ticks) = (percentile_ticks(&x), log_ticks(&y));
            let x = x.log_scale().with_key_points(x_ticks);
            plot(root, chart, x, y.log_scale().with_key_points(y_ticks))
        }
        (XAxis::Percentile, _) => {
            let x_ticks = percentile_ticks(&x);
            plot(root, chart, x.log_scale().with_key_points(x_ticks), y)
        }
    }
}

/// A linear axis of seconds whose ticks are [`time_ticks`]. plotters'
/// own linear axis with chosen key points gives up its default label
/// formatting, which the chart code needs to stay generic over axes.
struct TimeAxis {
    range: Range<f64>,
    ticks: Vec<f64>,
}

impl TimeAxis {
    fn new(range: Range<f64>) -> TimeAxis {
        TimeAxis {
            ticks: time_ticks(&range),
            range,
        }
    }
}

impl Ranged for TimeAxis {
    type FormatOption = DefaultFormatting;
    type ValueType = f64;

    fn map(&self, value: &f64, limit: (i32, i32)) -> i32 {
        let span = self.range.end - self.range.start;
        let pixels = limit.1 - limit.0;
        if span <= 0.0 || pixels == 0 {
            return limit.1;
        }
        let share = (value - self.range.start) / span;
        limit.0 + (f64::from(pixels) * share + 1e-3).floor() as i32
    }

    fn key_points<Hint: KeyPointHint>(&self, _hint: Hint) -> Vec<f64> {
        self.ticks.clone()
    }

    fn range(&self) -> Range<f64> {
        self.range.clone()
    }
}

/// Whole seconds at a round step (1, 2, 5, 10, 15, 30 s, minutes, hours)
/// giving at most [`TIME_TICKS`] labels: plotters' own would fall on
/// fractions of a second in a short run, which the clock labels round to
/// repeated values.
fn time_ticks(range: &Range<f64>) -> Vec<f64> {
    const STEPS: [f64; 17] = [
        1.0, 2.0, 5.0, 10.0, 15.0, 30.0, 60.0, 120.0, 300.0, 600.0, 900.0, 1800.0, 3600.0, 7200.0,
        10800.0, 21600.0, 43200.0,
    ];
    let span = (range.end - range.start).max(1.0);
    let step = STEPS
        .into_iter()
        .find(|step| span / step <= TIME_TICKS as f64)
        .unwrap_or(86_400.0 * (span / 86_400.0 / TIME_TICKS as f64).ceil());
    let first = (range.start / step).ceil() as u64;
    let last = (range.end / step).floor() as u64;
    (first..=last).map(|k| k as f64 * step).collect()
}

/// 0 %, 50 %, then each further nine: 90 %, 99 %, 99.9 % and on.
fn percentile_ticks(range: &Range<f64>) -> Vec<f64> {
    let nines = (0..8).map(|k| 10f64.powi(k));
    let mut ticks: Vec<f64> = std::iter::once(2.0).chain(nines).collect();
    ticks.sort_by(f64::total_cmp);
    ticks.retain(|t| range.contains(t) || *t == range.end);
    ticks
}

/// Round values across `range`: 1, 2 and 5 times powers of ten over a few
/// decades, powers of ten alone over more.
fn log_ticks(range: &Range<f64>) -> Vec<f64> {
    // y_range keeps a log axis above zero; the clamp guards the arithmetic.
    let range = range.start.max(1e-6)..range.end.max(1e-5);
    let first = range.start.log10().floor() as i32;
    let last = range.end.log10().ceil() as i32;
    let steps: &[f64] = if last - first <= 3 {
        &[1.0, 2.0, 5.0]
    } else {
        &[1.0]
    };

    (first..=last)
        .flat_map(|k| steps.iter().map(move |m| m * 10f64.powi(k)))
        .filter(|t| range.contains(t))
        .collect()
}

fn plot<X, Y>(root: &Area<'_>, chart: &LineChart, x: X, y: Y) -> DrawResult
where
    X: AsRangedCoord<Value = f64>,
    Y: AsRangedCoord<Value = f64>,
    X::CoordDescType: ValueFormatter<f64>,
    Y::CoordDescType: ValueFormatter<f64>,
{
    let mut ctx = ChartBuilder::on(root)
        .margin(10)
        .x_label_area_size(28)
        .y_label_area_size(64)
        .build_cartesian_2d(x, y)?;

    let x_label = x_formatter(chart.x);
    let y_label = y_formatter(chart.y);
    ctx.configure_mesh()
        .light_line_style(WHITE)
        .bold_line_style(GRID)
        .axis_style(AXIS)
        .label_style((FONT, LABEL_SIZE).into_font().color(&AXIS))
        .x_labels(8)
        .y_labels(6)
        .x_label_formatter(&x_label)
        .y_label_formatter(&y_label)
        .draw()?;

    for line in chart.lines.iter().filter(|l| !l.points.is_empty()) {
        let (colour, width) = (line.colour, line.width);
        let mut first = true;
        for run in segments(&line.points, chart.x) {
            // A second on its own would be a line of no length: a dot.
            let dots = (run.len() == 1).then(|| Circle::new(run[0], 3, colour.filled()));
            let drawn = if let Some(dot) = dots {
                ctx.draw_series(std::iter::once(dot))?
            } else {
                let style = colour.stroke_width(width);
                ctx.draw_series(LineSeries::new(run.iter().copied(), style))?
            };
            if std::mem::take(&mut first) {
                drawn.label(line.label.as_str()).legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 16, y)], colour.stroke_width(width))
                });
            }
        }
    }

    // A spectrum climbs to the right, leaving its lower right empty; time
    // charts get headroom above their lines instead (see y_range).
    let corner = match chart.x {
        XAxis::Time => SeriesLabelPosition::UpperLeft,
        XAxis::Percentile => SeriesLabelPosition::LowerRight,
    };
    ctx.configure_series_labels()
        .position(corner)
        .background_style(WHITE.mix(0.85))
        .border_style(GRID)
        .label_font((FONT, LABEL_SIZE))
        .draw()
}

/// The stretches of a line to draw joined up. On a time axis a point is a
/// second that had samples; a second without any is missing from the
/// series, and joining across it would draw a trend nobody measured.
fn segments(points: &[(f64, f64)], axis: XAxis) -> Vec<&[(f64, f64)]> {
    if axis != XAxis::Time {
        return vec![points];
    }
    points
        .chunk_by(|a, b| b.0 - a.0 <= TIME_STEP + 1e-6)
        .collect()
}

fn x_range(chart: &LineChart) -> Range<f64> {
    let (low, high) = bounds(chart, |p| p.0);
    match chart.x {
        XAxis::Time => {
            0.0..(high + TIME_STEP)
                .max(chart.x_end.unwrap_or(0.0).ceil())
                .max(1.0)
        }
        XAxis::Percentile => 1.0..high.max(low.max(1.0) * 10.0),
    }
}

fn y_range(chart: &LineChart) -> Range<f64> {
    let (low, high) = bounds(chart, |p| p.1);
    match chart.y {
        // A millisecond's tenth of a microsecond is below any timer, so it
        // stands in for zero on a log axis.
        YAxis::LogMillis => {
            let low = low.max(1e-3) / 1.5;
            low..(high * 1.5).max(low * 10.0)
        }
        // The headroom keeps the top-left legend clear of the lines.
        YAxis::Millis | YAxis::Count => 0.0..(high * 1.4).max(1.0),
    }
}

fn bounds(chart: &LineChart, value: impl Fn(&(f64, f64)) -> f64) -> (f64, f64) {
    let values = chart.lines.iter().flat_map(|l| l.points.iter()).map(value);
    let positive = values.filter(|v| v.is_finite() && *v > 0.0);
    let (low, high) = positive.fold((f64::INFINITY, 0.0_f64), |(low, high), v| {
        (low.min(v), high.max(v))
    });
    // Without a positive value there is no scale to take; one unit keeps a
    // log axis finite, where an infinite one would never finish its ticks.
    if low.is_finite() {
        (low, high)
    } else {
        (1.0, 1.0)
    }
}

fn x_formatter(axis: XAxis) -> impl Fn(&f64) -> String {
    move |value| match axis {
        XAxis::Time => clock(*value),
        XAxis::Percentile => percentile(*value),
    }
}

fn y_formatter(axis: YAxis) -> impl Fn(&f64) -> String {
    move |value| match axis {
        YAxis::Millis | YAxis::LogMillis => millis(*value),
        YAxis::Count => count(*value),
    }
}

/// `m:ss`, or `h:mm:ss` from an hour on.
pub fn clock(seconds: f64) -> String {
    let total = seconds.max(0.0).round() as u64;
    let (h, m, s) = (total / 3600, total / 60 % 60, total % 60);
    if h > 0 {
        format!("{h}:{m:02}:{s:02}")
    } else {
        format!("{m}:{s:02}")
    }
}

/// 1/(1-q) as the percentile q: 10 is `90%`, 1000 is `99.9%`.
pub fn percentile(inverse: f64) -> String {
    let q = 100.0 * (1.0 - 1.0 / inverse.max(1.0));
    let decimals = (inverse.log10().round() as usize).saturating_sub(2);
    format!("{q:.decimals$}%")
}

/// Milliseconds with the unit that keeps them short.
pub fn millis(ms: f64) -> String {
    match ms {
        ms if ms >= 1000.0 => format!("{} s", trim(ms / 1000.0)),
        ms if ms >= 1.0 || ms == 0.0 => format!("{} ms", trim(ms)),
        ms => format!("{} µs", trim(ms * 1000.0)),
    }
}

fn count(value: f64) -> String {
    if value >= 10_000.0 {
        format!("{}k", trim(value / 1000.0))
    } else {
        trim(value)
    }
}

/// At most three significant digits, no trailing zeros.
fn trim(value: f64) -> String {
    let decimals = match value.abs() {
        v if v >= 100.0 => 0,
        v if v >= 10.0 => 1,
        _ => 2,
    };
    let text = format!("{value:.decimals$}");
    if text.contains('.') {
        text.trim_end_matches('0').trim_end_matches('.').to_owned()
    } else {
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_read_as_people_write_them() {
        assert_eq!(clock(65.0), "1:05");
        assert_eq!(clock(3723.0), "1:02:03");
        assert_eq!(percentile(1.0), "0%");
        assert_eq!(percentile(10.0), "90%");
        assert_eq!(percentile(1000.0), "99.9%");
        assert_eq!(millis(0.25), "250 µs");
        assert_eq!(millis(12.5), "12.5 ms");
        assert_eq!(millis(2500.0), "2.5 s");
        assert_eq!(count(25_000.0), "25k");
    }

    #[test]
    fn every_axis_combination_draws_an_svg_with_its_legend() {
        let line = Line {
            label: "p99".into(),
            colour: RED,
            points: vec![(1.0, 0.5), (10.0, 4.0), (100.0, 40.0)],
            width: 2,
        };
        for x in [XAxis::Time, XAxis::Percentile] {
            for y in [YAxis::Millis, YAxis::LogMillis, YAxis::Count] {
                let chart = LineChart {
                    size: (HALF_WIDTH, HEIGHT),
                    x,
                    y,
                    lines: vec![line.clone()],
                    x_end: None,
                };
                let svg = draw(&chart).unwrap();
                assert!(svg.starts_with("<svg"), "{x:?} {y:?}");
                assert!(svg.contains(">p99<") || svg.contains("p99"), "{x:?} {y:?}");
                assert!(svg.contains("<polyline"), "{x:?} {y:?}");
            }
        }
    }

    #[test]
    fn time_ticks_fall_on_whole_seconds_at_a_round_step() {
        assert_eq!(time_ticks(&(0.0..2.0)), [0.0, 1.0, 2.0]);
        assert_eq!(
            time_ticks(&(0.0..14.0)),
            [0.0, 2.0, 4.0, 6.0, 8.0, 10.0, 12.0, 14.0]
        );
        let hour = time_ticks(&(0.0..3600.0));
        assert_eq!(hour.len(), 7, "{hour:?}");
        assert_eq!(hour[1], 600.0);
        let labels: Vec<String> = time_ticks(&(0.0..2.0)).iter().map(|t| clock(*t)).collect();
        assert_eq!(labels, ["0:00", "0:01", "0:02"], "no label repeats");
    }

    #[test]
    fn a_chart_with_no_points_still_draws_its_axes() {
        let chart = LineChart {
            size: (HALF_WIDTH, HEIGHT),
            x: XAxis::Time,
            y: YAxis::LogMillis,
            lines: Vec::new(),
            x_end: Some(10.0),
        };
        assert!(chart.is_empty());
        assert!(draw(&chart).unwrap().contains("<svg"));
    }

    #[test]
    fn a_time_chart_spans_the_whole_run_and_breaks_at_seconds_without_samples() {
        let points = vec![
            (0.0, 1.0),
            (1.0, 2.0),
            (2.0, 1.0),
            (5.0, 3.0),
            (8.0, 2.0),
            (9.0, 1.0),
        ];
        let chart = LineChart {
            size: (HALF_WIDTH, HEIGHT),
            x: XAxis::Time,
            y: YAxis::Millis,
            lines: vec![Line {
                label: "p50".into(),
                colour: BLUE,
                points: points.clone(),
                width: 2,
            }],
            x_end: Some(13.1),
        };
        assert_eq!(x_range(&chart), 0.0..14.0);
        let runs: Vec<usize> = segments(&points, XAxis::Time)
            .iter()
            .map(|r| r.len())
            .collect();
        assert_eq!(runs, [3, 1, 2]);

        // Two stretches and the legend's sample are blue strokes; the
        // lone second is a blue dot.
        let svg = draw(&chart).unwrap();
        let strokes = svg.matches("stroke=\"#1F68B2\" stroke-width=\"2\"").count();
        assert_eq!(strokes, 3, "{svg}");
        assert_eq!(svg.matches("<circle").count(), 1, "{svg}");
        assert_eq!(svg.matches("\np50\n").count(), 1, "one legend entry: {svg}");

        let spectrum = segments(&points, XAxis::Percentile);
        assert_eq!(spectrum.len(), 1, "a spectrum is one line");
    }
}
