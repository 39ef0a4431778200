//! The checks. Each takes one subject and answers `Ran`, `Skipped` (its capabilities exclude the check)
//! or a description of what went wrong.

use std::sync::Arc;
use std::time::Duration;

use switchboard::core::testkit::Fault;
use switchboard::{
    DeliveryStatus, Dispatch, ErrorKind, Event, JournalRecord, MemoryJournal, Message, Messenger, Receipt,
};

use crate::common::{
    Outcome, Subject, count_accepted, expect_err, journal_matches, journal_shape, messenger, sends_anything,
};
use crate::ensure;

/// Sends one message through a fresh Messenger over the subject's transport and checks the journal.
async fn send_one(
    s: &dyn Subject,
    text: &str,
) -> Result<(Messenger, Arc<MemoryJournal>, Message, switchboard::Result<Receipt>), String> {
    let journal = Arc::new(MemoryJournal::new());
    let m = messenger(s.name(), s.transport(), &journal);
    let msg = s.message(text);
    let r = m.send(msg.clone()).await;
    journal_matches(&journal, &msg.id, &r)?;
    Ok((m, journal, msg, r))
}

/// Sends and expects acceptance, exactly once at the simulator, with the text intact.
async fn send_accepted(s: &dyn Subject, text: &str) -> Result<(Messenger, Arc<MemoryJournal>, Receipt), String> {
    let before = count_accepted(s, text);
    let (m, journal, msg, r) = send_one(s, text).await?;
    let receipt = r.map_err(|e| format!("send failed: {e} ({:?}, {:?})", e.kind(), e.dispatch()))?;
    ensure!(
        receipt.transport == s.name(),
        "the receipt names transport {}",
        receipt.transport
    );
    ensure!(receipt.message_id == msg.id, "the receipt names another message");
    ensure!(!receipt.provider_id().is_empty(), "the receipt carries no provider id");
    let after = count_accepted(s, text);
    ensure!(
        after == before + 1,
        "the simulator accepted it {} times",
        after - before
    );
    Ok((m, journal, receipt))
}

/// One warm-up send, so tokens and digest nonces are cached and faults hit the send itself.
async fn warm_up(s: &dyn Subject) -> Result<(), String> {
    send_accepted(s, "warm-up")
        .await
        .map(|_| ())
        .map_err(|e| format!("warm-up: {e}"))
}

pub async fn send(s: Arc<dyn Subject>) -> Result<Outcome, String> {
    if !sends_anything(&s.transport().capabilities()) {
        return Ok(Outcome::Skipped("sends nothing"));
    }
    ensure!(
        s.transport().supports(&s.recipient()),
        "does not support its own recipient kind"
    );
    send_accepted(&*s, "Hello from the switchboard conformance suite").await?;
    Ok(Outcome::Ran)
}

pub async fn unicode(s: Arc<dyn Subject>) -> Result<Outcome, String> {
    let c = s.transport().capabilities();
    if c.sms && !c.unicode || !sends_anything(&c) {
        return Ok(Outcome::Skipped("no unicode"));
    }
    let text = "Привет, мир! Përshëndetje 👋🏽 — 你好";
    send_accepted(&*s, text).await?;
    Ok(Outcome::Ran)
}

pub async fn long_message(s: Arc<dyn Subject>) -> Result<Outcome, String> {
    let c = s.transport().capabilities();
    if c.sms && !c.long_messages || !sends_anything(&c) {
        return Ok(Outcome::Skipped("no long messages"));
    }
    let text: String = (0..40).map(|i| format!("part {i:02} ok. ")).collect();
    assert!(text.len() > 400);
    let (_, _, receipt) = send_accepted(&*s, &text).await?;
    if c.sms
        && let Some(seg) = receipt.segments
    {
        ensure!(
            seg.segments == 4,
            "a {}-char GSM text is 4 segments, the receipt says {}",
            text.len(),
            seg.segments
        );
    }
    let unicode_long: String = "Длинное сообщение. ".repeat(12);
    if !c.sms || c.unicode {
        send_accepted(&*s, &unicode_long).await?;
    }
    Ok(Outcome::Ran)
}

pub async fn status(s: Arc<dyn Subject>) -> Result<Outcome, String> {
    if !s.transport().capabilities().status {
        return Ok(Outcome::Skipped("no status"));
    }
    let (m, journal, receipt) = send_accepted(&*s, "status check").await?;
    let first = m.status(&receipt).await.map_err(|e| format!("status: {e}"))?;
    ensure!(
        first.provider_id == receipt.provider_id(),
        "status names {}",
        first.provider_id
    );
    s.deliver(&receipt).await;
    let mut last = first.status;
    for _ in 0..4 {
        let r = m.status(&receipt).await.map_err(|e| format!("status: {e}"))?;
        last = r.status;
        if last == DeliveryStatus::Delivered {
            break;
        }
    }
    ensure!(
        last == DeliveryStatus::Delivered,
        "after delivery the status is {last:?}"
    );
    let shape = journal_shape(&journal, &receipt.message_id);
    ensure!(
        shape.starts_with(&["attempt".into(), "accepted".into(), "status".into()]),
        "journal {shape:?}"
    );
    let mut unknown = receipt.clone();
    unknown.provider_ids = vec!["no-such-id-0000".into()];
    let missing = m.status(&unknown).await;
    if let Ok(r) = missing {
        ensure!(
            matches!(
                r.status,
                DeliveryStatus::Unknown | DeliveryStatus::Failed | DeliveryStatus::Rejected
            ),
            "an unknown id has status {:?}",
            r.status
        );
    }
    Ok(Outcome::Ran)
}

