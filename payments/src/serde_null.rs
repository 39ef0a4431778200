//! `null` read as the type's default, for answer fields a provider documents as a value but may send
//! as `null` (Stripe's `metadata` on a Refund or a Checkout Session is `Metadata | null` in its API
//! reference). Without it, one `null` makes the whole answer undecodable — after the provider acted.

use serde::{Deserialize, Deserializer};

pub(crate) fn deserialize<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}
