//! What an EPP client sends: `<hello>` and the commands a drop-catcher needs. [`ClientFrame::to_xml`]
//! writes one (the catcher), [`ClientFrame::from_xml`] reads one (the registry simulator).

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::xml::{Node, Ns, Tree, Writer};
use super::{unexpected, EppError, CONTACT_NS, DOMAIN_NS, FEE_NS, HOST_NS, RGP_NS};
use crate::secret::Secret;

/// A client's frame.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ClientFrame {
    /// `<hello/>`: asks for a greeting (the catcher's keep-alive).
    Hello,
    /// A command and its client transaction id.
    Command {
        /// The command.
        command: Command,
        /// `<clTRID>` (3 to 64 characters), echoed in the response.
        transaction: Option<String>,
    },
}

/// A command.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Command {
    /// `<login>`.
    Login(Login),
    /// `<logout/>`.
    Logout,
    /// `<poll op="req"/>`.
    PollRequest,
    /// `<poll op="ack" msgID="…"/>`.
    PollAck {
        /// The message to dequeue.
        message: String,
    },
    /// `<domain:check>`, with the fee extension's `<fee:check>` when `fee` is given.
    Check {
        /// The names (at least one).
        names: Vec<String>,
        /// Ask the create price (premium detection).
        fee: Option<FeeQuery>,
    },
    /// `<domain:create>`, with `<fee:create>` when a fee is given.
    Create(Create),
    /// `<domain:info>`.
    Info {
        /// The name.
        name: String,
        /// The auth code, to see a name held by another registrar in full.
        auth_code: Option<Secret>,
    },
    /// `<transfer op="query"><domain:transfer>`: the transfer state, and with it the auth code
    /// check.
    TransferQuery {
        /// The name.
        name: String,
        /// The auth code.
        auth_code: Option<Secret>,
    },
}

/// `<login>`'s content.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Login {
    /// `<clID>`: the registrar's id at the registry (3 to 16 characters).
    pub client_id: String,
    /// `<pw>` (8 to 64 characters).
    pub password: Secret,
    /// `<newPW>`, to change the password.
    pub new_password: Option<Secret>,
    /// Object URIs to use (the domain mapping, and contact and host as the registry asks).
    pub objects: Vec<String>,
    /// Extension URIs to use (fee, RGP).
    pub extensions: Vec<String>,
}

impl Login {
    /// A login for the domain, contact and host mappings with the RGP and fee extensions.
    pub fn new(client_id: &str, password: &str) -> Login {
        Login {
            client_id: client_id.into(),
            password: Secret::new(password.into()),
            new_password: None,
            objects: vec![DOMAIN_NS.into(), CONTACT_NS.into(), HOST_NS.into()],
            extensions: vec![RGP_NS.into(), FEE_NS.into()],
        }
    }
}

/// The fee extension's check: the price of a create.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FeeQuery {
    /// The currency to answer in (the registry's own when absent).
    pub currency: Option<String>,
    /// The registration period asked about, in years.
    pub period_years: u8,
}

/// `<domain:create>`'s content.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Create {
    /// The name.
    pub name: String,
    /// Registration period in years (1 to 99).
    pub period_years: u8,
    /// Registrant contact handle.
    pub registrant: Option<String>,
    /// Other contacts: (role, handle), role `admin`, `tech` or `billing`.
    pub contacts: Vec<(String, String)>,
    /// The auth code to set.
    pub auth_code: Secret,
    /// The fee the client agrees to pay (RFC 8748; required for premium names).
    pub fee: Option<Fee>,
}

impl Create {
    /// A one-year create with no contacts and no fee.
    pub fn new(name: &str, auth_code: &str) -> Create {
        Create {
            name: name.into(),
            period_years: 1,
            registrant: None,
            contacts: Vec::new(),
            auth_code: Secret::new(auth_code.into()),
            fee: None,
        }
    }
}

/// An amount with its currency, as the fee extension writes it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Fee {
    /// Three-letter code.
    pub currency: String,
    /// The amount.
    pub amount: Decimal,
}

impl ClientFrame {
    /// A command frame.
    pub fn command(command: Command, transaction: &str) -> ClientFrame {
        ClientFrame::Command {
            command,
            transaction: Some(transaction.into()),
        }
    }

    /// The frame as an EPP document.
    pub fn to_xml(&self) -> String {
        let mut w = Writer::new();
        match self {
            ClientFrame::Hello => {
                w.raw("<hello/>");
            }
            ClientFrame::Command {
                command,
                transaction,
            } => {
                w.raw("<command>");
                write_command(&mut w, command);
                if let Some(t) = transaction {
                    w.element("clTRID", t);
                }
                w.raw("</command>");
            }
        }
        w.finish()
    }

