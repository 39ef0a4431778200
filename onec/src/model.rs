//! What integrators move, as 1C's standard OData interface writes it.
//!
//! Field names are the configuration's attribute names, so they are Russian: the ones here are those of
//! the typical configurations (Бухгалтерия предприятия 3.0, Управление торговлей 11, ERP 2), where the
//! objects of [`crate::sync::SyncSets`] live. Configurations differ; every type keeps the fields it does
//! not name in `extra` (read and written), so a customer's own attributes pass through.
//!
//! * `None` fields are not sent, so a sync changes only what it sets.
//! * References are `<Attr>_Key` [`Guid`]s; an empty reference is [`Guid::NIL`].
//! * Dates are `YYYY-MM-DDTHH:MM:SS` without a time zone ([`NaiveDateTime`], the infobase's local time).
//! * Money and quantities are [`Decimal`]s.
//! * Tabular sections are `Vec`s of rows with [`LineNumber`]s; the sync numbers rows that have none.
//!
//! The types a host fills in are plain structs built with `..Default::default()`; attributes a
//! configuration adds go to `extra`, so these structs do not need to grow for them.

use std::fmt;

use chrono::NaiveDateTime;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Value};

use crate::decimal::Decimal;
use crate::filter::DATETIME_FORMAT;
use crate::guid::Guid;

/// Serde for 1C dates (`2024-01-31T00:00:00`), as `Option<NaiveDateTime>`. 1C's empty date
/// (`0001-01-01T00:00:00`) reads as `None`.
pub mod onec_date {
    use super::*;

    /// The empty date of 1C.
    pub const EMPTY: &str = "0001-01-01T00:00:00";

    /// Writes the date, or the empty date for `None`.
    pub fn serialize<S: Serializer>(v: &Option<NaiveDateTime>, s: S) -> Result<S::Ok, S::Error> {
        match v {
            Some(t) => s.collect_str(&t.format(DATETIME_FORMAT)),
            None => s.serialize_str(EMPTY),
        }
    }

    /// Reads a date; the empty date, `""` and `null` are `None`.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<NaiveDateTime>, D::Error> {
        let s = Option::<std::borrow::Cow<'de, str>>::deserialize(d)?;
        match s.as_deref() {
            None | Some("") | Some(EMPTY) => Ok(None),
            Some(s) => parse(s)
                .map(Some)
                .ok_or_else(|| serde::de::Error::custom("expected a 1C date")),
        }
    }

    /// Parses `YYYY-MM-DDTHH:MM:SS` (a fraction, if any, is ignored).
    pub fn parse(s: &str) -> Option<NaiveDateTime> {
        let s = s.split('.').next().unwrap_or(s);
        NaiveDateTime::parse_from_str(s, DATETIME_FORMAT).ok()
    }
}

/// A row's number in its tabular section. 1C writes it as a string (`"1"`) or a number; it is written
/// back as a string.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct LineNumber(pub u32);

impl Serialize for LineNumber {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for LineNumber {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<LineNumber, D::Error> {
        match Value::deserialize(d)? {
            Value::Number(n) => n
                .as_u64()
                .and_then(|n| u32::try_from(n).ok())
                .map(LineNumber)
                .ok_or_else(|| serde::de::Error::custom("LineNumber out of range")),
            Value::String(s) => s
                .trim()
                .parse()
                .map(LineNumber)
                .map_err(|_| serde::de::Error::custom("LineNumber is not a number")),
            _ => Err(serde::de::Error::custom("LineNumber must be a number or a string")),
        }
    }
}

/// A value of a 1C enumeration, written as its name (`"ЮридическоеЛицо"`). Names depend on the
/// configuration, so any name is kept.
#[derive(Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct EnumValue(pub String);

impl EnumValue {
    /// The value named `name`.
    pub fn new(name: impl Into<String>) -> EnumValue {
        EnumValue(name.into())
    }
    /// The name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for EnumValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", self.0)
    }
}

impl From<&str> for EnumValue {
    fn from(s: &str) -> EnumValue {
        EnumValue(s.to_owned())
    }
}

/// `ЮридическоеФизическоеЛицо` values.
pub mod legal_form {
    /// A legal entity.
    pub const COMPANY: &str = "ЮридическоеЛицо";
    /// A natural person (including sole proprietors).
    pub const PERSON: &str = "ФизическоеЛицо";
}