pub async fn delivery_reports(s: Arc<dyn Subject>) -> Result<Outcome, String> {
    if !s.transport().capabilities().delivery_reports {
        return Ok(Outcome::Skipped("no delivery reports"));
    }
    let (m, journal, receipt) = send_accepted(&*s, "report check").await?;
    let pushes = s.deliver(&receipt).await;
    ensure!(!pushes.is_empty(), "the simulator pushed no report");
    let mut statuses = Vec::new();
    for p in &pushes {
        let events = m
            .handle_webhook(s.name(), p)
            .await
            .map_err(|e| format!("handle_webhook: {e}"))?;
        ensure!(events.answer.is_success(), "answered {}", events.answer.status);
        for ev in events.events {
            ensure!(ev.transport == s.name(), "event from {}", ev.transport);
            if let Event::Delivery(r) = ev.event
                && receipt.provider_ids.contains(&r.provider_id)
            {
                statuses.push(r.status);
            }
        }
    }
    ensure!(
        statuses.last() == Some(&DeliveryStatus::Delivered),
        "reports for this message: {statuses:?}"
    );
    let status_records = journal
        .entries()
        .iter()
        .filter(|e| matches!(&e.record, JournalRecord::Status { transport, .. } if transport == s.name()))
        .count();
    ensure!(
        status_records >= statuses.len(),
        "{status_records} status records journaled"
    );
    // A forged copy (no secret) is refused, and nothing is journaled for it.
    let mut forged = pushes[0].clone();
    forged.url = forged.url.split('?').next().unwrap_or_default().to_owned();
    forged.headers.clear();
    let before = journal.entries().len();
    let e = m.handle_webhook(s.name(), &forged).await;
    ensure!(
        matches!(&e, Err(e) if e.kind() == ErrorKind::Auth),
        "an unsigned report gives {e:?}"
    );
    ensure!(journal.entries().len() == before, "a refused webhook was journaled");
    Ok(Outcome::Ran)
}

pub async fn inbound(s: Arc<dyn Subject>) -> Result<Outcome, String> {
    if !s.transport().capabilities().inbound {
        return Ok(Outcome::Skipped("no inbound"));
    }
    let journal = Arc::new(MemoryJournal::new());
    let m = messenger(s.name(), s.transport(), &journal);
    let text = "Inbound: да, подтверждаю ✅";
    let pushes = s.inbound(text).await;
    ensure!(!pushes.is_empty(), "the simulator pushed nothing");
    let mut got = Vec::new();
    for p in &pushes {
        for ev in m
            .handle_webhook(s.name(), p)
            .await
            .map_err(|e| format!("handle_webhook: {e}"))?
            .events
        {
            if let Event::Inbound(i) = ev.event {
                got.push(i.text);
            }
        }
    }
    ensure!(got == [text], "inbound texts {got:?}");
    let journaled = journal
        .entries()
        .iter()
        .filter(|e| matches!(&e.record, JournalRecord::Inbound { message, .. } if message.text == text))
        .count();
    ensure!(journaled == 1, "{journaled} inbound records");
    Ok(Outcome::Ran)
}

/// Sends once with faults queued; the simulator must not have accepted the text.
async fn send_with_faults(s: &dyn Subject, text: &str, faults: &[Fault]) -> Result<switchboard::Error, String> {
    let q = s.faults().ok_or("no fault queue")?;
    for f in faults {
        q.push(f.clone());
    }
    let (_, _, _, r) = send_one(s, text).await?;
    q.clear();
    let e = expect_err(r, text)?;
    let n = count_accepted(s, text);
    ensure!(
        n == 0,
        "the simulator accepted it {n} times although every answer was a fault"
    );
    Ok(e)
}

pub async fn rate_limited(s: Arc<dyn Subject>) -> Result<Outcome, String> {
    if s.faults().is_none() {
        return Ok(Outcome::Skipped("not HTTP"));
    }
    warm_up(&*s).await?;
    // A Retry-After longer than any retry policy waits: answered at once, with the hint kept.
    let e = send_with_faults(&*s, "rate limited", &[Fault::RateLimited(Some(120))]).await?;
    ensure!(
        (e.kind(), e.dispatch()) == (ErrorKind::RateLimited, Dispatch::NotSent),
        "429 gave {:?}/{:?}: {e}",
        e.kind(),
        e.dispatch()
    );
    ensure!(
        e.retry_after() == Some(Duration::from_secs(120)),
        "retry_after {:?}",
        e.retry_after()
    );
    ensure!(e.may_fail_over(), "a 429 must let the Messenger fail over");
    Ok(Outcome::Ran)
}

