//! The HdrHistogram interval log, `latency.hlog`: one line per interval
//! and tag, a V2 deflate-compressed histogram in base64, readable by the
//! Java and Rust HdrHistogram tools.
//!
//! Lines are encoded as each interval is harvested, so the run keeps a few
//! hundred bytes per interval and tag instead of whole histograms. One
//! compressor serves the whole run: the harvest shares the workers' cores,
//! and a fresh one per line, as hdrhistogram's own serializer makes, costs
//! most of a harvest (see [`LineSerializer`]). The
//! `StartTime` and `BaseTime` headers carry the wall-clock start, and line
//! timestamps are seconds after it, so logs of several machines can be
//! merged on wall-clock time.

use std::fs::File;
use std::io::{self, Seek, SeekFrom, Write};
use std::path::Path;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::Context;
use base64::Engine;
use flate2::{Compress, Compression, FlushCompress, Status};
use hdrhistogram::serialization::interval_log::{
    IntervalLogHistogram, IntervalLogIterator, IntervalLogWriterBuilder, LogEntry, Tag,
};
use hdrhistogram::serialization::{Deserializer, Serializer, V2Serializer};
use hdrhistogram::{Counter, Histogram};

use crate::api::Endpoint;

/// Suffix of the tag that holds an endpoint's service time; the bare
/// endpoint name holds its response time.
pub const SERVICE_SUFFIX: &str = ".service";

/// The tag of an endpoint's service-time histogram, `<endpoint>.service`.
pub fn service_tag(endpoint: Endpoint) -> String {
    format!("{}{SERVICE_SUFFIX}", endpoint.name())
}

/// Encoded lines held in memory before they go to the spill file: a few
/// minutes of a busy run.
const SPILL_AT: usize = 1 << 20;

/// Encodes interval histograms into log lines as the run goes.
///
/// Lines gather in memory and move to an unnamed temporary file each time
/// they pass [`SPILL_AT`], so a day-long soak holds a megabyte of them, not
/// hundreds. The file has no name, so nothing is left behind whatever way
/// the process ends.
pub struct HlogRecorder {
    serializer: LineSerializer,
    lines: Vec<u8>,
    spill: Option<File>,
}

impl Default for HlogRecorder {
    fn default() -> Self {
        HlogRecorder {
            serializer: LineSerializer::new(),
            lines: Vec::new(),
            spill: None,
        }
    }
}

impl HlogRecorder {
    /// An empty recorder.
    pub fn new() -> HlogRecorder {
        HlogRecorder::default()
    }

    /// Appends one interval of one tag; `start` counts from the run start.
    pub fn push(
        &mut self,
        tag: &str,
        start: Duration,
        length: Duration,
        histogram: &Histogram<u64>,
    ) -> anyhow::Result<()> {
        let tag = Tag::new(tag).with_context(|| format!("`{tag}` is not a valid log tag"))?;

        // A builder with no headers writes nothing itself, so a fresh one
        // per interval appends bare lines to the body.
        let mut writer = IntervalLogWriterBuilder::new()
            .begin_log_with(&mut self.lines, &mut self.serializer)?;
        writer
            .write_histogram(histogram, start, length, Some(tag))
            .with_context(|| format!("encoding the `{tag:?}` histogram"))?;
        if self.lines.len() >= SPILL_AT {
            self.spill()
                .context("moving interval log lines to a temporary file")?;
        }
        Ok(())
    }

    fn spill(&mut self) -> io::Result<()> {
        let file = match &mut self.spill {
            Some(file) => file,
            None => self.spill.insert(tempfile::tempfile()?),
        };
        file.write_all(&self.lines)?;
        self.lines.clear();
        Ok(())
    }

    /// The lines written so far.
    pub fn finish(self) -> HlogLines {
        HlogLines {
            spill: self.spill,
            lines: self.lines,
        }
    }
}

