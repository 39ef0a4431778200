//! Addressing 1C objects: [`Kind`] + metadata name make an [`EntitySet`] (`Catalog_Контрагенты`);
//! an [`EntityKey`] picks one entity in it (`guid'…'`, or the fields of a register record).
//!
//! Names are written as 1C has them (Cyrillic as a rule) and percent-encoded only when a URL is built,
//! so `EntitySet::catalog("Контрагенты")` reaches the wire as `Catalog_%D0%9A%D0%BE…`.

use std::fmt;

use chrono::NaiveDateTime;
use switchboard_core::{Error, Result};

use crate::filter::{Literal, check_field};
use crate::guid::Guid;

/// The kinds of configuration objects the standard OData interface publishes, by their URL prefix.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Kind {
    /// `Catalog_` (Справочник): counterparties, items, contracts…
    Catalog,
    /// `Document_` (Документ): orders, invoices, payments…
    Document,
    /// `DocumentJournal_` (Журнал документов).
    DocumentJournal,
    /// `Constant_` (Константа).
    Constant,
    /// `ExchangePlan_` (План обмена).
    ExchangePlan,
    /// `ChartOfCharacteristicTypes_` (План видов характеристик).
    ChartOfCharacteristicTypes,
    /// `ChartOfAccounts_` (План счетов).
    ChartOfAccounts,
    /// `ChartOfCalculationTypes_` (План видов расчета).
    ChartOfCalculationTypes,
    /// `InformationRegister_` (Регистр сведений): prices, contact details…
    InformationRegister,
    /// `AccumulationRegister_` (Регистр накопления): stock, settlements…
    AccumulationRegister,
    /// `AccountingRegister_` (Регистр бухгалтерии).
    AccountingRegister,
    /// `CalculationRegister_` (Регистр расчета).
    CalculationRegister,
    /// `BusinessProcess_` (Бизнес-процесс).
    BusinessProcess,
    /// `Task_` (Задача).
    Task,
}

impl Kind {
    /// Every kind, longest prefix first (so `DocumentJournal_` is tried before `Document_`).
    pub const ALL: [Kind; 14] = [
        Kind::ChartOfCharacteristicTypes,
        Kind::ChartOfCalculationTypes,
        Kind::InformationRegister,
        Kind::AccumulationRegister,
        Kind::CalculationRegister,
        Kind::AccountingRegister,
        Kind::DocumentJournal,
        Kind::ChartOfAccounts,
        Kind::BusinessProcess,
        Kind::ExchangePlan,
        Kind::Document,
        Kind::Constant,
        Kind::Catalog,
        Kind::Task,
    ];

    /// The entity-set name prefix, without the `_`.
    pub fn prefix(self) -> &'static str {
        match self {
            Kind::Catalog => "Catalog",
            Kind::Document => "Document",
            Kind::DocumentJournal => "DocumentJournal",
            Kind::Constant => "Constant",
            Kind::ExchangePlan => "ExchangePlan",
            Kind::ChartOfCharacteristicTypes => "ChartOfCharacteristicTypes",
            Kind::ChartOfAccounts => "ChartOfAccounts",
            Kind::ChartOfCalculationTypes => "ChartOfCalculationTypes",
            Kind::InformationRegister => "InformationRegister",
            Kind::AccumulationRegister => "AccumulationRegister",
            Kind::AccountingRegister => "AccountingRegister",
            Kind::CalculationRegister => "CalculationRegister",
            Kind::BusinessProcess => "BusinessProcess",
            Kind::Task => "Task",
        }
    }

    /// Whether entities of this kind are reference objects with a `Ref_Key` (registers and constants
    /// are not).
    pub fn has_ref_key(self) -> bool {
        matches!(
            self,
            Kind::Catalog
                | Kind::Document
                | Kind::ExchangePlan
                | Kind::ChartOfCharacteristicTypes
                | Kind::ChartOfAccounts
                | Kind::ChartOfCalculationTypes
                | Kind::BusinessProcess
                | Kind::Task
        )
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.prefix())
    }
}

/// One entity set of the standard OData interface: a [`Kind`] and a metadata name.
///
/// A tabular section is addressed as its own set (`Document_ЗаказКлиента_Товары`, made with
/// [`EntitySet::tabular_section`]); 1C reads rows from it but refuses to create rows there (error 13):
/// rows travel inside their document.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct EntitySet {
    kind: Kind,
    name: String,
}

impl EntitySet {
    /// The set `<Kind>_<name>`, `name` as in the configuration (`"Контрагенты"`).
    pub fn new(kind: Kind, name: impl Into<String>) -> EntitySet {
        EntitySet {
            kind,
            name: name.into(),
        }
    }

    /// `Catalog_<name>`.
    pub fn catalog(name: impl Into<String>) -> EntitySet {
        Self::new(Kind::Catalog, name)
    }

    /// `Document_<name>`.
    pub fn document(name: impl Into<String>) -> EntitySet {
        Self::new(Kind::Document, name)
    }

    /// `InformationRegister_<name>`.
    pub fn information_register(name: impl Into<String>) -> EntitySet {
        Self::new(Kind::InformationRegister, name)
    }

    /// `AccumulationRegister_<name>`.
    pub fn accumulation_register(name: impl Into<String>) -> EntitySet {
        Self::new(Kind::AccumulationRegister, name)
    }

    /// Reads a full set name such as `Catalog_Контрагенты`.
    pub fn parse(full: &str) -> Result<EntitySet> {
        for kind in Kind::ALL {
            if let Some(name) = full.strip_prefix(kind.prefix()).and_then(|r| r.strip_prefix('_')) {
                let set = EntitySet::new(kind, name);
                set.validate()?;
                return Ok(set);
            }
        }
        Err(Error::invalid_input(format!(
            "'{}' is not an entity set name such as Catalog_Контрагенты",
            full.escape_debug()
        )))
    }

