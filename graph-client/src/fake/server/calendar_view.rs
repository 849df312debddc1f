//! Calendar view: the instances overlapping a time window.

use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use super::instances::{Instance, Render, instances, overlaps, render_event};
use super::odata::{applied, read_zone};
use super::request::{Answer, Req, Resp};
use crate::fake::state::State;
use crate::fake::time;

pub(super) fn window_of(req: &Req) -> Result<(DateTime<Utc>, DateTime<Utc>), Resp> {
    let parse = |k: &str| req.q(k).and_then(time::parse_query_instant);
    match (parse("startDateTime"), parse("endDateTime")) {
        (Some(s), Some(e)) if e > s => Ok((s, e)),
        (Some(_), Some(_)) => Err(Resp::error(
            400,
            "ErrorInvalidParameter",
            "The value of endDateTime must be after startDateTime.",
        )),
        _ => Err(Resp::error(
            400,
            "ErrorInvalidParameter",
            "This request requires a time window specified by the query string parameters StartDateTime and EndDateTime.",
        )),
    }
}

pub(super) fn window_instances(
    st: &State,
    user: &str,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
) -> Vec<Instance> {
    let Some(mb) = st.mailboxes.get(user) else {
        return Vec::new();
    };
    let mut out: Vec<Instance> = mb
        .events
        .values()
        .flat_map(instances)
        .filter(|i| overlaps(i, start, end))
        .collect();
    out.sort_by(|a, b| {
        a.start
            .instant()
            .cmp(&b.start.instant())
            .then_with(|| a.id.cmp(&b.id))
    });
    out
}

pub(super) fn calendar_view(st: &mut State, req: &Req, user: &str) -> Answer {
    let (start, end) = window_of(req)?;
    let prefs = req.prefer();
    let (zone, label, zone_applied) = read_zone(&prefs);
    let select = req.select();
    let r = Render {
        zone,
        label: &label,
        sparse: false,
        ext: None,
        select: select.as_deref(),
        body_text: prefs.body_text,
    };
    let value: Vec<Value> = window_instances(st, user, start, end)
        .iter()
        .map(|i| render_event(i, &r))
        .collect();
    Ok(applied(
        Resp::json(200, json!({"value": value})),
        &prefs,
        zone_applied,
        &label,
    ))
}
