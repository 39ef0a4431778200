//! The `odata.error` codes and texts this simulator answers, in one place.
//!
//! 1C publishes no list of its OData error codes. `13` and `-1`, with their texts, are 1C's own (they
//! appear verbatim in 1C's answers quoted by integrators); the others are this simulator's choices: the
//! HTTP status follows OData practice and the Russian text is what such a refusal plausibly says. The
//! client reads every one of them by its HTTP status, so none of its behaviour rests on the choices.

/// Creating tabular-section rows on their own set (1C's own code and text; the first letter is a Latin C in
/// 1C's own text, kept as it is).
pub const TABULAR_ROWS: (u16, &str, &str) = (400, "13", "Cоздание строк табличной части напрямую не поддерживается");
/// The internal error (1C's own code and text).
pub const INTERNAL: (u16, &str, &str) = (
    500,
    "-1",
    "Произошла внутренняя ошибка OData сервиса. Дополнительные сведения можно найти в технологическом журнале.",
);
/// No entity with this key (the code seen in public test fixtures of 1C integrations).
pub const NOT_FOUND: (u16, &str, &str) = (404, "9", "Экземпляр сущности не найден");
/// The URL names no published entity set or operation.
pub const BAD_SEGMENT: (u16, &str, &str) = (400, "6", "Неправильный сегмент URL");
/// A query option could not be parsed or names an unknown field.
pub const BAD_QUERY: (u16, &str, &str) = (400, "14", "Ошибка разбора параметра запроса");
/// The body has an unknown property or a value of the wrong type.
pub const BAD_VALUE: (u16, &str, &str) = (400, "15", "Неверное значение свойства");
/// A write to a register subordinate to a recorder.
pub const READ_ONLY: (u16, &str, &str) = (400, "16", "Запись в набор, подчиненный регистратору, не поддерживается");
