//! What an EPP server sends: the greeting and responses. [`ServerFrame::to_xml`] writes one (the
//! registry simulator), [`ServerFrame::from_xml`] reads one (the catcher).

use chrono::{DateTime, SecondsFormat, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::xml::{Node, Ns, Tree, Writer};
use super::{unexpected, EppError};
use crate::secret::Secret;

/// A server's frame.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
// Responses are nearly every frame read; boxing them would cost each an allocation.
#[allow(clippy::large_enum_variant)]
pub enum ServerFrame {
    /// The greeting, sent on connection and in answer to `<hello>`.
    Greeting(Greeting),
    /// The answer to a command.
    Response(Response),
}

/// `<greeting>`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Greeting {
    /// `<svID>`: the server's name (3 to 64 characters).
    pub server_id: String,
    /// `<svDate>`: the server's time.
    pub server_date: DateTime<Utc>,
    /// Object URIs served.
    pub objects: Vec<String>,
    /// Extension URIs served.
    pub extensions: Vec<String>,
}

/// `<response>`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Response {
    /// `<result>`s (at least one; the first one's code is the response's).
    pub results: Vec<EppResult>,
    /// `<msgQ>`, for poll responses.
    pub queue: Option<MessageQueue>,
    /// `<resData>`.
    pub data: Option<ResponseData>,
    /// The fee extension's answer, if any.
    pub fee: Option<FeeData>,
    /// RGP statuses (`<rgp:infData>`), for info responses.
    pub rgp_statuses: Vec<String>,
    /// `<clTRID>` echoed.
    pub client_transaction: Option<String>,
    /// `<svTRID>`.
    pub server_transaction: String,
}

/// One `<result>`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EppResult {
    /// The four-digit code (RFC 5730 §3).
    pub code: u16,
    /// `<msg>`.
    pub message: String,
    /// The reasons of its `<extValue>`s (the registry's explanation, e.g. `pendingDelete`).
    pub reasons: Vec<String>,
    /// The domain name the reasons are about (`<value><domain:name>`), when given.
    pub subject: Option<String>,
}

/// `<msgQ>`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MessageQueue {
    /// Messages waiting.
    pub count: u64,
    /// The id of this one (to acknowledge).
    pub id: String,
    /// When it was queued.
    pub queued_at: Option<DateTime<Utc>>,
    /// Its text.
    pub message: Option<String>,
}

/// `<resData>`'s content.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ResponseData {
    /// `<domain:chkData>`.
    Check(Vec<CheckedName>),
    /// `<domain:creData>`.
    Create(CreatedName),
    /// `<domain:infData>`.
    Info(DomainInfo),
    /// `<domain:trnData>`.
    Transfer(TransferInfo),
}

/// One name of a check answer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckedName {
    /// The name.
    pub name: String,
    /// Can it be created now?
    pub available: bool,
    /// Why not (`In use`, `pendingDelete`, …).
    pub reason: Option<String>,
}

/// A create's answer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreatedName {
    /// The name.
    pub name: String,
    /// Registered at.
    pub created_at: DateTime<Utc>,
    /// Registered until.
    pub expires_at: Option<DateTime<Utc>>,
}

/// An info answer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DomainInfo {
    /// The name.
    pub name: String,
    /// The repository object id (`EXAMPLE1-REP`).
    pub roid: String,
    /// EPP statuses (`ok`, `pendingDelete`, `clientHold`, …).
    pub statuses: Vec<String>,
    /// The sponsoring registrar.
    pub registrar: String,
    /// Registered at.
    pub created_at: Option<DateTime<Utc>>,
    /// Registered until.
    pub expires_at: Option<DateTime<Utc>>,
    /// The auth code, shown to the sponsor or to whoever gave it.
    pub auth_code: Option<Secret>,
}

/// A transfer query's answer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TransferInfo {
    /// The name.
    pub name: String,
    /// `<domain:trStatus>` (`pending`, `clientApproved`, `serverApproved`, …).
    pub status: String,
    /// The requesting registrar.
    pub requested_by: String,
    /// When requested.
    pub requested_at: DateTime<Utc>,
    /// The registrar to act.
    pub action_by: String,
    /// When it must act by, or acted.
    pub action_at: DateTime<Utc>,
    /// Registered until.
    pub expires_at: Option<DateTime<Utc>>,
}

