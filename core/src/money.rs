//! Money: an exact decimal amount with an ISO 4217 currency. Never a float.

use std::fmt;
use std::str::FromStr;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::error::Error;

/// An ISO 4217 currency code: exactly three ASCII upper-case letters.
///
/// ```
/// use backorder_core::Currency;
/// let usd: Currency = "usd".parse().unwrap();
/// assert_eq!(usd.as_str(), "USD");
/// assert!("US".parse::<Currency>().is_err());
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Currency([u8; 3]);

impl Currency {
    /// US dollar, the currency of the shipped default price list.
    pub const USD: Currency = Currency(*b"USD");
    /// Euro.
    pub const EUR: Currency = Currency(*b"EUR");

    /// The three-letter code.
    pub fn as_str(&self) -> &str {
        // Constructed only from ASCII letters, so this never fails.
        std::str::from_utf8(&self.0).unwrap_or("???")
    }
}

impl FromStr for Currency {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self, Error> {
        let b = s.as_bytes();
        if b.len() != 3 || !b.iter().all(u8::is_ascii_alphabetic) {
            return Err(Error::InvalidCurrency(s.chars().take(16).collect()));
        }
        Ok(Currency([
            b[0].to_ascii_uppercase(),
            b[1].to_ascii_uppercase(),
            b[2].to_ascii_uppercase(),
        ]))
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for Currency {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Currency {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// An amount of money in one currency.
///
/// Arithmetic between different currencies is an error, never a silent conversion.
///
/// ```
/// use backorder_core::{Currency, Money};
/// use rust_decimal::Decimal;
/// let fee = Money::new(Decimal::new(4900, 2), Currency::USD);
/// let twice = fee.checked_add(&fee).unwrap();
/// assert_eq!(twice.to_string(), "98.00 USD");
/// let eur = Money::new(Decimal::ONE, Currency::EUR);
/// assert!(fee.checked_add(&eur).is_err());
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Money {
    /// The exact amount.
    pub amount: Decimal,
    /// Its currency.
    pub currency: Currency,
}

impl Money {
    /// An amount in a currency.
    pub fn new(amount: Decimal, currency: Currency) -> Money {
        Money { amount, currency }
    }

    /// Zero in a currency.
    pub fn zero(currency: Currency) -> Money {
        Money::new(Decimal::ZERO, currency)
    }

    /// Parses a decimal string such as `"49.00"` in the given currency (see [`parse_amount`]).
    pub fn parse(amount: &str, currency: Currency) -> Result<Money, Error> {
        Ok(Money::new(parse_amount(amount, "amount")?, currency))
    }

    /// Fails with [`Error::CurrencyMismatch`] unless both are in the same currency.
    pub fn same_currency(&self, other: &Money) -> Result<(), Error> {
        if self.currency == other.currency {
            Ok(())
        } else {
            Err(Error::CurrencyMismatch {
                expected: self.currency.to_string(),
                found: other.currency.to_string(),
            })
        }
    }

    /// The sum, or an error on mixed currencies or overflow.
    pub fn checked_add(&self, other: &Money) -> Result<Money, Error> {
        self.same_currency(other)?;
        let amount = self
            .amount
            .checked_add(other.amount)
            .ok_or_else(|| Error::InvalidAmount("overflow".into()))?;
        Ok(Money::new(amount, self.currency))
    }

    /// The difference, or an error on mixed currencies or overflow.
    pub fn checked_sub(&self, other: &Money) -> Result<Money, Error> {
        self.same_currency(other)?;
        let amount = self
            .amount
            .checked_sub(other.amount)
            .ok_or_else(|| Error::InvalidAmount("overflow".into()))?;
        Ok(Money::new(amount, self.currency))
    }

    /// True when the amount is strictly above zero.
    pub fn is_positive(&self) -> bool {
        self.amount > Decimal::ZERO
    }
}

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.amount, self.currency)
    }
}

impl fmt::Debug for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.amount, self.currency)
    }
}

/// Largest number of decimal places an amount may carry (ISO 4217 minor units never exceed 4).
pub const MAX_SCALE: u32 = 4;

/// Largest single amount accepted from outside (10^15): far beyond any registrar's payment, and
/// small enough that no sum of them leaves `Decimal`'s range in a bid or a journal total.
pub const MAX_AMOUNT: Decimal = Decimal::from_parts(2_764_472_320, 232_830, 0, false, 0);

/// A decimal amount given as text (`"49.00"`, surrounding spaces ignored), or
/// [`Error::InvalidAmount`] naming the argument when the text is not one. Every entry point that
/// takes an amount as text reads it with this (the JSON calls of the bindings and the C ABI), so
/// `"ten"` is refused alike everywhere.
///
/// ```
/// use backorder_core::money::parse_amount;
/// assert_eq!(parse_amount(" 49.00", "amount").unwrap().to_string(), "49.00");
/// assert_eq!(parse_amount("ten", "max").unwrap_err().code().as_str(), "INVALID_AMOUNT");
/// ```
pub fn parse_amount(text: &str, name: &str) -> Result<Decimal, Error> {
    Decimal::from_str_exact(text.trim()).map_err(|e| {
        let shown: String = text.chars().take(80).collect();
        Error::InvalidAmount(format!("{name} '{shown}': {e}"))
    })
}

/// Checks an amount supplied from outside: strictly positive, at most [`MAX_AMOUNT`] and at most
/// [`MAX_SCALE`] decimals.
pub fn require_positive(m: &Money) -> Result<(), Error> {
    if m.amount > MAX_AMOUNT {
        return Err(Error::InvalidAmount(format!(
            "{} is larger than {MAX_AMOUNT}",
            m.amount
        )));
    }
    if m.amount <= Decimal::ZERO {
        return Err(Error::InvalidAmount(format!(
            "{} must be greater than zero",
            m.amount
        )));
    }
    if m.amount.normalize().scale() > MAX_SCALE {
        return Err(Error::InvalidAmount(format!(
            "{} has more than {MAX_SCALE} decimal places",
            m.amount
        )));
    }
    Ok(())
}