    /// Reads a client's EPP document.
    pub fn from_xml(xml: &[u8]) -> Result<ClientFrame, EppError> {
        let tree = Tree::parse(xml)?;
        let epp = tree.root();
        if !epp.is(Ns::Epp, "epp") {
            return Err(unexpected("the root is not <epp> in the EPP namespace"));
        }
        let body = epp.only_child()?;
        if body.is(Ns::Epp, "hello") {
            return Ok(ClientFrame::Hello);
        }
        if !body.is(Ns::Epp, "command") {
            return Err(unexpected(format!(
                "<{}> is not a client's frame",
                body.name()
            )));
        }
        let transaction = body.child(Ns::Epp, "clTRID").map(|t| t.text().to_owned());
        let extension = body.child(Ns::Epp, "extension");
        let verb = body
            .children()
            .find(|c| c.ns() == Ns::Epp && c.name() != "extension" && c.name() != "clTRID")
            .ok_or_else(|| unexpected("<command> has no command"))?;
        let command = read_command(verb, extension)?;
        Ok(ClientFrame::Command {
            command,
            transaction,
        })
    }
}

const DOMAIN_OPEN: &str = " xmlns:domain=\"urn:ietf:params:xml:ns:domain-1.0\">";
const FEE_OPEN: &str = " xmlns:fee=\"urn:ietf:params:xml:ns:epp:fee-1.0\">";

fn write_auth(w: &mut Writer, auth_code: &Secret) {
    w.raw("<domain:authInfo>")
        .element("domain:pw", auth_code.expose())
        .raw("</domain:authInfo>");
}

fn write_command(w: &mut Writer, command: &Command) {
    match command {
        Command::Login(login) => {
            w.raw("<login>")
                .element("clID", &login.client_id)
                .element("pw", login.password.expose());
            if let Some(new) = &login.new_password {
                w.element("newPW", new.expose());
            }
            w.raw("<options><version>1.0</version><lang>en</lang></options><svcs>");
            for uri in &login.objects {
                w.element("objURI", uri);
            }
            if !login.extensions.is_empty() {
                w.raw("<svcExtension>");
                for uri in &login.extensions {
                    w.element("extURI", uri);
                }
                w.raw("</svcExtension>");
            }
            w.raw("</svcs></login>");
        }
        Command::Logout => {
            w.raw("<logout/>");
        }
        Command::PollRequest => {
            w.raw("<poll op=\"req\"/>");
        }
        Command::PollAck { message } => {
            w.raw("<poll op=\"ack\" msgID=\"").text(message).raw("\"/>");
        }
        Command::Check { names, fee } => {
            w.raw("<check><domain:check").raw(DOMAIN_OPEN);
            for name in names {
                w.element("domain:name", name);
            }
            w.raw("</domain:check></check>");
            if let Some(fee) = fee {
                w.raw("<extension><fee:check").raw(FEE_OPEN);
                if let Some(c) = &fee.currency {
                    w.element("fee:currency", c);
                }
                w.raw("<fee:command name=\"create\">")
                    .element("fee:period unit=\"y\"", &fee.period_years.to_string())
                    .raw("</fee:command></fee:check></extension>");
            }
        }
        Command::Create(c) => {
            w.raw("<create><domain:create")
                .raw(DOMAIN_OPEN)
                .element("domain:name", &c.name)
                .element("domain:period unit=\"y\"", &c.period_years.to_string());
            if let Some(r) = &c.registrant {
                w.element("domain:registrant", r);
            }
            for (role, handle) in &c.contacts {
                w.raw("<domain:contact type=\"")
                    .text(role)
                    .raw("\">")
                    .text(handle)
                    .raw("</domain:contact>");
            }
            write_auth(w, &c.auth_code);
            w.raw("</domain:create></create>");
            if let Some(fee) = &c.fee {
                w.raw("<extension><fee:create")
                    .raw(FEE_OPEN)
                    .element("fee:currency", &fee.currency)
                    .element("fee:fee", &fee.amount.to_string())
                    .raw("</fee:create></extension>");
            }
        }
        Command::Info { name, auth_code } => {
            w.raw("<info><domain:info")
                .raw(DOMAIN_OPEN)
                .element("domain:name hosts=\"all\"", name);
            if let Some(a) = auth_code {
                write_auth(w, a);
            }
            w.raw("</domain:info></info>");
        }
        Command::TransferQuery { name, auth_code } => {
            w.raw("<transfer op=\"query\"><domain:transfer")
                .raw(DOMAIN_OPEN)
                .element("domain:name", name);
            if let Some(a) = auth_code {
                write_auth(w, a);
            }
            w.raw("</domain:transfer></transfer>");
        }
    }
}

fn text_of(node: Node<'_, '_>, ns: Ns, name: &str) -> Result<String, EppError> {
    Ok(node.required(ns, name)?.text().to_owned())
}

fn auth_of(node: Node<'_, '_>) -> Option<Secret> {
    node.child(Ns::Domain, "authInfo")
        .and_then(|a| a.child(Ns::Domain, "pw"))
        .map(|pw| Secret::new(pw.text().to_owned()))
}