/// The fee extension's answer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum FeeData {
    /// `<fee:chkData>`: each name's create price.
    Check {
        /// The currency of every price.
        currency: String,
        /// The names.
        names: Vec<FeeCheck>,
    },
    /// `<fee:creData>`: what the create cost.
    Create {
        /// The currency.
        currency: String,
        /// The fee charged.
        fee: Decimal,
    },
}

/// One name's price in a fee check.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FeeCheck {
    /// The name.
    pub name: String,
    /// The fee class (`premium`, `standard`), when the registry says.
    pub class: Option<String>,
    /// The create fee for the period asked.
    pub create_fee: Option<Decimal>,
    /// Why no price was given.
    pub reason: Option<String>,
}

impl Response {
    /// A response with one result and nothing else.
    pub fn with_result(code: u16, message: &str, server_transaction: &str) -> Response {
        Response {
            results: vec![EppResult {
                code,
                message: message.into(),
                reasons: Vec::new(),
                subject: None,
            }],
            queue: None,
            data: None,
            fee: None,
            rgp_statuses: Vec::new(),
            client_transaction: None,
            server_transaction: server_transaction.into(),
        }
    }

    /// The first result's code.
    pub fn code(&self) -> u16 {
        self.results.first().map(|r| r.code).unwrap_or(0)
    }

    /// Did the command succeed (a 1xxx code)?
    pub fn succeeded(&self) -> bool {
        (1000..2000).contains(&self.code())
    }

    /// Every reason of every result, for matching.
    pub fn reasons(&self) -> impl Iterator<Item = &str> {
        self.results
            .iter()
            .flat_map(|r| r.reasons.iter().map(String::as_str))
    }
}

/// A time as EPP writes it (RFC 3339, UTC, `Z`).
fn time(at: &DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::AutoSi, true)
}

fn parse_time(node: Node<'_, '_>) -> Result<DateTime<Utc>, EppError> {
    let text = node.text();
    time_of(text).ok_or_else(|| unexpected(format!("<{}> '{text}' is not a time", node.name())))
}

/// A time EPP wrote: RFC 3339, `…Z` read directly.
pub(crate) fn time_of(text: &str) -> Option<DateTime<Utc>> {
    utc_time(text).or_else(|| {
        DateTime::parse_from_rfc3339(text)
            .ok()
            .map(|t| t.with_timezone(&Utc))
    })
}

/// A time as registries write it, `YYYY-MM-DDTHH:MM:SS[.fraction]Z`, read directly; anything
/// else (an offset, a leap second) is left to the full RFC 3339 reader.
fn utc_time(text: &str) -> Option<DateTime<Utc>> {
    let b = text.as_bytes();
    if b.len() < 20 || b[b.len() - 1] != b'Z' {
        return None;
    }
    let separators = [(4, b'-'), (7, b'-'), (10, b'T'), (13, b':'), (16, b':')];
    if separators.iter().any(|&(i, c)| b[i] != c) {
        return None;
    }
    let number = |from: usize, to: usize| -> Option<u32> {
        b[from..to].iter().try_fold(0u32, |n, d| {
            d.is_ascii_digit().then(|| n * 10 + u32::from(d - b'0'))
        })
    };
    let mut nanos = 0u32;
    let fraction = &b[19..b.len() - 1];
    if let Some((b'.', digits)) = fraction.split_first() {
        if digits.is_empty() || digits.len() > 9 {
            return None;
        }
        nanos = number(20, 20 + digits.len())? * 10u32.pow(9 - digits.len() as u32);
    } else if !fraction.is_empty() {
        return None;
    }
    let date =
        chrono::NaiveDate::from_ymd_opt(number(0, 4)? as i32, number(5, 7)?, number(8, 10)?)?;
    let time = date.and_hms_nano_opt(number(11, 13)?, number(14, 16)?, number(17, 19)?, nanos)?;
    Some(time.and_utc())
}

fn optional_time(node: Option<Node<'_, '_>>) -> Result<Option<DateTime<Utc>>, EppError> {
    node.map(parse_time).transpose()
}

fn amount(node: Node<'_, '_>) -> Result<Decimal, EppError> {
    node.text().parse().map_err(|_| {
        unexpected(format!(
            "<{}> '{}' is not an amount",
            node.name(),
            node.text()
        ))
    })
}

const DOMAIN_OPEN: &str = " xmlns:domain=\"urn:ietf:params:xml:ns:domain-1.0\">";
const FEE_OPEN: &str = " xmlns:fee=\"urn:ietf:params:xml:ns:epp:fee-1.0\">";