/// The V2 compressed encoding the log's lines hold, in the format of
/// hdrhistogram's `V2DeflateSerializer`, with one compressor and its
/// buffers kept from line to line, at a lower level.
///
/// The library's serializer builds a compressor per histogram, and with it
/// about 200 KB to allocate and zero: 147 µs of its 167 µs per histogram,
/// and 93 % of the 2.76 million instructions a harvest of the overhead
/// benchmark's probe took. Reset instead, it encodes one in 20 µs. Of
/// what is left, deflating dominates: a histogram of a busy second (5 KB
/// before compression) takes 39 µs at the default level 6 and 19 µs at
/// [`LEVEL`], for lines 8 % longer.
struct LineSerializer {
    v2: V2Serializer,
    plain: Vec<u8>,
    compress: Compress,
}

/// The deflate level of the lines: half the time of the default for a
/// little more size; any zlib reader decodes any level.
const LEVEL: u32 = 3;

/// The V2 compressed format's first word, as hdrhistogram defines it.
const V2_COMPRESSED_COOKIE: u32 = 0x1c84_9304 | 0x10;

impl LineSerializer {
    fn new() -> LineSerializer {
        LineSerializer {
            v2: V2Serializer::new(),
            plain: Vec::new(),
            compress: Compress::new(Compression::new(LEVEL), true),
        }
    }

    /// Deflates `self.plain` onto the end of `out`.
    fn deflate_into(&mut self, out: &mut Vec<u8>) -> io::Result<()> {
        self.compress.reset();
        loop {
            let consumed = usize::try_from(self.compress.total_in()).unwrap_or(usize::MAX);
            let rest = self.plain.get(consumed..).unwrap_or_default();
            // The output only grows into spare capacity, so it gets some
            // before each pass; most histograms fit in the first.
            out.reserve(rest.len() / 2 + 64);
            let status = self
                .compress
                .compress_vec(rest, out, FlushCompress::Finish)
                .map_err(io::Error::other)?;
            if status == Status::StreamEnd {
                return Ok(());
            }
        }
    }
}

impl Serializer for LineSerializer {
    type SerializeError = io::Error;

    fn serialize<T: Counter, W: Write>(
        &mut self,
        histogram: &Histogram<T>,
        writer: &mut W,
    ) -> io::Result<usize> {
        self.plain.clear();
        self.v2
            .serialize(histogram, &mut self.plain)
            .map_err(io::Error::other)?;

        let mut out = Vec::with_capacity(8 + self.plain.len() / 2);
        out.extend_from_slice(&V2_COMPRESSED_COOKIE.to_be_bytes());
        out.extend_from_slice(&[0; 4]);
        self.deflate_into(&mut out)?;
        let length = u32::try_from(out.len() - 8).map_err(io::Error::other)?;
        out[4..8].copy_from_slice(&length.to_be_bytes());
        writer.write_all(&out)?;
        Ok(out.len())
    }
}

/// Encoded interval lines, waiting for their header: those spilled to a
/// temporary file, then those still in memory.
#[derive(Debug, Default)]
pub struct HlogLines {
    spill: Option<File>,
    lines: Vec<u8>,
}

impl HlogLines {
    /// True if and only if no interval was recorded.
    pub fn is_empty(&self) -> bool {
        self.spill.is_none() && self.lines.is_empty()
    }

    /// Copies every line to `out`, in the order they were recorded.
    fn copy_to<W: Write>(&self, out: &mut W) -> io::Result<()> {
        if let Some(mut file) = self.spill.as_ref() {
            // Reads share the file's cursor with the writes before them.
            file.seek(SeekFrom::Start(0))?;
            io::copy(&mut file, out)?;
        }
        out.write_all(&self.lines)
    }
}

/// Writes a whole log: the header with `started_at` as both start and
/// base time, then the lines.
pub fn write_hlog<W: Write>(
    out: &mut W,
    started_at: SystemTime,
    lines: &HlogLines,
) -> io::Result<()> {
    let mut serializer = LineSerializer::new();
    IntervalLogWriterBuilder::new()
        .add_comment("chatload latency log: microseconds; tags are endpoints and measures,")
        .add_comment("<endpoint> for response time and <endpoint>.service for service time")
        .add_comment("[Histogram log format version 1.3]")
        .with_start_time(started_at)
        .with_base_time(started_at)
        .begin_log_with(out, &mut serializer)?;
    lines.copy_to(out)?;
    out.flush()
}