    /// The set of one tabular section of this object (`Document_ЗаказКлиента_Товары`).
    pub fn tabular_section(&self, section: &str) -> EntitySet {
        EntitySet::new(self.kind, format!("{}_{section}", self.name))
    }

    /// The kind.
    pub fn kind(&self) -> Kind {
        self.kind
    }

    /// The metadata name (`Контрагенты`).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The full set name as it appears in URLs before encoding (`Catalog_Контрагенты`).
    pub fn full_name(&self) -> String {
        format!("{}_{}", self.kind.prefix(), self.name)
    }

    /// Checks that the name is a 1C identifier (letters, digits, `_`; not starting with a digit).
    pub fn validate(&self) -> Result<()> {
        let mut chars = self.name.chars();
        let ok = match chars.next() {
            Some(c) => (c.is_alphabetic() || c == '_') && chars.all(|c| c.is_alphanumeric() || c == '_'),
            None => false,
        };
        if ok {
            Ok(())
        } else {
            Err(Error::invalid_input(format!(
                "'{}' is not a 1C metadata name (letters, digits and '_' only)",
                self.name.escape_debug()
            )))
        }
    }
}

impl fmt::Display for EntitySet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}_{}", self.kind.prefix(), self.name)
    }
}

impl fmt::Debug for EntitySet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "EntitySet({self})")
    }
}

/// Which entity of a set: a reference object's `Ref_Key`, or the key fields of a register record
/// (`Period=datetime'…',Номенклатура_Key=guid'…'`).
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum EntityKey {
    /// `(guid'…')`.
    Guid(Guid),
    /// `(Field=literal,…)`, in the order given.
    Fields(Vec<(String, Literal)>),
}

impl EntityKey {
    /// A register record key; add fields with [`EntityKey::and`].
    pub fn field(name: impl Into<String>, value: impl Into<Literal>) -> EntityKey {
        EntityKey::Fields(vec![(name.into(), value.into())])
    }

    /// Adds one more key field (a `Guid` key becomes `Ref_Key=guid'…'` plus this field).
    pub fn and(self, name: impl Into<String>, value: impl Into<Literal>) -> EntityKey {
        let mut fields = match self {
            EntityKey::Guid(g) => vec![("Ref_Key".to_owned(), Literal::Guid(g))],
            EntityKey::Fields(f) => f,
        };
        fields.push((name.into(), value.into()));
        EntityKey::Fields(fields)
    }

    /// The key as written between the parentheses, before URL encoding.
    pub fn to_odata(&self) -> Result<String> {
        match self {
            EntityKey::Guid(g) => Ok(format!("guid'{g}'")),
            EntityKey::Fields(fields) if fields.is_empty() => {
                Err(Error::invalid_input("a register record key needs at least one field"))
            }
            EntityKey::Fields(fields) => {
                let mut out = String::new();
                for (i, (name, value)) in fields.iter().enumerate() {
                    check_field(name)?;
                    if i > 0 {
                        out.push(',');
                    }
                    out.push_str(name);
                    out.push('=');
                    out.push_str(&value.to_odata());
                }
                Ok(out)
            }
        }
    }
}

impl From<Guid> for EntityKey {
    fn from(g: Guid) -> EntityKey {
        EntityKey::Guid(g)
    }
}

impl From<&Guid> for EntityKey {
    fn from(g: &Guid) -> EntityKey {
        EntityKey::Guid(*g)
    }
}

/// A periodic register record key starting with `Period`.
impl From<NaiveDateTime> for EntityKey {
    fn from(period: NaiveDateTime) -> EntityKey {
        EntityKey::field("Period", period)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        let s = EntitySet::catalog("Контрагенты");
        assert_eq!(s.full_name(), "Catalog_Контрагенты");
        assert_eq!(
            EntitySet::parse("DocumentJournal_Взаимодействия").unwrap().kind(),
            Kind::DocumentJournal
        );
        assert_eq!(
            EntitySet::parse("Document_ЗаказКлиента").unwrap(),
            EntitySet::document("ЗаказКлиента")
        );
        assert_eq!(
            EntitySet::document("ЗаказКлиента")
                .tabular_section("Товары")
                .to_string(),
            "Document_ЗаказКлиента_Товары"
        );
        assert!(EntitySet::parse("Справочник_Контрагенты").is_err());
        assert!(EntitySet::parse("Catalog_").is_err());
        assert!(EntitySet::catalog("Контр агенты").validate().is_err());
        assert!(EntitySet::catalog("X')/Post").validate().is_err());
        assert!(EntitySet::catalog("1X").validate().is_err());
    }

    #[test]
    fn keys() {
        let g = Guid::parse("1fa1a135-d89b-11e6-8343-40167e2531c3").unwrap();
        assert_eq!(
            EntityKey::from(g).to_odata().unwrap(),
            "guid'1fa1a135-d89b-11e6-8343-40167e2531c3'"
        );
        let period = chrono::NaiveDate::from_ymd_opt(2024, 1, 1)
            .unwrap()
            .and_hms_opt(0, 0, 0)
            .unwrap();
        let k = EntityKey::from(period).and("Номенклатура_Key", g);
        assert_eq!(
            k.to_odata().unwrap(),
            "Period=datetime'2024-01-01T00:00:00',Номенклатура_Key=guid'1fa1a135-d89b-11e6-8343-40167e2531c3'"
        );
        assert!(EntityKey::field("a b", 1).to_odata().is_err());
        assert!(EntityKey::Fields(vec![]).to_odata().is_err());
    }
}