impl ServerFrame {
    /// The frame as an EPP document.
    pub fn to_xml(&self) -> String {
        let mut w = Writer::new();
        match self {
            ServerFrame::Greeting(g) => write_greeting(&mut w, g),
            ServerFrame::Response(r) => write_response(&mut w, r),
        }
        w.finish()
    }

    /// Reads a server's EPP document.
    pub fn from_xml(xml: &[u8]) -> Result<ServerFrame, EppError> {
        // The answer read at the drop, in one pass; anything else by the general reader.
        if let Some(frame) = super::stream::plain_response(xml) {
            return Ok(frame);
        }
        ServerFrame::from_xml_general(xml)
    }

    /// Reads a server's EPP document with the general reader only, never the streaming path
    /// [`ServerFrame::from_xml`] tries first: for tests and fuzzing, which hold the two equal.
    #[doc(hidden)]
    pub fn from_xml_general(xml: &[u8]) -> Result<ServerFrame, EppError> {
        let tree = Tree::parse(xml)?;
        let epp = tree.root();
        if !epp.is(Ns::Epp, "epp") {
            return Err(unexpected("the root is not <epp> in the EPP namespace"));
        }
        let body = epp.only_child()?;
        if body.is(Ns::Epp, "greeting") {
            return read_greeting(body).map(ServerFrame::Greeting);
        }
        if body.is(Ns::Epp, "response") {
            return read_response(body).map(ServerFrame::Response);
        }
        Err(unexpected(format!(
            "<{}> is not a server's frame",
            body.name()
        )))
    }
}

fn write_greeting(w: &mut Writer, g: &Greeting) {
    w.raw("<greeting>")
        .element("svID", &g.server_id)
        .element("svDate", &time(&g.server_date))
        .raw("<svcMenu><version>1.0</version><lang>en</lang>");
    for uri in &g.objects {
        w.element("objURI", uri);
    }
    if !g.extensions.is_empty() {
        w.raw("<svcExtension>");
        for uri in &g.extensions {
            w.element("extURI", uri);
        }
        w.raw("</svcExtension>");
    }
    w.raw(
        "</svcMenu><dcp><access><all/></access><statement><purpose><admin/><prov/></purpose>\
         <recipient><ours/><public/></recipient><retention><stated/></retention></statement>\
         </dcp></greeting>",
    );
}

fn write_response(w: &mut Writer, r: &Response) {
    w.raw("<response>");
    for result in &r.results {
        w.raw("<result code=\"")
            .raw(&result.code.to_string())
            .raw("\">")
            .element("msg", &result.message);
        for reason in &result.reasons {
            // The value names the object the reason is about; the schema wants one element.
            w.raw("<extValue><value>");
            match &result.subject {
                Some(name) => {
                    w.raw("<domain:name")
                        .raw(DOMAIN_OPEN)
                        .text(name)
                        .raw("</domain:name>");
                }
                None => {
                    w.raw("<text/>");
                }
            }
            w.raw("</value>")
                .element("reason", reason)
                .raw("</extValue>");
        }
        w.raw("</result>");
    }
    if let Some(q) = &r.queue {
        w.raw("<msgQ count=\"")
            .raw(&q.count.to_string())
            .raw("\" id=\"")
            .text(&q.id)
            .raw("\">");
        if let Some(at) = &q.queued_at {
            w.element("qDate", &time(at));
        }
        if let Some(m) = &q.message {
            w.element("msg", m);
        }
        w.raw("</msgQ>");
    }
    if let Some(data) = &r.data {
        w.raw("<resData>");
        write_data(w, data);
        w.raw("</resData>");
    }
    if r.fee.is_some() || !r.rgp_statuses.is_empty() {
        w.raw("<extension>");
        if !r.rgp_statuses.is_empty() {
            w.raw("<rgp:infData xmlns:rgp=\"urn:ietf:params:xml:ns:rgp-1.0\">");
            for s in &r.rgp_statuses {
                w.raw("<rgp:rgpStatus s=\"").text(s).raw("\"/>");
            }
            w.raw("</rgp:infData>");
        }
        match &r.fee {
            Some(FeeData::Check { currency, names }) => {
                w.raw("<fee:chkData")
                    .raw(FEE_OPEN)
                    .element("fee:currency", currency);
                for n in names {
                    w.raw(if n.create_fee.is_some() {
                        "<fee:cd avail=\"1\">"
                    } else {
                        "<fee:cd avail=\"0\">"
                    })
                    .element("fee:objID", &n.name);
                    if let Some(class) = &n.class {
                        w.element("fee:class", class);
                    }
                    if let Some(fee) = &n.create_fee {
                        w.raw("<fee:command name=\"create\"><fee:period unit=\"y\">1</fee:period>")
                            .element("fee:fee description=\"Registration Fee\"", &fee.to_string())
                            .raw("</fee:command>");
                    }
                    if let Some(reason) = &n.reason {
                        w.element("fee:reason", reason);
                    }
                    w.raw("</fee:cd>");
                }
                w.raw("</fee:chkData>");
            }
            Some(FeeData::Create { currency, fee }) => {
                w.raw("<fee:creData")
                    .raw(FEE_OPEN)
                    .element("fee:currency", currency)
                    .element("fee:fee", &fee.to_string())
                    .raw("</fee:creData>");
            }
            None => {}
        }
        w.raw("</extension>");
    }
    w.raw("<trID>");
    if let Some(c) = &r.client_transaction {
        w.element("clTRID", c);
    }
    w.element("svTRID", &r.server_transaction)
        .raw("</trID></response>");
}

