//! SMS.ru's status codes, in one table, and [`parse_error`], the one place an answer becomes an
//! [`Error`].
//!
//! SMS.ru uses one numeric space for three things: the state of a message (`-1`, `100`–`150`), the
//! outcome of a request (`100` = OK, `200`–`305`, `500`–`550`), and callback management (`901`, `902`).
//! Every reply is HTTP 200 and carries `status` (`OK`/`ERROR`) and `status_code`, at the top level for
//! the request and once more per number under `sms` (<https://sms.ru/api/send>).
//!
//! | answer | kind | dispatch |
//! |---|---|---|
//! | not HTTP 2xx (a proxy, an outage) | core's reading of the status | core's reading (`500` `MaybeSent`, `503` `NotSent`) |
//! | 2xx without `status`/`status_code` | `Decode` | `Sent` (the client makes a send's `MaybeSent`) |
//! | `ERROR` `200`, `300`–`305` | `Auth` | `NotSent` |
//! | `ERROR` `220`, `500` | `Unavailable`, the only temporary ones | `NotSent` |
//! | `ERROR` `202`, `203`, `205`, `208`, `210`, `212`, `213`, `901` | `InvalidInput` | `NotSent` |
//! | `ERROR` `211` | `Unsupported` | `NotSent` |
//! | `ERROR` `902`, `-1` | `NotFound` | `NotSent` |
//! | `ERROR` with any other documented code | `Rejected` | `NotSent` |
//! | `ERROR` with a code [`CODES`] does not list | `Rejected` | `Sent` (SMS.ru answered, we do not know why) |
//! | `ERROR` that still names a message id | as its code | `MaybeSent` (that message may exist) |
//!
//! **Retry.** Only `220` ("service temporarily unavailable, retry later") and `500` ("server error,
//! repeat the request") are temporary. Both come back as `status: ERROR` without any `sms_id`, which
//! is SMS.ru telling us that the request was not taken, so they may be repeated or failed over. An
//! HTTP 500 from a proxy in front of SMS.ru is a different thing: that stays `MaybeSent`.
//!
//! **Dispatch.** Every other documented `ERROR` is a refusal before anything was queued, so it is
//! `NotSent` too; since those kinds are not temporary, nothing retries them, but failover and journals
//! see the truth.

use serde_json::Value;
use switchboard_core::http::Reply;
use switchboard_core::{DeliveryStatus, Dispatch, Error, ErrorKind};

use crate::SCHEME;
use crate::model::Envelope;

/// One row of SMS.ru's code table: the code, what it means for us, and SMS.ru's own wording (as the
/// simulator answers it; the texts are the official ones, shortened where the original is long).
#[derive(Debug, Clone, Copy)]
pub struct CodeInfo {
    /// The numeric code.
    pub code: i32,
    /// The kind of failure, for request/number errors. Message-state codes have `None`.
    pub kind: Option<ErrorKind>,
    /// What it means, in English, for error messages.
    pub meaning: &'static str,
    /// SMS.ru's own text (Russian), as `status_text` carries it.
    pub text_ru: &'static str,
}

const fn err(code: i32, kind: ErrorKind, meaning: &'static str, text_ru: &'static str) -> CodeInfo {
    CodeInfo {
        code,
        kind: Some(kind),
        meaning,
        text_ru,
    }
}

const fn state(code: i32, meaning: &'static str, text_ru: &'static str) -> CodeInfo {
    CodeInfo {
        code,
        kind: None,
        meaning,
        text_ru,
    }
}

use ErrorKind::{Auth, InvalidInput, NotFound, Rejected, Unavailable, Unsupported};