/// `ВидДоговора` values of contracts.
pub mod contract_kind {
    /// With a customer.
    pub const WITH_CUSTOMER: &str = "СПокупателем";
    /// With a supplier.
    pub const WITH_SUPPLIER: &str = "СПоставщиком";
    /// Other.
    pub const OTHER: &str = "Прочее";
}

/// `ВидОперации` values of bank documents.
pub mod payment_operation {
    /// Incoming: payment from a customer.
    pub const FROM_CUSTOMER: &str = "ОплатаПокупателя";
    /// Outgoing: payment to a supplier.
    pub const TO_SUPPLIER: &str = "ОплатаПоставщику";
    /// Incoming: a refund from a supplier.
    pub const REFUND_FROM_SUPPLIER: &str = "ВозвратДенежныхСредствПоставщиком";
    /// Outgoing: a refund to a customer.
    pub const REFUND_TO_CUSTOMER: &str = "ВозвратДенежныхСредствПокупателю";
}

/// A counterparty (`Catalog_Контрагенты`): a customer or supplier, found by INN (+ KPP).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Counterparty {
    /// 1C's key (set by 1C on create).
    #[serde(rename = "Ref_Key", default, skip_serializing_if = "Option::is_none")]
    pub ref_key: Option<Guid>,
    /// Marked for deletion.
    #[serde(rename = "DeletionMark", default, skip_serializing_if = "Option::is_none")]
    pub deletion_mark: Option<bool>,
    /// 1C's code (assigned by 1C when not given).
    #[serde(rename = "Code", default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    /// The short name shown in lists (Наименование).
    #[serde(rename = "Description", default)]
    pub description: String,
    /// The full legal name (НаименованиеПолное).
    #[serde(rename = "НаименованиеПолное", default, skip_serializing_if = "Option::is_none")]
    pub full_name: Option<String>,
    /// Taxpayer number: 10 digits for a company, 12 for a person.
    #[serde(rename = "ИНН", default, skip_serializing_if = "Option::is_none")]
    pub inn: Option<String>,
    /// Tax registration reason code (companies; a branch has its own).
    #[serde(rename = "КПП", default, skip_serializing_if = "Option::is_none")]
    pub kpp: Option<String>,
    /// Company or person ([`legal_form`]).
    #[serde(
        rename = "ЮридическоеФизическоеЛицо",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub legal_form: Option<EnumValue>,
    /// The group it is filed under.
    #[serde(rename = "Parent_Key", default, skip_serializing_if = "Option::is_none")]
    pub parent_key: Option<Guid>,
    /// A comment.
    #[serde(rename = "Комментарий", default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    /// Every other attribute.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl Counterparty {
    /// A company with its INN and KPP.
    pub fn company(name: impl Into<String>, inn: impl Into<String>, kpp: Option<&str>) -> Counterparty {
        let name = name.into();
        Counterparty {
            full_name: Some(name.clone()),
            description: name,
            inn: Some(inn.into()),
            kpp: kpp.map(str::to_owned),
            legal_form: Some(EnumValue::new(legal_form::COMPANY)),
            ..Counterparty::default()
        }
    }

    /// A person (or sole proprietor) with a 12-digit INN.
    pub fn person(name: impl Into<String>, inn: impl Into<String>) -> Counterparty {
        let name = name.into();
        Counterparty {
            full_name: Some(name.clone()),
            description: name,
            inn: Some(inn.into()),
            legal_form: Some(EnumValue::new(legal_form::PERSON)),
            ..Counterparty::default()
        }
    }
}

