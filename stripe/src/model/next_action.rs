//! A PaymentIntent's `next_action`: what the customer must do before the payment can go on.
//!
//! On the wire it is `{"type": "<kind>", "<kind>": {…details…}}` (Stripe API reference, The
//! PaymentIntent object, `next_action`). [`NextAction`] keeps the kind typed and the details as Stripe
//! sent them, so a kind added after this crate was written still decodes and nothing is lost; the
//! accessors read what a host acts on: the 3-D Secure redirect, and for every kind that has one the page
//! to send the customer to.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

wire_enum! {
    /// Which action the customer must take (the `type` of `next_action`; the list in Stripe's API
    /// reference, The PaymentIntent object).
    NextActionKind {
        /// Send the customer to `redirect_to_url.url` (3-D Secure, redirect-based methods).
        RedirectToUrl = "redirect_to_url",
        /// Stripe.js or a mobile SDK handles it (3-D Secure 2 in the browser, with the client secret);
        /// the details are opaque by Stripe's design.
        UseStripeSdk = "use_stripe_sdk",
        /// Alipay: redirect, or the native app.
        AlipayHandleRedirect = "alipay_handle_redirect",
        /// BLIK: the customer approves in their banking app.
        BlikAuthorize = "blik_authorize",
        /// Boleto: show the voucher.
        BoletoDisplayDetails = "boleto_display_details",
        /// Card in India: the customer is notified before the charge.
        CardAwaitNotification = "card_await_notification",
        /// Cash App Pay: redirect or QR code.
        CashappHandleRedirectOrDisplayQrCode = "cashapp_handle_redirect_or_display_qr_code",
        /// Bank transfer: show the instructions.
        DisplayBankTransferInstructions = "display_bank_transfer_instructions",
        /// Klarna: show the QR code.
        KlarnaDisplayQrCode = "klarna_display_qr_code",
        /// Konbini: show the payment codes.
        KonbiniDisplayDetails = "konbini_display_details",
        /// Multibanco: show the reference.
        MultibancoDisplayDetails = "multibanco_display_details",
        /// OXXO: show the voucher.
        OxxoDisplayDetails = "oxxo_display_details",
        /// PayNow: show the QR code.
        PaynowDisplayQrCode = "paynow_display_qr_code",
        /// Pix: show the QR code.
        PixDisplayQrCode = "pix_display_qr_code",
        /// PromptPay: show the QR code.
        PromptpayDisplayQrCode = "promptpay_display_qr_code",
        /// Swish: redirect or QR code.
        SwishHandleRedirectOrDisplayQrCode = "swish_handle_redirect_or_display_qr_code",
        /// UPI: redirect or QR code.
        UpiHandleRedirectOrDisplayQrCode = "upi_handle_redirect_or_display_qr_code",
        /// US bank account: verify with microdeposits.
        VerifyWithMicrodeposits = "verify_with_microdeposits",
        /// WeChat Pay: show the QR code.
        WechatPayDisplayQrCode = "wechat_pay_display_qr_code",
        /// WeChat Pay: open the Android app.
        WechatPayRedirectToAndroidApp = "wechat_pay_redirect_to_android_app",
        /// WeChat Pay: open the iOS app.
        WechatPayRedirectToIosApp = "wechat_pay_redirect_to_ios_app",
    }
}

impl NextActionKind {
    /// The field of the details that holds the page (or app link) to send the customer to, for the
    /// kinds that have one.
    fn customer_url_field(&self) -> Option<&'static str> {
        use NextActionKind as K;
        Some(match self {
            K::RedirectToUrl | K::AlipayHandleRedirect => "url",
            K::BoletoDisplayDetails
            | K::KonbiniDisplayDetails
            | K::MultibancoDisplayDetails
            | K::OxxoDisplayDetails => "hosted_voucher_url",
            K::CashappHandleRedirectOrDisplayQrCode
            | K::SwishHandleRedirectOrDisplayQrCode
            | K::UpiHandleRedirectOrDisplayQrCode
            | K::DisplayBankTransferInstructions
            | K::PaynowDisplayQrCode
            | K::PixDisplayQrCode
            | K::PromptpayDisplayQrCode
            | K::WechatPayDisplayQrCode => "hosted_instructions_url",
            K::VerifyWithMicrodeposits => "hosted_verification_url",
            K::WechatPayRedirectToIosApp => "native_url",
            _ => return None,
        })
    }
}

/// The 3-D Secure (or redirect-based method) step: send the customer to `url`; they come back to
/// `return_url`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct RedirectToUrl {
    /// Where the customer authenticates.
    #[serde(default)]
    pub url: Option<String>,
    /// Where they come back.
    #[serde(default)]
    pub return_url: Option<String>,
}

/// A PaymentIntent's `next_action`: `{"type": "<kind>", "<kind>": {…details…}}` on the wire, kept as
/// the typed kind and the details as Stripe sent them, so a kind added after this crate was written
/// still decodes and nothing is lost.
#[derive(Clone, PartialEq)]
#[non_exhaustive]
pub struct NextAction {
    /// Which action.
    pub kind: NextActionKind,
    /// The object under the key named by the kind, as Stripe sent it (`Null` when absent).
    pub details: Value,
    /// Any other field of `next_action`, kept.
    pub extra: Map<String, Value>,
}