/// One interval of one tag, read back from a log.
#[derive(Debug, Clone)]
pub struct IntervalHistogram {
    /// Endpoint or measure name; `<endpoint>.service` for service time.
    pub tag: String,
    /// Wall-clock start of the interval, to the millisecond.
    pub start: SystemTime,
    /// Length of the interval.
    pub duration: Duration,
    /// The samples, in microseconds.
    pub histogram: Histogram<u64>,
}

/// Reads an interval log written by [`write_hlog`] or another HdrHistogram
/// tool.
pub fn read_hlog(path: &Path) -> anyhow::Result<Vec<IntervalHistogram>> {
    let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    parse_hlog(&bytes).with_context(|| format!("reading interval log {}", path.display()))
}

/// Parses the bytes of an interval log.
pub fn parse_hlog(bytes: &[u8]) -> anyhow::Result<Vec<IntervalHistogram>> {
    let mut base = None;
    let mut start_time = None;
    let mut deserializer = Deserializer::new();
    let mut intervals = Vec::new();

    for entry in IntervalLogIterator::new(bytes) {
        let entry = entry.map_err(|err| {
            anyhow::anyhow!("malformed line ({err:?}); is this an HdrHistogram interval log?")
        })?;
        match entry {
            LogEntry::BaseTime(time) => base = Some(time),
            LogEntry::StartTime(time) => start_time = Some(time),
            LogEntry::Interval(line) => {
                let offset = line_base(base, start_time, line.start_timestamp());
                intervals.push(decode(&mut deserializer, &line, offset)?);
            }
        }
    }
    Ok(intervals)
}

/// The `StartTime` header of an interval log, if it has one: the wall-clock
/// start of the run that wrote it, to the millisecond.
pub fn start_time(bytes: &[u8]) -> Option<SystemTime> {
    IntervalLogIterator::new(bytes)
        .filter_map(Result::ok)
        .find_map(|entry| match entry {
            LogEntry::StartTime(time) => Some(UNIX_EPOCH + time),
            _ => None,
        })
}

/// What line timestamps count from. Without a BaseTime the Java reader
/// treats timestamps far below StartTime as relative to it, and others as
/// Unix time; this follows it so foreign logs read the same.
fn line_base(base: Option<Duration>, start: Option<Duration>, stamp: Duration) -> Duration {
    const YEAR: Duration = Duration::from_secs(365 * 24 * 3600);
    match (base, start) {
        (Some(base), _) => base,
        (None, Some(start)) if stamp + YEAR < start => start,
        _ => Duration::ZERO,
    }
}