/// A contract with a counterparty (`Catalog_ДоговорыКонтрагентов`), owned by the counterparty.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Contract {
    /// 1C's key.
    #[serde(rename = "Ref_Key", default, skip_serializing_if = "Option::is_none")]
    pub ref_key: Option<Guid>,
    /// Marked for deletion.
    #[serde(rename = "DeletionMark", default, skip_serializing_if = "Option::is_none")]
    pub deletion_mark: Option<bool>,
    /// The name shown in lists.
    #[serde(rename = "Description", default)]
    pub description: String,
    /// The counterparty it belongs to.
    #[serde(rename = "Owner_Key", default)]
    pub owner_key: Guid,
    /// Our organisation that signed it.
    #[serde(rename = "Организация_Key", default, skip_serializing_if = "Option::is_none")]
    pub organization_key: Option<Guid>,
    /// Customer, supplier… ([`contract_kind`]).
    #[serde(rename = "ВидДоговора", default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<EnumValue>,
    /// The contract's number.
    #[serde(rename = "Номер", default, skip_serializing_if = "Option::is_none")]
    pub number: Option<String>,
    /// The contract's date.
    #[serde(
        rename = "Дата",
        default,
        with = "onec_date",
        skip_serializing_if = "Option::is_none"
    )]
    pub date: Option<NaiveDateTime>,
    /// The settlement currency.
    #[serde(
        rename = "ВалютаВзаиморасчетов_Key",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub currency_key: Option<Guid>,
    /// A comment.
    #[serde(rename = "Комментарий", default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    /// Every other attribute.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// An item: goods or a service (`Catalog_Номенклатура`), found by article (SKU) or code.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Item {
    /// 1C's key.
    #[serde(rename = "Ref_Key", default, skip_serializing_if = "Option::is_none")]
    pub ref_key: Option<Guid>,
    /// Marked for deletion.
    #[serde(rename = "DeletionMark", default, skip_serializing_if = "Option::is_none")]
    pub deletion_mark: Option<bool>,
    /// 1C's code.
    #[serde(rename = "Code", default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    /// The name shown in lists.
    #[serde(rename = "Description", default)]
    pub description: String,
    /// The name printed on documents.
    #[serde(rename = "НаименованиеПолное", default, skip_serializing_if = "Option::is_none")]
    pub full_name: Option<String>,
    /// The article (SKU): the stable key a shop or CRM has.
    #[serde(rename = "Артикул", default, skip_serializing_if = "Option::is_none")]
    pub article: Option<String>,
    /// The unit of measure (a `Catalog_КлассификаторЕдиницИзмерения` reference).
    #[serde(rename = "ЕдиницаИзмерения_Key", default, skip_serializing_if = "Option::is_none")]
    pub unit_key: Option<Guid>,
    /// A service rather than goods.
    #[serde(rename = "Услуга", default, skip_serializing_if = "Option::is_none")]
    pub is_service: Option<bool>,
    /// The VAT rate (`НДС20`, `БезНДС`…).
    #[serde(rename = "СтавкаНДС", default, skip_serializing_if = "Option::is_none")]
    pub vat_rate: Option<EnumValue>,
    /// The group it is filed under.
    #[serde(rename = "Parent_Key", default, skip_serializing_if = "Option::is_none")]
    pub parent_key: Option<Guid>,
    /// Every other attribute.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// A price record of `InformationRegister_ЦеныНоменклатуры` (read-only here: in the typical
/// configurations the register is written by posting a [`PriceList`] document).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ItemPrice {
    /// From when the price applies.
    #[serde(rename = "Period", with = "onec_date")]
    pub period: Option<NaiveDateTime>,
    /// The item.
    #[serde(rename = "Номенклатура_Key")]
    pub item_key: Guid,
    /// The price type (retail, wholesale…).
    #[serde(rename = "ТипЦен_Key", default)]
    pub price_type_key: Guid,
    /// The price.
    #[serde(rename = "Цена")]
    pub price: Decimal,
    /// The document that wrote it.
    #[serde(rename = "Recorder", default, skip_serializing_if = "Option::is_none")]
    pub recorder: Option<String>,
    /// Every other field.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// A row of a [`PriceList`].
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PriceRow {
    /// The row's number (filled by the sync when `None`).
    #[serde(rename = "LineNumber", default, skip_serializing_if = "Option::is_none")]
    pub line_number: Option<LineNumber>,
    /// The item.
    #[serde(rename = "Номенклатура_Key")]
    pub item_key: Guid,
    /// The new price.
    #[serde(rename = "Цена")]
    pub price: Decimal,
    /// Every other column.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl PriceRow {
    /// A row setting `item`'s price.
    pub fn new(item_key: Guid, price: Decimal) -> PriceRow {
        PriceRow {
            item_key,
            price,
            ..PriceRow::default()
        }
    }
}

