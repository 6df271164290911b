//! A segment: which shard of a run spread over several processes this one
//! is. Written `K/N`, one-based (`1/3` is the first of three), on the
//! command line (`--segment`) and in `[load] segment`. Kubernetes numbers
//! its pods from 0, so the shipped manifests add one before passing it.

use std::fmt;
use std::str::FromStr;

/// Shard `K` of `N`, kept zero-based inside the program.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Segment {
    index: u64,
    count: u64,
}

impl Default for Segment {
    fn default() -> Self {
        Segment::WHOLE
    }
}

impl Segment {
    /// The whole run, `1/1`.
    pub const WHOLE: Segment = Segment { index: 0, count: 1 };

    /// Shard `index` (from 0) of `count`; `None` unless `index < count`.
    pub fn new(index: u64, count: u64) -> Option<Segment> {
        (index < count).then_some(Segment { index, count })
    }

    /// Position among the shards, from 0.
    pub fn index(self) -> u64 {
        self.index
    }

    /// How many shards the run has.
    pub fn count(self) -> u64 {
        self.count
    }

    /// True if and only if this is the whole run, `1/1`.
    pub fn is_whole(self) -> bool {
        self.count == 1
    }
}

impl fmt::Display for Segment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.index + 1, self.count)
    }
}

/// Why a segment did not parse; the text says what a valid one looks like.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("segment \"{text}\": {problem}; write K/N with 1 <= K <= N, such as 2/3")]
pub struct SegmentError {
    text: String,
    problem: &'static str,
}

impl FromStr for Segment {
    type Err = SegmentError;

    fn from_str(text: &str) -> Result<Segment, SegmentError> {
        let fail = |problem| SegmentError {
            text: text.to_owned(),
            problem,
        };
        let (k, n) = text.trim().split_once('/').ok_or_else(|| fail("no '/'"))?;
        let k: u64 = k
            .trim()
            .parse()
            .map_err(|_| fail("K is not a whole number"))?;
        let n: u64 = n
            .trim()
            .parse()
            .map_err(|_| fail("N is not a whole number"))?;
        if n == 0 {
            return Err(fail("N must be at least 1"));
        }
        if k == 0 {
            return Err(fail("K counts from 1, so 0 is not a shard"));
        }
        Segment::new(k - 1, n).ok_or_else(|| fail("K is larger than N"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn segments_parse_one_based_and_print_back() {
        let segment: Segment = "2/3".parse().unwrap();
        assert_eq!((segment.index(), segment.count()), (1, 3));
        assert_eq!(segment.to_string(), "2/3");
        assert_eq!(" 1 / 1 ".parse::<Segment>().unwrap(), Segment::WHOLE);
        assert!(Segment::WHOLE.is_whole());
    }

    #[test]
    fn bad_segments_say_what_is_wrong() {
        for (text, problem) in [
            ("3", "no '/'"),
            ("0/3", "counts from 1"),
            ("4/3", "larger than N"),
            ("1/0", "at least 1"),
            ("a/3", "K is not"),
        ] {
            let err = text.parse::<Segment>().unwrap_err().to_string();
            assert!(err.contains(problem), "{text}: {err}");
            assert!(err.contains(&format!("\"{text}\"")), "{err}");
        }
    }
}
