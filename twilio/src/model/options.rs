//! The enumerated options of a message create, typed, with Twilio's words on the wire.
//!
//! The values are those of Twilio's Messages API reference
//! (<https://www.twilio.com/docs/messaging/api/message-resource>) and its OpenAPI description
//! (`message_enum_content_retention`, `message_enum_address_retention`, `message_enum_traffic_type`,
//! `message_enum_risk_check` in `twilio_api_v2010.json`, github.com/twilio/twilio-oai). Twilio refuses
//! any other value, so no other value can be built here.

use std::fmt;

/// `ContentRetention`: whether Twilio may store the message body or must discard it, under the
/// account's privacy settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ContentRetention {
    /// `retain`: the body may be stored.
    Retain,
    /// `discard`: the body is not kept.
    Discard,
}

/// `AddressRetention`: whether Twilio may store the phone numbers or must obfuscate them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum AddressRetention {
    /// `retain`: the addresses may be stored.
    Retain,
    /// `obfuscate`: the addresses are obfuscated.
    Obfuscate,
}

/// `TrafficType`: the traffic class of the message. Twilio defines one value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TrafficType {
    /// `free`.
    Free,
}

/// `RiskCheck`: whether Twilio runs its risk checks on this message (`disable` skips them).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum RiskCheck {
    /// `enable` (Twilio's default).
    Enable,
    /// `disable`: skip every risk check for this request.
    Disable,
}

macro_rules! words {
    ($t:ident { $($v:ident => $w:literal),+ $(,)? }) => {
        impl $t {
            /// Every value, in Twilio's order.
            pub const ALL: &'static [$t] = &[$($t::$v),+];

            /// Twilio's word.
            pub fn as_str(self) -> &'static str {
                match self {
                    $($t::$v => $w),+
                }
            }

            /// The value for Twilio's word, `None` for any other text.
            pub fn parse(word: &str) -> Option<$t> {
                match word {
                    $($w => Some($t::$v),)+
                    _ => None,
                }
            }
        }

        impl fmt::Display for $t {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

words!(ContentRetention { Retain => "retain", Discard => "discard" });
words!(AddressRetention { Retain => "retain", Obfuscate => "obfuscate" });
words!(TrafficType { Free => "free" });
words!(RiskCheck { Enable => "enable", Disable => "disable" });

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_round_trip_and_nothing_else_parses() {
        for v in ContentRetention::ALL {
            assert_eq!(ContentRetention::parse(v.as_str()), Some(*v));
        }
        for v in AddressRetention::ALL {
            assert_eq!(AddressRetention::parse(&v.to_string()), Some(*v));
        }
        assert_eq!(TrafficType::parse("free"), Some(TrafficType::Free));
        assert_eq!(RiskCheck::parse("disable"), Some(RiskCheck::Disable));
        for bad in ["", "Retain", "keep", "paid", "off"] {
            assert!(
                ContentRetention::parse(bad).is_none() && TrafficType::parse(bad).is_none(),
                "{bad}"
            );
        }
    }
}