/// A price-setting document (`Document_УстановкаЦенНоменклатуры`); posting it writes the prices into
/// `InformationRegister_ЦеныНоменклатуры`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PriceList {
    /// 1C's key.
    #[serde(rename = "Ref_Key", default, skip_serializing_if = "Option::is_none")]
    pub ref_key: Option<Guid>,
    /// The document number: the sync's stable key.
    #[serde(rename = "Number", default, skip_serializing_if = "Option::is_none")]
    pub number: Option<String>,
    /// The date from which the prices apply.
    #[serde(
        rename = "Date",
        default,
        with = "onec_date",
        skip_serializing_if = "Option::is_none"
    )]
    pub date: Option<NaiveDateTime>,
    /// Posted (read-only: use posting).
    #[serde(rename = "Posted", default, skip_serializing)]
    pub posted: Option<bool>,
    /// The price type set.
    #[serde(rename = "ТипЦен_Key", default, skip_serializing_if = "Option::is_none")]
    pub price_type_key: Option<Guid>,
    /// The prices.
    #[serde(rename = "Товары", default, skip_serializing_if = "Option::is_none")]
    pub rows: Option<Vec<PriceRow>>,
    /// Every other attribute.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// A row of goods or services in a sales document.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct DocumentRow {
    /// The row's number (filled by the sync when `None`).
    #[serde(rename = "LineNumber", default, skip_serializing_if = "Option::is_none")]
    pub line_number: Option<LineNumber>,
    /// The item.
    #[serde(rename = "Номенклатура_Key", default)]
    pub item_key: Guid,
    /// The quantity.
    #[serde(rename = "Количество", default, skip_serializing_if = "Option::is_none")]
    pub quantity: Option<Decimal>,
    /// The price.
    #[serde(rename = "Цена", default, skip_serializing_if = "Option::is_none")]
    pub price: Option<Decimal>,
    /// The row's sum.
    #[serde(rename = "Сумма", default, skip_serializing_if = "Option::is_none")]
    pub amount: Option<Decimal>,
    /// The VAT rate.
    #[serde(rename = "СтавкаНДС", default, skip_serializing_if = "Option::is_none")]
    pub vat_rate: Option<EnumValue>,
    /// The VAT amount.
    #[serde(rename = "СуммаНДС", default, skip_serializing_if = "Option::is_none")]
    pub vat_amount: Option<Decimal>,
    /// What a service row says on the document (services only).
    #[serde(rename = "Содержание", default, skip_serializing_if = "Option::is_none")]
    pub content: Option<String>,
    /// Every other column.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl DocumentRow {
    /// A row of `quantity × price`, with the sum computed and rounded to kopecks.
    pub fn new(item_key: Guid, quantity: Decimal, price: Decimal) -> DocumentRow {
        DocumentRow {
            item_key,
            quantity: Some(quantity),
            price: Some(price),
            amount: quantity.checked_mul(price).map(|a| a.round(2)),
            ..DocumentRow::default()
        }
    }
}