pub async fn provider_rate_limit(s: Arc<dyn Subject>) -> Result<Outcome, String> {
    if s.faults().is_none() {
        return Ok(Outcome::Skipped("not HTTP"));
    }
    warm_up(&*s).await?;
    if !s.queue_provider_rate_limit(120) {
        return Ok(Outcome::Skipped("no own rate-limit shape"));
    }
    let (_, _, _, r) = send_one(&*s, "provider rate limit").await?;
    let e = expect_err(r, "provider rate limit")?;
    ensure!(
        (e.kind(), e.dispatch()) == (ErrorKind::RateLimited, Dispatch::NotSent),
        "gave {:?}/{:?}: {e}",
        e.kind(),
        e.dispatch()
    );
    ensure!(
        e.retry_after() == Some(Duration::from_secs(120)),
        "retry_after {:?}",
        e.retry_after()
    );
    ensure!(count_accepted(&*s, "provider rate limit") == 0, "accepted anyway");
    Ok(Outcome::Ran)
}

pub async fn auth_failure(s: Arc<dyn Subject>) -> Result<Outcome, String> {
    let Some(dsn) = s.bad_credential_dsn() else {
        return Ok(Outcome::Skipped("no credentials"));
    };
    ensure!(dsn != s.dsn(), "the bad DSN is the good one");
    let t = s
        .transport_for(&dsn)
        .map_err(|e| format!("the bad-credential DSN does not build: {e}"))?;
    let journal = Arc::new(MemoryJournal::new());
    let m = messenger(s.name(), t, &journal);
    let text = "wrong credentials";
    let msg = s.message(text);
    let r = m.send(msg.clone()).await;
    journal_matches(&journal, &msg.id, &r)?;
    let e = expect_err(r, text)?;
    ensure!(
        (e.kind(), e.dispatch()) == (ErrorKind::Auth, Dispatch::NotSent),
        "gave {:?}/{:?}: {e}",
        e.kind(),
        e.dispatch()
    );
    ensure!(count_accepted(&*s, text) == 0, "accepted with wrong credentials");
    // And the good transport still works, exactly once.
    send_accepted(&*s, "after the bad credentials").await?;
    Ok(Outcome::Ran)
}

pub async fn outage_503(s: Arc<dyn Subject>) -> Result<Outcome, String> {
    if s.faults().is_none() {
        return Ok(Outcome::Skipped("not HTTP"));
    }
    warm_up(&*s).await?;
    // Enough 503s for every retry a default policy makes.
    let e = send_with_faults(&*s, "outage", &vec![Fault::Status(503); 6]).await?;
    ensure!(
        (e.kind(), e.dispatch()) == (ErrorKind::Unavailable, Dispatch::NotSent),
        "503 gave {:?}/{:?}: {e}",
        e.kind(),
        e.dispatch()
    );
    send_accepted(&*s, "after the outage").await?;
    Ok(Outcome::Ran)
}

pub async fn server_error_500(s: Arc<dyn Subject>) -> Result<Outcome, String> {
    if s.faults().is_none() {
        return Ok(Outcome::Skipped("not HTTP"));
    }
    warm_up(&*s).await?;
    let e = send_with_faults(&*s, "server error", &vec![Fault::Status(500); 6]).await?;
    ensure!(
        (e.kind(), e.dispatch()) == s.expect_500(),
        "500 gave {:?}/{:?}, expected {:?}: {e}",
        e.kind(),
        e.dispatch(),
        s.expect_500()
    );
    Ok(Outcome::Ran)
}

pub async fn malformed(s: Arc<dyn Subject>) -> Result<Outcome, String> {
    if s.faults().is_none() {
        return Ok(Outcome::Skipped("not HTTP"));
    }
    warm_up(&*s).await?;
    for f in [
        Fault::MalformedJson,
        Fault::TruncatedJson,
        Fault::WrongContentType,
        Fault::EmptyBody,
    ] {
        let text = format!("malformed {f:?}");
        let q = s.faults().ok_or("no fault queue")?;
        q.push(f.clone());
        let (_, _, _, r) = send_one(&*s, &text).await.map_err(|e| format!("{f:?}: {e}"))?;
        q.clear();
        let n = count_accepted(&*s, &text);
        match r {
            // A transport that proves the first try did not land (a lookup) may send again: once.
            Ok(_) => ensure!(n == 1, "{f:?}: accepted, and the simulator has it {n} times"),
            Err(e) => {
                ensure!(n == 0, "{f:?}: failed, yet the simulator has it {n} times");
                ensure!(
                    e.kind() == ErrorKind::Decode || e.dispatch() == Dispatch::MaybeSent,
                    "{f:?} gave {:?}/{:?}: {e}",
                    e.kind(),
                    e.dispatch()
                );
                ensure!(
                    e.dispatch() != Dispatch::NotSent,
                    "{f:?}: a 200 answer is not NotSent: {e}"
                );
                ensure!(!e.may_fail_over(), "{f:?}: must not fail over");
            }
        }
    }
    Ok(Outcome::Ran)
}
