//! What the bot answers: each command's reply, read from the CRM's tables.
//!
//! `/start CODE` links the chat; every other command needs a linked `admin` or `dispatcher`.
//! "Today" and "this week" are UTC days (the week starts on Monday), like every stored time.

use chrono::{Datelike, Duration, Utc};
use switchboard::store::sqlx::{self, SqliteConnection};
use switchboard::telegram::commands::Command;

use crate::app::AppState;
use crate::db::{now, stamp};

/// The help text: what an unknown command or a plain message gets.
pub const HELP: &str = "Commands:\n\
/start CODE - link this chat to your CRM account (get the code in the CRM)\n\
/status ID - an application\n\
/today - today's applications by status\n\
/drivers - drivers and their status\n\
/earnings - done applications' revenue today and this week\n\
/alerts - messages that need a person\n\
/help - this text";

/// The reply to a message `text` from chat `chat_id`. Runs in the webhook's transaction (so a
/// `/start` links exactly once with the update recorded).
pub async fn reply(app: &AppState, conn: &mut SqliteConnection, chat_id: &str, text: &str) -> sqlx::Result<String> {
    let Some(command) = Command::parse(text.trim()) else {
        return Ok(HELP.to_owned());
    };
    if command.name == "start" {
        return start(conn, chat_id, &command.args).await;
    }
    if !matches!(
        command.name.as_str(),
        "status" | "today" | "drivers" | "earnings" | "alerts"
    ) {
        return Ok(HELP.to_owned());
    }
    let linked: Option<(String, String)> = sqlx::query_as(
        "SELECT u.name, u.role FROM telegram_links l JOIN users u ON u.id = l.user_id WHERE l.chat_id = ?1",
    )
    .bind(chat_id)
    .fetch_optional(&mut *conn)
    .await?;
    match linked {
        None => {
            return Ok(
                "This chat is not linked to a CRM account yet. Ask for a link code in the CRM and send \
                       /start CODE here."
                    .to_owned(),
            );
        }
        Some((_, role)) if role != "admin" && role != "dispatcher" => {
            return Ok("Sorry, these commands are for dispatchers and admins.".to_owned());
        }
        Some(_) => {}
    }
    match command.name.as_str() {
        "status" => status(conn, &command.args).await,
        "today" => today(conn).await,
        "drivers" => drivers(conn).await,
        "earnings" => earnings(conn).await,
        _ => alerts(app, conn).await,
    }
}

async fn start(conn: &mut SqliteConnection, chat_id: &str, code: &str) -> sqlx::Result<String> {
    let code = code.trim();
    if code.is_empty() {
        return Ok("Send /start CODE with the link code from the CRM.".to_owned());
    }
    let at = now();
    let user_id: Option<i64> = sqlx::query_scalar(
        "UPDATE telegram_link_codes SET used_at = ?2 WHERE code = ?1 AND used_at IS NULL AND expires_at > ?2
         RETURNING user_id",
    )
    .bind(code)
    .bind(&at)
    .fetch_optional(&mut *conn)
    .await?;
    let user: Option<(String, String)> = match user_id {
        Some(id) => {
            sqlx::query_as("SELECT name, role FROM users WHERE id = ?1")
                .bind(id)
                .fetch_optional(&mut *conn)
                .await?
        }
        None => None,
    };
    let (Some(user_id), Some((name, role))) = (user_id, user) else {
        return Ok("This link code is unknown, used or expired. Ask for a new one in the CRM.".to_owned());
    };
    sqlx::query(
        "INSERT INTO telegram_links (chat_id, user_id, linked_at) VALUES (?1, ?2, ?3)
         ON CONFLICT (chat_id) DO UPDATE SET user_id = excluded.user_id, linked_at = excluded.linked_at",
    )
    .bind(chat_id)
    .bind(user_id)
    .bind(&at)
    .execute(&mut *conn)
    .await?;
    Ok(format!("Linked to {name} ({role}). Send /help for the commands."))
}