/// An order, invoice or sale (`Document_ЗаказКлиента`, `Document_СчетНаОплатуПокупателю`,
/// `Document_РеализацияТоваровУслуг`): a header and the goods and services sections.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SalesDocument {
    /// 1C's key.
    #[serde(rename = "Ref_Key", default, skip_serializing_if = "Option::is_none")]
    pub ref_key: Option<Guid>,
    /// Marked for deletion.
    #[serde(rename = "DeletionMark", default, skip_serializing_if = "Option::is_none")]
    pub deletion_mark: Option<bool>,
    /// The document number. The sync's stable key: set it to the CRM's number (1C keeps numbers unique
    /// per organisation and year).
    #[serde(rename = "Number", default, skip_serializing_if = "Option::is_none")]
    pub number: Option<String>,
    /// The document date.
    #[serde(
        rename = "Date",
        default,
        with = "onec_date",
        skip_serializing_if = "Option::is_none"
    )]
    pub date: Option<NaiveDateTime>,
    /// Posted (read-only: use posting).
    #[serde(rename = "Posted", default, skip_serializing)]
    pub posted: Option<bool>,
    /// Our organisation.
    #[serde(rename = "Организация_Key", default, skip_serializing_if = "Option::is_none")]
    pub organization_key: Option<Guid>,
    /// The customer.
    #[serde(rename = "Контрагент_Key", default, skip_serializing_if = "Option::is_none")]
    pub counterparty_key: Option<Guid>,
    /// The contract.
    #[serde(rename = "ДоговорКонтрагента_Key", default, skip_serializing_if = "Option::is_none")]
    pub contract_key: Option<Guid>,
    /// The document's total.
    #[serde(rename = "СуммаДокумента", default, skip_serializing_if = "Option::is_none")]
    pub total: Option<Decimal>,
    /// A comment.
    #[serde(rename = "Комментарий", default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    /// Goods (Товары).
    #[serde(rename = "Товары", default, skip_serializing_if = "Option::is_none")]
    pub goods: Option<Vec<DocumentRow>>,
    /// Services (Услуги).
    #[serde(rename = "Услуги", default, skip_serializing_if = "Option::is_none")]
    pub services: Option<Vec<DocumentRow>>,
    /// Every other attribute (a status field, a warehouse…).
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl SalesDocument {
    /// The sum of every row's `Сумма` (what `СуммаДокумента` should be).
    pub fn rows_total(&self) -> Option<Decimal> {
        self.goods
            .iter()
            .chain(self.services.iter())
            .flatten()
            .try_fold(Decimal::ZERO, |acc, r| {
                acc.checked_add(r.amount.unwrap_or(Decimal::ZERO))
            })
    }
}

/// A row of a bank document's payment breakdown (РасшифровкаПлатежа).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PaymentRow {
    /// The row's number (filled by the sync when `None`).
    #[serde(rename = "LineNumber", default, skip_serializing_if = "Option::is_none")]
    pub line_number: Option<LineNumber>,
    /// The contract paid under.
    #[serde(rename = "ДоговорКонтрагента_Key", default, skip_serializing_if = "Option::is_none")]
    pub contract_key: Option<Guid>,
    /// The amount.
    #[serde(rename = "СуммаПлатежа", default, skip_serializing_if = "Option::is_none")]
    pub amount: Option<Decimal>,
    /// The VAT rate.
    #[serde(rename = "СтавкаНДС", default, skip_serializing_if = "Option::is_none")]
    pub vat_rate: Option<EnumValue>,
    /// The VAT amount.
    #[serde(rename = "СуммаНДС", default, skip_serializing_if = "Option::is_none")]
    pub vat_amount: Option<Decimal>,
    /// Every other column.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// A bank payment: incoming (`Document_ПоступлениеНаРасчетныйСчет`) or outgoing