fn write_data(w: &mut Writer, data: &ResponseData) {
    match data {
        ResponseData::Check(names) => {
            w.raw("<domain:chkData").raw(DOMAIN_OPEN);
            for n in names {
                w.raw("<domain:cd>").element(
                    if n.available {
                        "domain:name avail=\"1\""
                    } else {
                        "domain:name avail=\"0\""
                    },
                    &n.name,
                );
                if let Some(reason) = &n.reason {
                    w.element("domain:reason", reason);
                }
                w.raw("</domain:cd>");
            }
            w.raw("</domain:chkData>");
        }
        ResponseData::Create(c) => {
            w.raw("<domain:creData")
                .raw(DOMAIN_OPEN)
                .element("domain:name", &c.name)
                .element("domain:crDate", &time(&c.created_at));
            if let Some(ex) = &c.expires_at {
                w.element("domain:exDate", &time(ex));
            }
            w.raw("</domain:creData>");
        }
        ResponseData::Info(i) => {
            w.raw("<domain:infData")
                .raw(DOMAIN_OPEN)
                .element("domain:name", &i.name)
                .element("domain:roid", &i.roid);
            for s in &i.statuses {
                w.raw("<domain:status s=\"").text(s).raw("\"/>");
            }
            w.element("domain:clID", &i.registrar);
            if let Some(at) = &i.created_at {
                w.element("domain:crDate", &time(at));
            }
            if let Some(at) = &i.expires_at {
                w.element("domain:exDate", &time(at));
            }
            if let Some(a) = &i.auth_code {
                w.raw("<domain:authInfo>")
                    .element("domain:pw", a.expose())
                    .raw("</domain:authInfo>");
            }
            w.raw("</domain:infData>");
        }
        ResponseData::Transfer(t) => {
            w.raw("<domain:trnData")
                .raw(DOMAIN_OPEN)
                .element("domain:name", &t.name)
                .element("domain:trStatus", &t.status)
                .element("domain:reID", &t.requested_by)
                .element("domain:reDate", &time(&t.requested_at))
                .element("domain:acID", &t.action_by)
                .element("domain:acDate", &time(&t.action_at));
            if let Some(ex) = &t.expires_at {
                w.element("domain:exDate", &time(ex));
            }
            w.raw("</domain:trnData>");
        }
    }
}

fn uris(parent: Option<Node<'_, '_>>, name: &'static str) -> Vec<String> {
    parent
        .map(|p| p.all(Ns::Epp, name).map(|u| u.text().to_owned()).collect())
        .unwrap_or_default()
}

fn read_greeting(g: Node<'_, '_>) -> Result<Greeting, EppError> {
    let menu = g.required(Ns::Epp, "svcMenu")?;
    Ok(Greeting {
        server_id: g.required(Ns::Epp, "svID")?.text().to_owned(),
        server_date: parse_time(g.required(Ns::Epp, "svDate")?)?,
        objects: uris(Some(menu), "objURI"),
        extensions: uris(menu.child(Ns::Epp, "svcExtension"), "extURI"),
    })
}