impl NextAction {
    /// The 3-D Secure redirect, when that is the action.
    pub fn redirect_to_url(&self) -> Option<RedirectToUrl> {
        match self.kind {
            NextActionKind::RedirectToUrl => serde_json::from_value(self.details.clone()).ok(),
            _ => None,
        }
    }

    /// The page (or app link) to send the customer to, for every kind that has one: the 3-D Secure or
    /// redirect URL, a voucher's or QR code's hosted page, bank transfer instructions, microdeposit
    /// verification. `None` for kinds handled in the browser by Stripe.js (`use_stripe_sdk`) or with
    /// nothing to show.
    pub fn customer_url(&self) -> Option<&str> {
        let field = self.kind.customer_url_field()?;
        self.details
            .get(field)
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
    }

    /// Until when the customer can act (Unix seconds), for the kinds that say (vouchers, QR codes).
    pub fn expires_at(&self) -> Option<i64> {
        self.details
            .get("expires_at")
            .or_else(|| self.details.get("expires_after"))
            .and_then(Value::as_i64)
    }
}

/// Debug shows the kind and the detail fields' names: bank transfer instructions carry account
/// numbers.
impl std::fmt::Debug for NextAction {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NextAction")
            .field("kind", &self.kind)
            .field(
                "details",
                &self.details.as_object().map(|o| o.keys().collect::<Vec<_>>()),
            )
            .finish_non_exhaustive()
    }
}

impl Serialize for NextAction {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = self.extra.clone();
        m.insert("type".into(), Value::String(self.kind.as_str().to_owned()));
        if !self.details.is_null() {
            m.insert(self.kind.as_str().to_owned(), self.details.clone());
        }
        m.serialize(s)
    }
}

impl<'de> Deserialize<'de> for NextAction {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let mut m = Map::<String, Value>::deserialize(d)?;
        let kind = match m.remove("type") {
            Some(Value::String(t)) => NextActionKind::from_word(&t),
            _ => return Err(serde::de::Error::missing_field("type")),
        };
        let details = m.remove(kind.as_str()).unwrap_or(Value::Null);
        Ok(NextAction {
            kind,
            details,
            extra: m,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn every_documented_kind_round_trips_and_unknown_kinds_are_kept() {
        let three_ds = json!({"type": "redirect_to_url",
            "redirect_to_url": {"url": "https://hooks.stripe.com/3d_secure/x", "return_url": "https://shop/r"}});
        let a: NextAction = serde_json::from_value(three_ds.clone()).unwrap();
        assert_eq!(a.kind, NextActionKind::RedirectToUrl);
        assert_eq!(a.customer_url(), Some("https://hooks.stripe.com/3d_secure/x"));
        assert_eq!(
            a.redirect_to_url().unwrap().return_url.as_deref(),
            Some("https://shop/r")
        );
        assert_eq!(serde_json::to_value(&a).unwrap(), three_ds);

        let sdk: NextAction = serde_json::from_value(
            json!({"type": "use_stripe_sdk", "use_stripe_sdk": {"type": "three_d_secure_redirect"}}),
        )
        .unwrap();
        assert_eq!(
            (sdk.kind.clone(), sdk.customer_url()),
            (NextActionKind::UseStripeSdk, None)
        );

        let voucher: NextAction = serde_json::from_value(json!({"type": "oxxo_display_details",
            "oxxo_display_details": {"expires_after": 1700000000, "hosted_voucher_url": "https://v", "number": "1"}}))
        .unwrap();
        assert_eq!(voucher.customer_url(), Some("https://v"));
        assert_eq!(voucher.expires_at(), Some(1_700_000_000));

        let new = json!({"type": "teleport_display_code", "teleport_display_code": {"code": 7}, "hint": true});
        let n: NextAction = serde_json::from_value(new.clone()).unwrap();
        assert_eq!(n.kind, NextActionKind::Other("teleport_display_code".into()));
        assert_eq!(n.details, json!({"code": 7}));
        assert_eq!(serde_json::to_value(&n).unwrap(), new, "nothing is lost");

        for word in [
            "alipay_handle_redirect",
            "blik_authorize",
            "boleto_display_details",
            "card_await_notification",
            "cashapp_handle_redirect_or_display_qr_code",
            "display_bank_transfer_instructions",
            "klarna_display_qr_code",
            "konbini_display_details",
            "multibanco_display_details",
            "paynow_display_qr_code",
            "pix_display_qr_code",
            "promptpay_display_qr_code",
            "swish_handle_redirect_or_display_qr_code",
            "upi_handle_redirect_or_display_qr_code",
            "verify_with_microdeposits",
            "wechat_pay_display_qr_code",
            "wechat_pay_redirect_to_android_app",
            "wechat_pay_redirect_to_ios_app",
        ] {
            let k = NextActionKind::from_word(word);
            assert!(!matches!(k, NextActionKind::Other(_)), "{word} is a documented kind");
            assert_eq!(k.as_str(), word);
        }
        assert!(serde_json::from_value::<NextAction>(json!({"redirect_to_url": {}})).is_err());
    }
}