/// Every documented code (SMS.ru's API documentation, <https://sms.ru/api>, as transcribed in the
/// `SPEC.md` of the `smsru` crate, github.com/matrizaev/smsru, and cross-checked with SDK tables).
pub const CODES: &[CodeInfo] = &[
    state(-1, "message not found", "Сообщение не найдено"),
    state(
        100,
        "request done / message queued",
        "Запрос выполнен или сообщение находится в нашей очереди",
    ),
    state(
        101,
        "message is being passed to the operator",
        "Сообщение передается оператору",
    ),
    state(102, "message sent, in transit", "Сообщение отправлено (в пути)"),
    state(103, "message delivered", "Сообщение доставлено"),
    state(
        104,
        "not delivered: lifetime expired",
        "Не может быть доставлено: время жизни истекло",
    ),
    state(
        105,
        "not delivered: deleted by the operator",
        "Не может быть доставлено: удалено оператором",
    ),
    state(
        106,
        "not delivered: phone failure",
        "Не может быть доставлено: сбой в телефоне",
    ),
    state(
        107,
        "not delivered: unknown reason",
        "Не может быть доставлено: неизвестная причина",
    ),
    state(108, "not delivered: rejected", "Не может быть доставлено: отклонено"),
    state(110, "message read (Viber)", "Сообщение прочитано"),
    state(
        150,
        "not delivered: no route to this number",
        "Не может быть доставлено: не найден маршрут на данный номер",
    ),
    err(200, Auth, "the api_id is wrong", "Неправильный api_id"),
    err(
        201,
        Rejected,
        "the account has insufficient funds",
        "Не хватает средств на лицевом счету",
    ),
    err(
        202,
        InvalidInput,
        "the recipient number is wrong or has no route",
        "Неправильно указан номер телефона получателя, либо на него нет маршрута",
    ),
    err(203, InvalidInput, "the message text is empty", "Нет текста сообщения"),
    err(
        204,
        Rejected,
        "the sender name is not approved with the operator",
        "Имя отправителя не согласовано с администрацией",
    ),
    err(
        205,
        InvalidInput,
        "the message is longer than 8 SMS parts",
        "Сообщение слишком длинное (превышает 8 СМС)",
    ),
    err(
        206,
        Rejected,
        "the daily sending limit is (or would be) exceeded",
        "Будет превышен или уже превышен дневной лимит на отправку сообщений",
    ),
    err(
        207,
        Rejected,
        "no delivery route to this number (or more than 100 numbers in one request)",
        "На этот номер нет маршрута для доставки сообщений",
    ),
    err(
        208,
        InvalidInput,
        "the 'time' parameter is wrong",
        "Параметр time указан неправильно",
    ),
    err(
        209,
        Rejected,
        "the number is on the account's stop-list",
        "Вы добавили этот номер (или один из номеров) в стоп-лист",
    ),
    err(
        210,
        InvalidInput,
        "GET was used where POST is required",
        "Используется GET, где необходимо использовать POST",
    ),
    err(211, Unsupported, "the API method does not exist", "Метод не найден"),
    err(
        212,
        InvalidInput,
        "the text is not UTF-8",
        "Текст сообщения необходимо передать в кодировке UTF-8",
    ),
    err(
        213,
        InvalidInput,
        "more than 5000 numbers in one request",
        "Указано более 5000 номеров в списке получателей",
    ),
    err(
        214,
        Rejected,
        "the number is abroad and the account sends to Russian numbers only",
        "Номер находится зарубежом (включена настройка \"Отправлять только на номера РФ\")",
    ),
    err(
        215,
        Rejected,
        "the number is on SMS.ru's global stop-list (spam complaint)",
        "Номер находится в стоп-листе SMS.ru",
    ),
    err(
        216,
        Rejected,
        "the text contains a forbidden word",
        "В тексте сообщения содержится запрещенное слово",
    ),
    err(
        217,
        Rejected,
        "a credit advertisement lacks the required disclaimer",
        "Реклама кредита без обязательной фразы",
    ),
    err(
        220,
        Unavailable,
        "the service is temporarily unavailable",
        "Сервис временно недоступен, попробуйте чуть позже",
    ),
    err(
        221,
        Rejected,
        "a letter sender matching the company is required",
        "Необходимо использовать буквенного отправителя",
    ),
    err(
        230,
        Rejected,
        "the daily limit of messages to this number is exceeded",
        "Превышен общий лимит количества сообщений на этот номер в день",
    ),
    err(
        231,
        Rejected,
        "the per-minute limit of identical messages to this number is exceeded",
        "Превышен лимит одинаковых сообщений на этот номер в минуту",
    ),
    err(
        232,
        Rejected,
        "the daily limit of identical messages to this number is exceeded",
        "Превышен лимит одинаковых сообщений на этот номер в день",
    ),
    err(
        233,
        Rejected,
        "the repeat limit of code messages to this number is exceeded (anti-fraud)",
        "Превышен лимит отправки повторных сообщений с кодом на этот номер",
    ),
    err(
        300,
        Auth,
        "the token is wrong (expired, or the IP changed)",
        "Неправильный token",
    ),
    err(
        301,
        Auth,
        "the api_id, or the login and password, are wrong",
        "Неправильный api_id, либо логин/пароль",
    ),
    err(
        302,
        Auth,
        "the account is not confirmed",
        "Пользователь авторизован, но аккаунт не подтвержден",
    ),
    err(303, Auth, "the confirmation code is wrong", "Код подтверждения неверен"),
    err(
        304,
        Auth,
        "too many confirmation codes were sent",
        "Отправлено слишком много кодов подтверждения",
    ),
    err(
        305,
        Auth,
        "too many wrong confirmation attempts",
        "Слишком много неверных вводов кода",
    ),
    err(
        500,
        Unavailable,
        "SMS.ru had a server error",
        "Ошибка на сервере. Повторите запрос",
    ),
    err(
        501,
        Rejected,
        "anti-fraud limit: the end user's IP country does not match (category 1)",
        "Превышен лимит: страна IP-адреса не совпадает (категория 1)",
    ),
    err(
        502,
        Rejected,
        "anti-fraud limit: the end user's IP country does not match (category 2)",
        "Превышен лимит: страна IP-адреса не совпадает (категория 2)",
    ),
    err(
        503,
        Rejected,
        "anti-fraud limit: too many messages to this country in a short time",
        "Превышен лимит на отправку сообщений в эту страну",
    ),
    err(
        504,
        Rejected,
        "anti-fraud limit: too many foreign authorisations in a short time",
        "Превышен лимит зарубежных авторизаций",
    ),
    err(
        505,
        Rejected,
        "anti-fraud limit: too many messages for one end-user IP",
        "Превышен лимит сообщений на один IP-адрес",
    ),
    err(
        506,
        Rejected,
        "anti-fraud limit: too many messages from hosting-provider IPs",
        "Превышен лимит сообщений с IP-адресов хостинг-провайдеров",
    ),
    err(
        507,
        Rejected,
        "the end user's IP is invalid or private",
        "Неверный IP-адрес пользователя",
    ),
    err(
        508,
        Rejected,
        "anti-fraud limit: too many calls in 5 minutes",
        "Превышен лимит звонков за 5 минут",
    ),
    err(
        550,
        Rejected,
        "the country is blocked for security reasons",
        "Страна заблокирована по соображениям безопасности",
    ),
    err(
        901,
        InvalidInput,
        "the callback URL is invalid (it must start with http:// or https://)",
        "Callback: URL неверный (не начинается на http://)",
    ),
    err(
        902,
        NotFound,
        "the callback handler does not exist",
        "Callback: обработчик не найден (возможно был удален ранее)",
    ),
];

