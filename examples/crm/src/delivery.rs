//! What became of a queued message: the rows of `sms_messages` and `email_messages` follow their
//! outbox job to `sent`, `failed` or `maybe_sent`, and the webhook plumbing every provider callback
//! shares.
//!
//! ## Why a settle loop, not a wrapping sender
//!
//! The outbox worker decides a job's fate (see `switchboard::store::outbox`): a receipt makes it
//! `accepted`, an error proving nothing left is retried with backoff until the attempts run out, an
//! uncertain one becomes `maybe_sent`. A CRM sender wrapping the Messenger would see each *attempt*
//! but not that decision: it cannot tell "retry later" from "the last attempt, now a dead letter"
//! without copying the worker's rules and counting its attempts. So the rows read the outbox's own
//! verdict instead: a loop (here, in every replica) looks at the rows still `queued`, reads their job
//! with `outbox.get`, and moves each row once its job is settled — with a conditional `UPDATE … WHERE
//! status = 'queued'`, so replicas racing on one row write it once. The price is a delay of at most
//! one interval between the send and the row saying so; delivery reports that arrive inside that
//! window are kept (`sms_reports`) and applied when the row learns its provider id.
//!
//! | variable | default | what |
//! |---|---|---|
//! | `CRM_SETTLE_INTERVAL_MS` | `200` | how often queued rows are checked against their outbox jobs |

use std::future::Future;
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
use axum::response::Response;
use switchboard::store::outbox::{JobState, OutboxId};
use switchboard::store::sqlx;
use switchboard::{WebhookAnswer, WebhookRequest};

use crate::app::AppState;
use crate::db::now;

/// The tables whose rows follow an outbox job. Each has `id`, `status` (`queued` until settled),
/// `outbox_job`, `provider`, `provider_message_id`, `provider_ids`, `error`, `sent_at`, `updated_at`.
const TRACKED: &[(&str, Channel)] = &[("sms_messages", Channel::Sms), ("email_messages", Channel::Email)];

#[derive(Clone, Copy)]
enum Channel {
    Sms,
    Email,
}

/// How often [`run`] looks, from `CRM_SETTLE_INTERVAL_MS`.
pub fn interval(app: &AppState) -> Result<Duration, crate::config::ConfigError> {
    let ms: u64 = app.config.env.parse_or("CRM_SETTLE_INTERVAL_MS", 200)?;
    Ok(Duration::from_millis(ms.max(10)))
}

/// Settles rows every `every` until `shutdown` resolves. A database error is logged and tried again.
pub async fn run(app: AppState, every: Duration, shutdown: impl Future<Output = ()>) {
    tokio::pin!(shutdown);
    loop {
        if let Err(e) = settle_once(&app).await {
            tracing::warn!(error = %e, "could not settle queued message rows; trying again");
        }
        tokio::select! {
            () = tokio::time::sleep(every) => {}
            () = &mut shutdown => return,
        }
    }
}