async fn status(conn: &mut SqliteConnection, args: &str) -> sqlx::Result<String> {
    let Ok(id) = args.trim().parse::<i64>() else {
        return Ok("Usage: /status APPLICATION_ID".to_owned());
    };
    let row: Option<(String, String, String, i64, Option<String>)> = sqlx::query_as(
        "SELECT a.status, a.pickup, a.dropoff, a.price_minor, d.name FROM applications a
         LEFT JOIN drivers d ON d.id = a.driver_id WHERE a.id = ?1",
    )
    .bind(id)
    .fetch_optional(&mut *conn)
    .await?;
    Ok(match row {
        None => format!("No application {id}."),
        Some((status, pickup, dropoff, price, driver)) => format!(
            "Application {id}: {status}\n{pickup} -> {dropoff}\nDriver: {}\nPrice: {}",
            driver.as_deref().unwrap_or("not assigned"),
            money(price)
        ),
    })
}

async fn today(conn: &mut SqliteConnection) -> sqlx::Result<String> {
    let rows: Vec<(String, i64)> = sqlx::query_as(
        "SELECT status, COUNT(*) FROM applications WHERE created_at >= ?1 GROUP BY status ORDER BY status",
    )
    .bind(day_start(0))
    .fetch_all(&mut *conn)
    .await?;
    if rows.is_empty() {
        return Ok("Today: no applications yet.".to_owned());
    }
    let total: i64 = rows.iter().map(|(_, n)| n).sum();
    let parts: Vec<String> = rows.iter().map(|(s, n)| format!("{s}: {n}")).collect();
    Ok(format!("Today: {total} applications\n{}", parts.join("\n")))
}

async fn drivers(conn: &mut SqliteConnection) -> sqlx::Result<String> {
    let rows: Vec<(String, String)> = sqlx::query_as("SELECT name, status FROM drivers ORDER BY name LIMIT 100")
        .fetch_all(&mut *conn)
        .await?;
    if rows.is_empty() {
        return Ok("No drivers.".to_owned());
    }
    let lines: Vec<String> = rows.iter().map(|(n, s)| format!("{n}: {s}")).collect();
    Ok(format!("Drivers:\n{}", lines.join("\n")))
}

async fn earnings(conn: &mut SqliteConnection) -> sqlx::Result<String> {
    let weekday = i64::from(Utc::now().weekday().num_days_from_monday());
    let mut sums = Vec::new();
    for since in [day_start(0), day_start(weekday)] {
        let sum: i64 = sqlx::query_scalar(
            "SELECT COALESCE(SUM(price_minor), 0) FROM applications WHERE status = 'done' AND updated_at >= ?1",
        )
        .bind(since)
        .fetch_one(&mut *conn)
        .await?;
        sums.push(sum);
    }
    Ok(format!(
        "Earnings (done applications)\nToday: {}\nThis week: {}",
        money(sums[0]),
        money(sums[1])
    ))
}

async fn alerts(app: &AppState, conn: &mut SqliteConnection) -> sqlx::Result<String> {
    let counts = app
        .outbox
        .counts()
        .await
        .map_err(|e| sqlx::Error::Protocol(e.to_string()))?;
    let failed: Vec<(i64, Option<String>)> =
        sqlx::query_as("SELECT id, error FROM sms_messages WHERE status = 'failed' ORDER BY id DESC LIMIT 5")
            .fetch_all(&mut *conn)
            .await?;
    let failed_total: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM sms_messages WHERE status = 'failed'")
        .fetch_one(&mut *conn)
        .await?;
    let mut out = format!(
        "Alerts\nOutbox: {} may have been sent (check with the provider), {} dead letters\nFailed SMS: {failed_total}",
        counts.maybe_sent, counts.dead
    );
    for (id, error) in failed {
        out.push_str(&format!(
            "\n  SMS {id}: {}",
            error.as_deref().unwrap_or("no reason given")
        ));
    }
    Ok(out)
}

/// The start of the UTC day `days_back` days ago, in the stored form.
fn day_start(days_back: i64) -> String {
    let midnight = Utc::now()
        .date_naive()
        .and_hms_opt(0, 0, 0)
        .map(|t| t.and_utc())
        .unwrap_or_else(Utc::now);
    stamp(midnight - Duration::days(days_back))
}

/// Minor units as `1234.56`.
fn money(minor: i64) -> String {
    let sign = if minor < 0 { "-" } else { "" };
    let m = minor.unsigned_abs();
    format!("{sign}{}.{:02}", m / 100, m % 100)
}

#[cfg(test)]
mod tests {
    #[test]
    fn money_keeps_kopecks() {
        assert_eq!(super::money(1_500_050), "15000.50");
        assert_eq!(super::money(5), "0.05");
        assert_eq!(super::money(-120), "-1.20");
    }
}
