//! Calendar view: the instances overlapping a time window.

use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use super::instances::{Instance, Render, instances, overlaps, render_event};
use super::odata::{applied, enc, next_skip_query, read_zone};
use super::request::{Answer, Req, Resp};
use crate::fake::state::State;
use crate::fake::time;

/// Graph's default page size of calendar views and event lists.
pub(super) const CALENDAR_VIEW_PAGE: usize = 10;

/// The largest `$top` of Outlook lists.
const MAX_TOP: usize = 1000;

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

/// `GET /users/{id}/calendarView?startDateTime&endDateTime`: the instances overlapping the
/// window, in start order, a page at a time: `$top` per page (else `Prefer:
/// odata.maxpagesize`, else Graph's default of 10), from `$skip`, with an `@odata.nextLink`
/// (the same query and a new `$skip`) while more follow.
pub(super) fn calendar_view(st: &mut State, req: &Req, user: &str) -> Answer {
    let (start, end) = window_of(req)?;
    let prefs = req.prefer();
    let top = match req.q("$top") {
        None => prefs
            .max_page_size
            .unwrap_or(CALENDAR_VIEW_PAGE)
            .clamp(1, MAX_TOP),
        Some(t) => match t.parse::<usize>() {
            Ok(n) if (1..=MAX_TOP).contains(&n) => n,
            _ => {
                return Err(Resp::error(
                    400,
                    "ErrorInvalidUrlQuery",
                    "The value of $top is invalid.",
                ));
            }
        },
    };
    let skip = match req.q("$skip").map(str::parse::<usize>) {
        None => 0,
        Some(Ok(n)) => n,
        Some(Err(_)) => {
            return Err(Resp::error(
                400,
                "ErrorInvalidUrlQuery",
                "The value of $skip is invalid.",
            ));
        }
    };
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
    let all = window_instances(st, user, start, end);
    let value: Vec<Value> = all
        .iter()
        .skip(skip)
        .take(top)
        .map(|i| render_event(i, &r))
        .collect();
    let mut body = json!({
        "@odata.context": format!("{}/$metadata#users('{}')/calendarView", st.base_url, user),
        "value": value,
    });
    if skip + top < all.len() {
        body["@odata.nextLink"] = json!(format!(
            "{}/users/{}/calendarView{}",
            st.base_url,
            enc(user),
            next_skip_query(req, skip + top)
        ));
    }
    Ok(applied(Resp::json(200, body), &prefs, zone_applied, &label))
}
