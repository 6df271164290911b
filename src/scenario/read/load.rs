//! The `[load]` section: the load model and its stages.
//!
//! The model may be left out; it then follows from what the stages give
//! (clients mean closed, rate means open). A stage of "0s" is a step: the
//! value jumps there at once, which is how a ramp-free profile is written.

use std::time::Duration;

use super::table::{Field, Read, Section};
use crate::scenario::location::Diag;
use crate::scenario::model::{
    Arrival, DurationRange, Load, LoadModel, Segment, SegmentError, Stage,
};

const KEYS: &[&str] = &[
    "model",
    "stages",
    "pause",
    "arrival",
    "max_clients",
    "grace",
    "segment",
    "seed",
];
const STAGE_KEYS: &[&str] = &["duration", "clients", "rate"];

/// Cap on simultaneous clients in the open model when none is written.
pub(crate) const DEFAULT_MAX_CLIENTS: u64 = 10_000;

/// Time running chats get to finish after the last stage, by default.
const DEFAULT_GRACE: Duration = Duration::from_secs(30);

/// The arrival spacings as written in files.
pub(crate) const ARRIVAL_NAMES: &[(&str, Arrival)] =
    &[("even", Arrival::Even), ("poisson", Arrival::Poisson)];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Clients,
    Rate,
}

impl Kind {
    fn key(self) -> &'static str {
        match self {
            Kind::Clients => "clients",
            Kind::Rate => "rate",
        }
    }
}

/// Reads `[load]`, which every scenario needs.
pub(crate) fn read(field: Field<'_, '_>) -> Read<Load> {
    let s = field.section(KEYS)?;
    let stages_field = s.require("stages", "stages = [{ duration = \"1m\", clients = 100 }]")?;
    let (stages, kind) = stages(&stages_field)?;

    let open = match s.get("model") {
        Some(f) => explicit_model(&f, kind)?,
        None => kind == Kind::Rate,
    };
    let model = if open {
        open_model(&s)?
    } else {
        closed_model(&s)?
    };

    let grace = s
        .get("grace")
        .map(|f| f.duration())
        .transpose()?
        .unwrap_or(DEFAULT_GRACE);
    let segment = s.get("segment").map(|f| segment(&f)).transpose()?;
    let seed = s.get("seed").map(|f| f.count()).transpose()?;
    Ok(Load {
        model,
        stages,
        grace,
        segment: segment.unwrap_or_default(),
        seed,
    })
}

fn segment(f: &Field<'_, '_>) -> Read<Segment> {
    f.str()?.parse().map_err(|err: SegmentError| f.error(err))
}

fn explicit_model(f: &Field<'_, '_>, kind: Kind) -> Read<bool> {
    let open = f.choice(&[("closed", false), ("open", true)])?;
    match (open, kind) {
        (true, Kind::Clients) => Err(f.error(
            "model \"open\" counts new chats per second: give the stages rate = N instead of \
             clients, or set model = \"closed\"",
        )),
        (false, Kind::Rate) => Err(f.error(
            "model \"closed\" counts active clients: give the stages clients = N instead of \
             rate, or set model = \"open\"",
        )),
        _ => Ok(open),
    }
}

fn closed_model(s: &Section<'_, '_>) -> Read<LoadModel> {
    for key in ["arrival", "max_clients"] {
        if let Some(f) = s.get(key) {
            return Err(f.key_error("only applies to model \"open\"; remove it"));
        }
    }
    let pause = s.get("pause").map(|f| f.duration_range()).transpose()?;
    Ok(LoadModel::Closed {
        pause: pause.unwrap_or(DurationRange::default()),
    })
}

fn open_model(s: &Section<'_, '_>) -> Read<LoadModel> {
    if let Some(f) = s.get("pause") {
        return Err(f.key_error("only applies to model \"closed\"; remove it"));
    }
    let arrival = s
        .get("arrival")
        .map(|f| f.choice(ARRIVAL_NAMES))
        .transpose()?;
    let max_clients = s
        .get("max_clients")
        .map(|f| f.positive_count())
        .transpose()?;
    Ok(LoadModel::Open {
        arrival: arrival.unwrap_or_default(),
        max_clients: max_clients.unwrap_or(DEFAULT_MAX_CLIENTS),
    })
}

fn stages(f: &Field<'_, '_>) -> Read<(Vec<Stage>, Kind)> {
    let items = f.array()?;
    if items.is_empty() {
        return Err(
            f.error("needs at least one stage, such as { duration = \"1m\", clients = 100 }")
        );
    }

    let mut stages = Vec::with_capacity(items.len());
    let mut first_kind = None;
    for item in &items {
        let (stage, kind, value) = stage(item)?;
        match first_kind {
            None => first_kind = Some(kind),
            Some(k) if k != kind => return Err(mixed(&value, k, kind)),
            Some(_) => {}
        }
        stages.push(stage);
    }

    check_profile(f, &stages)?;
    Ok((stages, first_kind.unwrap_or(Kind::Clients)))
}

fn mixed(value: &Field<'_, '_>, first: Kind, this: Kind) -> Diag {
    value.key_error(format!(
        "the first stage gives {} but this one gives {}; use one of them in every stage",
        first.key(),
        this.key()
    ))
}

fn stage<'a, 'i>(f: &Field<'a, 'i>) -> Read<(Stage, Kind, Field<'a, 'i>)> {
    let s = f.section(STAGE_KEYS)?;
    let duration = s.require("duration", "duration = \"1m\"")?.duration()?;

    let (kind, value) = match (s.get("clients"), s.get("rate")) {
        (Some(_), Some(rate)) => {
            return Err(rate
                .key_error("a stage gives clients (closed model) or rate (open model), not both"));
        }
        (Some(c), None) => (Kind::Clients, c),
        (None, Some(r)) => (Kind::Rate, r),
        (None, None) => {
            let message = format!(
                "{}: a stage needs clients = N (closed model) or rate = R (open model)",
                f.path
            );
            return Err(Diag::new(s.span(), message));
        }
    };

    let target = match kind {
        Kind::Clients => value.count()? as f64,
        Kind::Rate => value.number()?,
    };
    Ok((Stage { duration, target }, kind, value))
}

fn check_profile(f: &Field<'_, '_>, stages: &[Stage]) -> Read<()> {
    if stages.iter().all(|s| s.duration.is_zero()) {
        return Err(f.error("every stage lasts 0s; give at least one a duration such as \"1m\""));
    }
    if stages.iter().all(|s| s.target <= 0.0) {
        return Err(f.error("every stage's value is 0, so nothing would run; raise one"));
    }
    Ok(())
}