/// One pass over every tracked table; answers how many rows moved.
pub async fn settle_once(app: &AppState) -> Result<u64, sqlx::Error> {
    let mut moved = 0;
    for (table, channel) in TRACKED {
        let sql = format!(
            "SELECT id, outbox_job FROM {table} WHERE status = 'queued' AND outbox_job IS NOT NULL ORDER BY id LIMIT 500"
        );
        let rows: Vec<(i64, i64)> = sqlx::query_as(&sql).fetch_all(app.pool()).await?;
        for (id, job) in rows {
            let job = match app.outbox.get(OutboxId(job)).await {
                Ok(Some(job)) => job,
                Ok(None) => continue,
                Err(e) => {
                    tracing::warn!(table, id, error = %e, "could not read the outbox job");
                    continue;
                }
            };
            let error = job.error.as_ref().map(ToString::to_string);
            let provider = match channel {
                Channel::Sms => app.integrations.sms.as_ref(),
                Channel::Email => app.integrations.email.as_ref(),
            }
            .map(|w| w.connection.provider());
            let at = now();
            let done = match job.state {
                JobState::Accepted => {
                    let Some(receipt) = job.receipt else { continue };
                    let ids = serde_json::to_string(&receipt.provider_ids).unwrap_or_else(|_| "[]".into());
                    let cost = receipt_cost(&receipt.raw);
                    let sql = format!(
                        "UPDATE {table} SET status = 'sent', provider = ?2, provider_message_id = ?3, provider_ids = ?4,
                         error = NULL, sent_at = ?5, updated_at = ?5 {} WHERE id = ?1 AND status = 'queued'",
                        match channel {
                            Channel::Sms => ", cost = COALESCE(?6, cost)",
                            Channel::Email => "",
                        }
                    );
                    let mut q = sqlx::query(&sql)
                        .bind(id)
                        .bind(provider)
                        .bind(receipt.provider_id())
                        .bind(ids)
                        .bind(&at);
                    if let Channel::Sms = channel {
                        q = q.bind(cost);
                    }
                    q.execute(app.pool()).await?.rows_affected()
                }
                JobState::MaybeSent | JobState::Dead | JobState::Cancelled => {
                    let status = if job.state == JobState::MaybeSent {
                        "maybe_sent"
                    } else {
                        "failed"
                    };
                    let error = error.unwrap_or_else(|| format!("the outbox job is {}", job.state));
                    let sql = format!(
                        "UPDATE {table} SET status = ?2, provider = ?3, error = ?4, updated_at = ?5
                         WHERE id = ?1 AND status = 'queued'"
                    );
                    sqlx::query(&sql)
                        .bind(id)
                        .bind(status)
                        .bind(provider)
                        .bind(error)
                        .bind(&at)
                        .execute(app.pool())
                        .await?
                        .rows_affected()
                }
                // Still on its way (or waiting to be retried): the row keeps `queued`, with the last
                // attempt's error for a person looking at it.
                _ => {
                    if let Some(error) = error {
                        let sql = format!("UPDATE {table} SET error = ?2 WHERE id = ?1 AND status = 'queued'");
                        sqlx::query(&sql).bind(id).bind(error).execute(app.pool()).await?;
                    }
                    0
                }
            };
            moved += done;
            if done > 0 && matches!(channel, Channel::Sms) {
                crate::sms::apply_early_reports(app, id).await?;
            }
        }
    }
    Ok(moved)
}

/// The cost a provider put in its send answer, as `"amount CURRENCY"`, when it gives one: Twilio's
/// Message resource has `price`/`price_unit` (often still empty at creation). Delivery reports carry
/// it more often ([`StatusReport::price`](switchboard::StatusReport)), and update it.
fn receipt_cost(raw: &serde_json::Value) -> Option<String> {
    let text = |v: &serde_json::Value| match v {
        serde_json::Value::String(s) if !s.is_empty() => Some(s.clone()),
        serde_json::Value::Number(n) => Some(n.to_string()),
        _ => None,
    };
    let price = raw.get("price").and_then(text)?;
    let unit = raw.get("price_unit").and_then(text).unwrap_or_default();
    Some(format!("{price} {unit}").trim().to_owned())
}

/// The [`WebhookRequest`] for a callback that reached this service. The URL is rebuilt from the
/// public URL the providers were given, since signatures (Twilio's) cover the URL the provider
/// called, not the one a proxy forwarded.
pub fn webhook_request(app: &AppState, method: Method, uri: &Uri, headers: HeaderMap, body: Bytes) -> WebhookRequest {
    let path = uri.path_and_query().map_or_else(|| uri.path(), |p| p.as_str());
    WebhookRequest {
        method,
        url: format!("{}{path}", app.public_url),
        headers,
        body,
        remote_addr: None,
    }
}

/// A provider's expected answer (`100` for SMS.ru, empty TwiML for Twilio, `401` for a forged call)
/// as an HTTP response.
pub fn answer(a: WebhookAnswer) -> Response {
    let mut response = Response::new(Body::from(a.body));
    *response.status_mut() = StatusCode::from_u16(a.status).unwrap_or(StatusCode::OK);
    if let Some(ct) = a.content_type {
        response
            .headers_mut()
            .insert(header::CONTENT_TYPE, HeaderValue::from_static(ct));
    }
    response
}

/// The `Idempotency-Key` header: at most 200 visible ASCII characters, or `400`.
pub fn idempotency_key(headers: &HeaderMap) -> crate::error::ApiResult<Option<String>> {
    let Some(v) = headers.get("idempotency-key") else {
        return Ok(None);
    };
    let v = v
        .to_str()
        .ok()
        .map(str::trim)
        .filter(|v| !v.is_empty() && v.len() <= 200 && v.bytes().all(|b| b.is_ascii_graphic()))
        .ok_or_else(|| {
            crate::error::ApiError::invalid("Idempotency-Key", "must be 1 to 200 visible ASCII characters")
        })?;
    Ok(Some(v.to_owned()))
}