/// The table row of a code, if SMS.ru documents it.
pub fn code_info(code: i32) -> Option<&'static CodeInfo> {
    CODES.iter().find(|c| c.code == code)
}

/// Whether repeating a request that got this code can succeed: only `220` and `500`.
pub fn is_retryable_code(code: i32) -> bool {
    matches!(code, 220 | 500)
}

/// The kind and dispatch fact of an `ERROR` with this code (see the table in the [module docs](self)).
fn facts(code: i32) -> (ErrorKind, Dispatch) {
    match code_info(code).and_then(|c| c.kind) {
        Some(kind) => (kind, Dispatch::NotSent),
        // `-1` where an error is expected: the message does not exist.
        None if code == -1 => (ErrorKind::NotFound, Dispatch::NotSent),
        // A state code, or a code the table does not list, in an `ERROR`: SMS.ru refused, but we do not
        // know why; keep it permanent and do not claim more than "it answered".
        None => (ErrorKind::Rejected, Dispatch::Sent),
    }
}

/// The normalised delivery state of a message-state code.
///
/// `100`/`101` wait at SMS.ru or the operator, `102` is on the network, `103` and `110` (read) reached
/// the phone; `104` is the lifetime running out; `108` and `150` are refusals by the operator or the
/// route; `105`–`107` are other failures. Anything else is `Unknown` (the raw code stays in the report).
pub fn delivery_status(code: i32) -> DeliveryStatus {
    match code {
        100 | 101 => DeliveryStatus::Queued,
        102 => DeliveryStatus::Sent,
        103 | 110 => DeliveryStatus::Delivered,
        104 => DeliveryStatus::Expired,
        105..=107 => DeliveryStatus::Failed,
        108 | 150 => DeliveryStatus::Rejected,
        _ => DeliveryStatus::Unknown,
    }
}