fn decode(
    deserializer: &mut Deserializer,
    line: &IntervalLogHistogram<'_>,
    base: Duration,
) -> anyhow::Result<IntervalHistogram> {
    let tag = line
        .tag()
        .map(|t| t.as_str().to_owned())
        .unwrap_or_default();
    let at = line.start_timestamp();
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(line.encoded_histogram())
        .with_context(|| format!("interval `{tag}` at {at:?} is not base64"))?;
    let mut histogram: Histogram<u64> = deserializer
        .deserialize(&mut bytes.as_slice())
        .with_context(|| format!("interval `{tag}` at {at:?} holds no valid histogram"))?;

    // Read-back histograms get merged with others of any range.
    histogram.auto(true);
    let start = UNIX_EPOCH + base + at;
    Ok(IntervalHistogram {
        tag,
        start,
        duration: line.duration(),
        histogram,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn histogram(values: &[u64]) -> Histogram<u64> {
        let mut h = Histogram::new(3).unwrap();
        for &v in values {
            h.record(v).unwrap();
        }
        h
    }

    #[test]
    fn lines_read_back_with_their_tags_times_and_samples() {
        let started_at = UNIX_EPOCH + Duration::from_millis(1_796_320_800_250);
        let first = histogram(&[10, 20, 30]);
        let second = histogram(&[1_000_000]);
        let mut recorder = HlogRecorder::new();
        recorder
            .push(
                "request_chat",
                Duration::ZERO,
                Duration::from_secs(1),
                &first,
            )
            .unwrap();
        let length = Duration::from_millis(500);
        recorder
            .push(
                "poll_events.service",
                Duration::from_secs(7),
                length,
                &second,
            )
            .unwrap();

        let mut file = Vec::new();
        write_hlog(&mut file, started_at, &recorder.finish()).unwrap();
        let read = parse_hlog(&file).unwrap();

        assert_eq!(start_time(&file), Some(started_at));
        assert_eq!(read.len(), 2);
        assert_eq!(read[0].tag, "request_chat");
        assert_eq!(read[0].start, started_at);
        assert_eq!(read[0].histogram, first);
        assert_eq!(read[1].tag, "poll_events.service");
        assert_eq!(read[1].start, started_at + Duration::from_secs(7));
        assert_eq!(read[1].duration, length);
        assert_eq!(read[1].histogram.len(), 1);
        assert_eq!(read[1].histogram.max(), second.max());
    }

    #[test]
    fn lines_past_the_memory_limit_spill_and_read_back_in_order() {
        let started_at = UNIX_EPOCH + Duration::from_secs(1_796_320_800);
        let mut recorder = HlogRecorder::new();
        let interval = |k: u64| histogram(&(0..200).map(|i| i * 37 + k).collect::<Vec<_>>());
        let mut pushed = 0u64;
        while recorder.spill.is_none() || recorder.lines.is_empty() {
            let at = Duration::from_secs(pushed);
            recorder
                .push("send_events", at, Duration::from_secs(1), &interval(pushed))
                .unwrap();
            pushed += 1;
        }
        assert!(recorder.lines.len() < SPILL_AT, "memory was not emptied");

        let mut file = Vec::new();
        write_hlog(&mut file, started_at, &recorder.finish()).unwrap();
        let read = parse_hlog(&file).unwrap();
        assert_eq!(read.len() as u64, pushed);
        for (k, line) in (0..).zip(&read) {
            assert_eq!(line.start, started_at + Duration::from_secs(k));
            assert_eq!(line.histogram, interval(k));
        }
    }

    #[test]
    fn lines_decode_as_hdrhistograms_own_v2_deflate_lines() {
        use hdrhistogram::serialization::V2DeflateSerializer;

        let mut ours = LineSerializer::new();
        let wide: Vec<u64> = (1..20_000).map(|i| i * i % 4_000_000 + 1).collect();
        for values in [&[1u64][..], &[3, 3, 900, 70_000], &wide] {
            let h = histogram(values);
            let mut theirs = Vec::new();
            V2DeflateSerializer::new()
                .serialize(&h, &mut theirs)
                .unwrap();
            // Twice in a row, so the second line comes from a reset
            // compressor.
            for _ in 0..2 {
                let mut line = Vec::new();
                let written = ours.serialize(&h, &mut line).unwrap();
                assert_eq!(written, line.len());
                assert_eq!(line[..4], theirs[..4], "the V2 compressed cookie");
                let length = u32::from_be_bytes(line[4..8].try_into().unwrap());
                assert_eq!(length as usize, line.len() - 8);
                let read: Histogram<u64> = Deserializer::new()
                    .deserialize(&mut line.as_slice())
                    .unwrap();
                assert_eq!(read, h, "{} values", values.len());
            }
        }
    }

    #[test]
    fn tags_with_separators_are_refused() {
        let mut recorder = HlogRecorder::new();
        let err = recorder.push("a b", Duration::ZERO, Duration::ZERO, &histogram(&[1]));
        assert!(err.unwrap_err().to_string().contains("`a b`"));
    }

    #[test]
    fn garbage_is_reported_not_skipped() {
        let err = parse_hlog(b"Tag=x,0.000,1.000,1.0,!!!notbase64\n").unwrap_err();
        assert!(format!("{err:#}").contains("not base64"), "{err:#}");
        assert!(parse_hlog(b"this is not a log\n").is_err());
    }

    #[test]
    fn service_tags_name_the_endpoint() {
        assert_eq!(service_tag(Endpoint::RequestChat), "request_chat.service");
    }
}