fn years(node: Option<Node<'_, '_>>) -> Result<u8, EppError> {
    let Some(period) = node else {
        return Ok(1);
    };
    let n: u8 = period
        .text()
        .parse()
        .map_err(|_| unexpected(format!("period '{}' is not a number", period.text())))?;
    let unit = period.attribute("unit");
    match unit.as_deref() {
        Some("y") if (1..=99).contains(&n) => Ok(n),
        Some("m") if (12..=99).contains(&n) && n % 12 == 0 => Ok(n / 12),
        _ => Err(unexpected(format!(
            "period {n} {} is not a whole number of years from 1 to 99",
            unit.as_deref().unwrap_or("?")
        ))),
    }
}

/// The domain element inside `<check>`, `<create>`, … (exactly one, in the domain namespace).
fn domain_element<'t, 'a>(verb: Node<'t, 'a>, name: &str) -> Result<Node<'t, 'a>, EppError> {
    let object = verb.only_child()?;
    if !object.is(Ns::Domain, name) {
        return Err(unexpected(format!(
            "<{}> holds <{}>, not <domain:{name}>",
            verb.name(),
            object.name()
        )));
    }
    Ok(object)
}

fn extension_element<'t, 'a>(
    extension: Option<Node<'t, 'a>>,
    ns: Ns,
    name: &str,
) -> Option<Node<'t, 'a>> {
    extension.and_then(|e| e.child(ns, name))
}

fn read_command(verb: Node<'_, '_>, extension: Option<Node<'_, '_>>) -> Result<Command, EppError> {
    match verb.name() {
        "login" => Ok(Command::Login(Login {
            client_id: text_of(verb, Ns::Epp, "clID")?,
            password: Secret::new(text_of(verb, Ns::Epp, "pw")?),
            new_password: verb
                .child(Ns::Epp, "newPW")
                .map(|p| Secret::new(p.text().to_owned())),
            objects: verb
                .required(Ns::Epp, "svcs")?
                .all(Ns::Epp, "objURI")
                .map(|u| u.text().to_owned())
                .collect(),
            extensions: verb
                .required(Ns::Epp, "svcs")?
                .child(Ns::Epp, "svcExtension")
                .map(|s| {
                    s.all(Ns::Epp, "extURI")
                        .map(|u| u.text().to_owned())
                        .collect()
                })
                .unwrap_or_default(),
        })),
        "logout" => Ok(Command::Logout),
        "poll" => match verb.attribute("op").as_deref() {
            Some("req") => Ok(Command::PollRequest),
            Some("ack") => Ok(Command::PollAck {
                message: verb
                    .attribute("msgID")
                    .ok_or_else(|| unexpected("<poll op=\"ack\"> has no msgID"))?
                    .into_owned(),
            }),
            other => Err(unexpected(format!("poll op {other:?}"))),
        },
        "check" => {
            let check = domain_element(verb, "check")?;
            let names: Vec<String> = check
                .all(Ns::Domain, "name")
                .map(|n| n.text().to_owned())
                .collect();
            if names.is_empty() {
                return Err(unexpected("<domain:check> names no domain"));
            }
            let fee = match extension_element(extension, Ns::Fee, "check") {
                Some(f) => Some(FeeQuery {
                    currency: f.child(Ns::Fee, "currency").map(|c| c.text().to_owned()),
                    period_years: years(
                        f.child(Ns::Fee, "command")
                            .and_then(|c| c.child(Ns::Fee, "period")),
                    )?,
                }),
                None => None,
            };
            Ok(Command::Check { names, fee })
        }
        "create" => {
            let create = domain_element(verb, "create")?;
            let fee = match extension_element(extension, Ns::Fee, "create") {
                Some(f) => {
                    let amount = f.required(Ns::Fee, "fee")?.text();
                    Some(Fee {
                        currency: f
                            .child(Ns::Fee, "currency")
                            .map(|c| c.text().to_owned())
                            .unwrap_or_default(),
                        amount: amount
                            .parse()
                            .map_err(|_| unexpected(format!("fee '{amount}' is not an amount")))?,
                    })
                }
                None => None,
            };
            Ok(Command::Create(Create {
                name: text_of(create, Ns::Domain, "name")?,
                period_years: years(create.child(Ns::Domain, "period"))?,
                registrant: create
                    .child(Ns::Domain, "registrant")
                    .map(|r| r.text().to_owned()),
                contacts: create
                    .all(Ns::Domain, "contact")
                    .map(|c| {
                        (
                            c.attribute("type").unwrap_or_default().into_owned(),
                            c.text().to_owned(),
                        )
                    })
                    .collect(),
                auth_code: auth_of(create)
                    .ok_or_else(|| unexpected("<domain:create> has no auth code"))?,
                fee,
            }))
        }
        "info" => {
            let info = domain_element(verb, "info")?;
            Ok(Command::Info {
                name: text_of(info, Ns::Domain, "name")?,
                auth_code: auth_of(info),
            })
        }
        "transfer" if verb.attribute("op").as_deref() == Some("query") => {
            let transfer = domain_element(verb, "transfer")?;
            Ok(Command::TransferQuery {
                name: text_of(transfer, Ns::Domain, "name")?,
                auth_code: auth_of(transfer),
            })
        }
        other => Err(unexpected(format!("command <{other}> is not supported"))),
    }
}