fn read_result(result: Node<'_, '_>) -> Result<EppResult, EppError> {
    let code = result
        .attribute("code")
        .and_then(|c| c.parse::<u16>().ok())
        .filter(|c| (1000..=2999).contains(c))
        .ok_or_else(|| unexpected("a <result> without a four-digit code"))?;
    let mut message = None;
    let mut reasons = Vec::new();
    let mut subject = None;
    // One pass over its children: a response is read on every command at the drop.
    for child in result.children().filter(|c| c.ns() == Ns::Epp) {
        match child.name() {
            "msg" if message.is_none() => message = Some(child.text().to_owned()),
            "extValue" => {
                if let Some(reason) = child.child(Ns::Epp, "reason") {
                    reasons.push(reason.text().to_owned());
                }
                if subject.is_none() {
                    subject = child
                        .child(Ns::Epp, "value")
                        .and_then(|v| v.child(Ns::Domain, "name"))
                        .map(|n| n.text().to_owned());
                }
            }
            _ => {}
        }
    }
    Ok(EppResult {
        code,
        message: message.ok_or_else(|| unexpected("<result> has no <msg>"))?,
        reasons,
        subject,
    })
}

fn read_response(r: Node<'_, '_>) -> Result<Response, EppError> {
    let mut results = Vec::new();
    let (mut msg_q, mut res_data, mut extension, mut tr_id) = (None, None, None, None);
    // One pass over its children; the first of each kind counts.
    for child in r.children().filter(|c| c.ns() == Ns::Epp) {
        let slot = match child.name() {
            "result" => {
                results.push(read_result(child)?);
                continue;
            }
            "msgQ" => &mut msg_q,
            "resData" => &mut res_data,
            "extension" => &mut extension,
            "trID" => &mut tr_id,
            _ => continue,
        };
        if slot.is_none() {
            *slot = Some(child);
        }
    }
    if results.is_empty() {
        return Err(unexpected("<response> has no <result>"));
    }
    let queue = match msg_q {
        Some(q) => Some(MessageQueue {
            count: q
                .attribute("count")
                .and_then(|c| c.parse().ok())
                .ok_or_else(|| unexpected("<msgQ> without a count"))?,
            id: q
                .attribute("id")
                .ok_or_else(|| unexpected("<msgQ> without an id"))?
                .into_owned(),
            queued_at: optional_time(q.child(Ns::Epp, "qDate"))?,
            message: q.child(Ns::Epp, "msg").map(|m| m.text().to_owned()),
        }),
        None => None,
    };
    let data = match res_data {
        Some(d) => read_data(d)?,
        None => None,
    };
    let mut fee = None;
    let mut rgp_statuses = Vec::new();
    if let Some(ext) = extension {
        for e in ext.children() {
            match (e.ns(), e.name()) {
                (Ns::Rgp, "infData") | (Ns::Rgp, "upData") => rgp_statuses.extend(
                    e.all(Ns::Rgp, "rgpStatus")
                        .filter_map(|s| s.attribute("s"))
                        .map(|s| s.into_owned()),
                ),
                (Ns::Fee, "chkData") => fee = Some(read_fee_check(e)?),
                (Ns::Fee, "creData") => {
                    fee = Some(FeeData::Create {
                        currency: e
                            .child(Ns::Fee, "currency")
                            .map(|c| c.text().to_owned())
                            .unwrap_or_default(),
                        fee: e.all(Ns::Fee, "fee").try_fold(Decimal::ZERO, |sum, f| {
                            Ok::<_, EppError>(sum + amount(f)?)
                        })?,
                    })
                }
                // Extensions this reader does not use are skipped, as RFC 5730 allows.
                _ => {}
            }
        }
    }
    let tr = tr_id.ok_or_else(|| unexpected("<response> has no <trID>"))?;
    Ok(Response {
        results,
        queue,
        data,
        fee,
        rgp_statuses,
        client_transaction: tr.child(Ns::Epp, "clTRID").map(|t| t.text().to_owned()),
        server_transaction: tr.required(Ns::Epp, "svTRID")?.text().to_owned(),
    })
}