/// (`Document_СписаниеСРасчетногоСчета`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct BankPayment {
    /// 1C's key.
    #[serde(rename = "Ref_Key", default, skip_serializing_if = "Option::is_none")]
    pub ref_key: Option<Guid>,
    /// Marked for deletion.
    #[serde(rename = "DeletionMark", default, skip_serializing_if = "Option::is_none")]
    pub deletion_mark: Option<bool>,
    /// 1C's document number.
    #[serde(rename = "Number", default, skip_serializing_if = "Option::is_none")]
    pub number: Option<String>,
    /// The document date.
    #[serde(
        rename = "Date",
        default,
        with = "onec_date",
        skip_serializing_if = "Option::is_none"
    )]
    pub date: Option<NaiveDateTime>,
    /// Posted (read-only: use posting).
    #[serde(rename = "Posted", default, skip_serializing)]
    pub posted: Option<bool>,
    /// What kind of payment ([`payment_operation`]).
    #[serde(rename = "ВидОперации", default, skip_serializing_if = "Option::is_none")]
    pub operation: Option<EnumValue>,
    /// Our organisation.
    #[serde(rename = "Организация_Key", default, skip_serializing_if = "Option::is_none")]
    pub organization_key: Option<Guid>,
    /// Our bank account.
    #[serde(rename = "СчетОрганизации_Key", default, skip_serializing_if = "Option::is_none")]
    pub bank_account_key: Option<Guid>,
    /// The payer or payee.
    #[serde(rename = "Контрагент_Key", default, skip_serializing_if = "Option::is_none")]
    pub counterparty_key: Option<Guid>,
    /// The amount.
    #[serde(rename = "СуммаДокумента", default, skip_serializing_if = "Option::is_none")]
    pub amount: Option<Decimal>,
    /// The payment purpose text.
    #[serde(rename = "НазначениеПлатежа", default, skip_serializing_if = "Option::is_none")]
    pub purpose: Option<String>,
    /// The bank's number of the payment order: with its date, the sync's stable key.
    #[serde(rename = "НомерВходящегоДокумента", default, skip_serializing_if = "Option::is_none")]
    pub incoming_number: Option<String>,
    /// The bank's date of the payment order.
    #[serde(
        rename = "ДатаВходящегоДокумента",
        default,
        with = "onec_date",
        skip_serializing_if = "Option::is_none"
    )]
    pub incoming_date: Option<NaiveDateTime>,
    /// A comment.
    #[serde(rename = "Комментарий", default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    /// The breakdown by contract.
    #[serde(rename = "РасшифровкаПлатежа", default, skip_serializing_if = "Option::is_none")]
    pub breakdown: Option<Vec<PaymentRow>>,
    /// Every other attribute.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// The status fields every document has, for pulling statuses back.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct DocumentStatus {
    /// 1C's key.
    #[serde(rename = "Ref_Key")]
    pub ref_key: Guid,
    /// The number.
    #[serde(rename = "Number", default)]
    pub number: String,
    /// The date.
    #[serde(rename = "Date", default, with = "onec_date")]
    pub date: Option<NaiveDateTime>,
    /// Posted.
    #[serde(rename = "Posted", default)]
    pub posted: bool,
    /// Marked for deletion.
    #[serde(rename = "DeletionMark", default)]
    pub deletion_mark: bool,
    /// Whatever else was selected (a status attribute, a sum).
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counterparty_wire_shape() {
        let c = Counterparty::company("ООО \"Рога и копыта\"", "7707083893", Some("770701001"));
        let v = serde_json::to_value(&c).unwrap();
        assert_eq!(v["ИНН"], "7707083893");
        assert_eq!(v["ЮридическоеФизическоеЛицо"], "ЮридическоеЛицо");
        assert!(v.get("Ref_Key").is_none(), "unset fields are not sent");
        let back: Counterparty = serde_json::from_value(serde_json::json!({
            "Ref_Key": "1fa1a135-d89b-11e6-8343-40167e2531c3", "Description": "x",
            "DataVersion": "AAAAAQAAAAA=", "Predefined": false, "ИНН": "1"
        }))
        .unwrap();
        assert_eq!(back.extra["DataVersion"], "AAAAAQAAAAA=");
        assert!(back.ref_key.is_some());
    }

    #[test]
    fn documents_dates_and_line_numbers() {
        let d: SalesDocument = serde_json::from_value(serde_json::json!({
            "Number": "00-000001", "Date": "2024-03-01T10:00:00", "Posted": true,
            "Товары": [{"LineNumber": "1", "Номенклатура_Key": "1fa1a135-d89b-11e6-8343-40167e2531c3",
                        "Количество": 2, "Цена": 10.5, "Сумма": 21}],
            "Услуги": [{"LineNumber": 1, "Номенклатура_Key": "00000000-0000-0000-0000-000000000000", "Сумма": 0.1}]
        }))
        .unwrap();
        assert_eq!(d.posted, Some(true));
        assert_eq!(d.rows_total(), Decimal::parse("21.1").ok());
        let v = serde_json::to_value(&d).unwrap();
        assert!(v.get("Posted").is_none(), "Posted is never written");
        assert_eq!(v["Date"], "2024-03-01T10:00:00");
        assert_eq!(v["Товары"][0]["LineNumber"], "1");
        let empty: BankPayment =
            serde_json::from_value(serde_json::json!({"ДатаВходящегоДокумента": "0001-01-01T00:00:00"})).unwrap();
        assert_eq!(empty.incoming_date, None);
        assert!(serde_json::from_value::<SalesDocument>(serde_json::json!({"Date": "yesterday"})).is_err());
    }

    #[test]
    fn row_amounts() {
        let r = DocumentRow::new(
            Guid::NIL,
            Decimal::parse("3").unwrap(),
            Decimal::parse("33.333").unwrap(),
        );
        assert_eq!(r.amount, Decimal::parse("100").ok());
    }
}
