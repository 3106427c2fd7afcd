//! Opaque global ids (`node(id:)`): base64url of `Type:number`. Clients must not build them.
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use crate::domain::Invalid;

/// Object types that have global ids.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Court,
    Agency,
    Person,
    Order,
    /// An image of an order (read through `Order.images`, not `node`).
    Image,
    PersonLink,
    /// A message owed to CARPOS (`Order.transmissions`, `retryTransmission`).
    Transmission,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::Court => "Court",
            Kind::Agency => "Agency",
            Kind::Person => "Person",
            Kind::Order => "Order",
            Kind::Image => "OrderImage",
            Kind::PersonLink => "PersonLink",
            Kind::Transmission => "CarposTransmission",
        }
    }

    fn from_name(s: &str) -> Option<Self> {
        [
            Kind::Court,
            Kind::Agency,
            Kind::Person,
            Kind::Order,
            Kind::Image,
            Kind::PersonLink,
            Kind::Transmission,
        ]
        .into_iter()
        .find(|k| k.name() == s)
    }
}

pub fn encode(kind: Kind, id: i32) -> String {
    URL_SAFE_NO_PAD.encode(format!("{}:{id}", kind.name()))
}

/// Decodes any global id.
pub fn decode_any(field: &str, gid: &str) -> Result<(Kind, i32), Invalid> {
    let bad = || Invalid::new(field, format!("'{gid}' is not a valid id"));
    let bytes = URL_SAFE_NO_PAD.decode(gid.trim()).map_err(|_| bad())?;
    let text = String::from_utf8(bytes).map_err(|_| bad())?;
    let (name, num) = text.split_once(':').ok_or_else(bad)?;
    let kind = Kind::from_name(name).ok_or_else(bad)?;
    let id = num.parse::<i32>().map_err(|_| bad())?;
    Ok((kind, id))
}

/// Decodes a global id that must be of `kind`.
pub fn decode(field: &str, kind: Kind, gid: &str) -> Result<i32, Invalid> {
    match decode_any(field, gid)? {
        (k, id) if k == kind => Ok(id),
        _ => Err(Invalid::new(
            field,
            format!("'{gid}' is not the id of a {}", kind.name()),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_type_check() {
        let g = encode(Kind::Order, 42);
        assert_eq!(decode("id", Kind::Order, &g).unwrap(), 42);
        assert!(decode("id", Kind::Person, &g).is_err());
        assert!(decode_any("id", "not-base64!").is_err());
        assert!(decode_any("id", &URL_SAFE_NO_PAD.encode("Order:x")).is_err());
    }
}