/// The error an SMS.ru answer stands for, `None` when it is an `OK` to hand to the caller (see the
/// table in the [module docs](self)).
pub fn parse_error(reply: &Reply) -> Option<Error> {
    if !reply.is_success() {
        return Some(reply.status_error().with_provider(SCHEME));
    }
    let Ok(envelope) = serde_json::from_slice::<Envelope>(&reply.body) else {
        return Some(
            Error::decode("SMS.ru answered without its status and status_code")
                .with_provider(SCHEME)
                .with_http_status(reply.status.as_u16())
                .with_provider_text(reply.excerpt()),
        );
    };
    if envelope.is_ok() {
        return None;
    }
    let e = refusal(envelope.status_code, envelope.status_text.as_deref(), "the request")
        .with_http_status(reply.status.as_u16());
    // A refusal of the whole request that still hands out message ids contradicts itself: those
    // messages may exist.
    Some(if names_a_message(&reply.body) {
        e.with_dispatch(Dispatch::MaybeSent)
    } else {
        e
    })
}

/// Whether an answer carries a message id for any number (`sms.{number}.sms_id`).
fn names_a_message(body: &[u8]) -> bool {
    let Ok(raw) = serde_json::from_slice::<Value>(body) else {
        return false;
    };
    raw.get("sms").and_then(Value::as_object).is_some_and(|per| {
        per.values().any(|r| {
            r.get("sms_id")
                .and_then(Value::as_str)
                .is_some_and(|id| !id.trim().is_empty())
        })
    })
}

/// The error for an `ERROR` with this code and SMS.ru's text: for `what` ("the request", "this
/// number") as a whole.
pub(crate) fn refusal(code: i32, text: Option<&str>, what: &str) -> Error {
    let (kind, dispatch) = facts(code);
    let meaning = code_info(code).map_or("a code SMS.ru does not document", |c| c.meaning);
    let mut e = Error::new(kind, format!("SMS.ru refused {what}: {meaning}"))
        .with_dispatch(dispatch)
        .with_provider(SCHEME)
        .with_provider_code(code);
    if let Some(t) = text.map(str::trim).filter(|t| !t.is_empty()) {
        e = e.with_provider_text(t);
    }
    e
}