fn read_fee_check(e: Node<'_, '_>) -> Result<FeeData, EppError> {
    let mut names = Vec::new();
    for cd in e.all(Ns::Fee, "cd") {
        let create = cd
            .all(Ns::Fee, "command")
            .find(|c| c.attribute("name").as_deref() == Some("create"));
        let create_fee = match create {
            Some(c) => {
                let mut fees = c.all(Ns::Fee, "fee").peekable();
                if fees.peek().is_none() {
                    None
                } else {
                    Some(
                        fees.try_fold(Decimal::ZERO, |sum, f| Ok::<_, EppError>(sum + amount(f)?))?,
                    )
                }
            }
            None => None,
        };
        names.push(FeeCheck {
            name: cd.required(Ns::Fee, "objID")?.text().to_owned(),
            class: cd.child(Ns::Fee, "class").map(|c| c.text().to_owned()),
            create_fee,
            reason: cd.child(Ns::Fee, "reason").map(|r| r.text().to_owned()),
        });
    }
    Ok(FeeData::Check {
        currency: e.required(Ns::Fee, "currency")?.text().to_owned(),
        names,
    })
}

fn read_data(d: Node<'_, '_>) -> Result<Option<ResponseData>, EppError> {
    let Some(data) = d.children().find(|c| c.ns() == Ns::Domain) else {
        return Ok(None);
    };
    let text = |name: &str| -> Result<String, EppError> {
        Ok(data.required(Ns::Domain, name)?.text().to_owned())
    };
    Ok(Some(match data.name() {
        "chkData" => ResponseData::Check(
            data.all(Ns::Domain, "cd")
                .map(|cd| {
                    let name = cd.required(Ns::Domain, "name")?;
                    Ok(CheckedName {
                        name: name.text().to_owned(),
                        available: matches!(name.attribute("avail").as_deref(), Some("1" | "true")),
                        reason: cd.child(Ns::Domain, "reason").map(|r| r.text().to_owned()),
                    })
                })
                .collect::<Result<_, EppError>>()?,
        ),
        "creData" => ResponseData::Create(CreatedName {
            name: text("name")?,
            created_at: parse_time(data.required(Ns::Domain, "crDate")?)?,
            expires_at: optional_time(data.child(Ns::Domain, "exDate"))?,
        }),
        "infData" => ResponseData::Info(DomainInfo {
            name: text("name")?,
            roid: text("roid")?,
            statuses: data
                .all(Ns::Domain, "status")
                .filter_map(|s| s.attribute("s"))
                .map(|s| s.into_owned())
                .collect(),
            registrar: text("clID")?,
            created_at: optional_time(data.child(Ns::Domain, "crDate"))?,
            expires_at: optional_time(data.child(Ns::Domain, "exDate"))?,
            auth_code: data
                .child(Ns::Domain, "authInfo")
                .and_then(|a| a.child(Ns::Domain, "pw"))
                .map(|pw| Secret::new(pw.text().to_owned())),
        }),
        "trnData" => ResponseData::Transfer(TransferInfo {
            name: text("name")?,
            status: text("trStatus")?,
            requested_by: text("reID")?,
            requested_at: parse_time(data.required(Ns::Domain, "reDate")?)?,
            action_by: text("acID")?,
            action_at: parse_time(data.required(Ns::Domain, "acDate")?)?,
            expires_at: optional_time(data.child(Ns::Domain, "exDate"))?,
        }),
        other => return Err(unexpected(format!("<domain:{other}> is not supported"))),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// The direct reader of `…Z` times agrees with the full RFC 3339 reader, whatever the
        /// time and however many fraction digits.
        #[test]
        fn utc_times_read_as_rfc3339_reads_them(
            secs in -2_208_988_800i64..7_258_118_400,
            nanos in 0u32..1_000_000_000,
            digits in 0usize..=9,
        ) {
            let t = DateTime::from_timestamp(secs, nanos).unwrap();
            let mut text = t.format("%Y-%m-%dT%H:%M:%S").to_string();
            if digits > 0 {
                let fraction = format!("{nanos:09}");
                text.push('.');
                text.push_str(&fraction[..digits]);
            }
            text.push('Z');
            let full = DateTime::parse_from_rfc3339(&text).unwrap().with_timezone(&Utc);
            prop_assert_eq!(utc_time(&text), Some(full));
        }
    }

    #[test]
    fn other_times_are_left_to_the_full_reader() {
        for text in [
            "2026-02-30T10:00:00Z",
            "2026-01-01T10:00:00+01:00",
            "2026-01-01T10:00:00.Z",
            "2026-01-01T10:00:00.1234567890Z",
            "2026-01-01 10:00:00Z",
            "2026-01-01T1a:00:00Z",
        ] {
            assert_eq!(utc_time(text), None, "{text}");
        }
    }
}