pub(crate) use switchboard_core::secret::mask_middle as mask;

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;

    fn reply(status: u16, body: &str) -> Reply {
        Reply::of(status, Bytes::from(body.to_owned()))
    }

    #[test]
    fn only_220_and_500_are_retryable() {
        for c in CODES {
            let (kind, _) = facts(c.code);
            let temporary = kind.is_temporary();
            assert_eq!(temporary, is_retryable_code(c.code), "{}", c.code);
        }
        let e = refusal(220, Some("later"), "the request");
        assert!(e.is_safe_to_retry(false));
        let e = refusal(500, None, "the request");
        assert!(e.is_safe_to_retry(false));
        assert!(!refusal(201, None, "the request").is_retryable());
    }

    #[test]
    fn codes_are_unique_and_errors_carry_the_code() {
        for (i, a) in CODES.iter().enumerate() {
            assert!(CODES[i + 1..].iter().all(|b| b.code != a.code), "{}", a.code);
        }
        let e = refusal(204, Some("Имя отправителя не согласовано"), "the request");
        assert_eq!(e.kind(), ErrorKind::Rejected);
        assert_eq!(e.dispatch(), Dispatch::NotSent);
        assert_eq!(e.provider(), Some("smsru"));
        assert_eq!(e.provider_code(), Some("204"));
        assert!(e.to_string().contains("sender name is not approved"));
        assert_eq!(facts(999), (ErrorKind::Rejected, Dispatch::Sent));
        assert_eq!(facts(-1).0, ErrorKind::NotFound);
    }

    #[test]
    fn states_map() {
        assert_eq!(delivery_status(103), DeliveryStatus::Delivered);
        assert_eq!(delivery_status(104), DeliveryStatus::Expired);
        assert_eq!(delivery_status(150), DeliveryStatus::Rejected);
        assert_eq!(delivery_status(106), DeliveryStatus::Failed);
        assert_eq!(delivery_status(102), DeliveryStatus::Sent);
        assert_eq!(delivery_status(42), DeliveryStatus::Unknown);
    }

    #[test]
    fn numbers_are_scrubbed_from_provider_text() {
        let e = refusal(202, Some("bad number +79255070602 here"), "this number");
        assert_eq!(e.provider_text(), Some("bad number +792******02 here"));
        let e = refusal(207, Some("code 207, 100 numbers"), "the request");
        assert_eq!(e.provider_text(), Some("code 207, 100 numbers"));
    }

    #[test]
    fn envelope_errors_map_through_the_table() {
        let e = parse_error(&reply(
            200,
            r#"{"status":"ERROR","status_code":200,"status_text":"Неправильный api_id"}"#,
        ))
        .unwrap();
        assert_eq!((e.kind(), e.dispatch()), (ErrorKind::Auth, Dispatch::NotSent));
        assert_eq!(e.provider_code(), Some("200"));
        assert!(parse_error(&reply(200, r#"{"status":"OK","status_code":100}"#)).is_none());
    }

    #[test]
    fn an_answer_without_the_envelope_was_answered() {
        for body in ["<html>", r#"{"x":1}"#, r#"{"status":"OK"}"#, r#"["OK"]"#] {
            let e = parse_error(&reply(200, body)).unwrap();
            assert_eq!((e.kind(), e.dispatch()), (ErrorKind::Decode, Dispatch::Sent), "{body}");
        }
    }

    #[test]
    fn a_refusal_that_hands_out_ids_may_have_been_sent() {
        let body = r#"{"status":"ERROR","status_code":201,"sms":{"79255070602":{"status":"OK","status_code":100,"sms_id":"000000-1"}}}"#;
        let e = parse_error(&reply(200, body)).unwrap();
        assert_eq!((e.provider_code(), e.dispatch()), (Some("201"), Dispatch::MaybeSent));
        let plain = r#"{"status":"ERROR","status_code":201,"status_text":"Не хватает средств"}"#;
        let e = parse_error(&reply(200, plain)).unwrap();
        assert_eq!(e.dispatch(), Dispatch::NotSent);
    }

    #[test]
    fn http_errors_fall_back_to_core() {
        let e = parse_error(&reply(503, "down")).unwrap();
        assert_eq!((e.kind(), e.dispatch()), (ErrorKind::Unavailable, Dispatch::NotSent));
        assert_eq!(e.provider(), Some("smsru"));
    }
}
