//! Ad-hoc commands (XEP-0050), both sides, for single-stage commands: the requester executes a
//! command with a submitted data form (XEP-0004) and the responder answers `completed` with a
//! result form. That is all the push registration (`register-push-apns` and friends) needs.
//!
//! Forms are read by hand rather than through `xmpp_parsers::data_forms`: clients differ in
//! details that strict parsing refuses (missing `type` on the form or its fields, a field type
//! that does not match the values), while the limits here are strict: a form with too many
//! fields or values, or an over-long value, is an error.

use std::collections::BTreeMap;
use std::fmt;

use minidom::Element;
use rxml::xml_ncname as n;

use crate::ns;

/// At most this many fields in a form we read.
pub const MAX_FIELDS: usize = 32;
/// At most this many `<value/>`s in one field.
pub const MAX_VALUES_PER_FIELD: usize = 16;
/// At most this many bytes in one value (an FCM token is about 160, an APNs token 64).
pub const MAX_VALUE_BYTES: usize = 4096;
/// At most this many bytes in a field name, command node or session id.
pub const MAX_NAME_BYTES: usize = 256;
/// At most this many notes in a response.
pub const MAX_NOTES: usize = 16;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AdhocError {
    #[error("not an ad-hoc command element")]
    NotACommand,
    #[error("the command has no node")]
    MissingNode,
    #[error("unknown command action {0:?}")]
    UnknownAction(String),
    #[error("the response has no status")]
    MissingStatus,
    #[error("unknown command status {0:?}")]
    UnknownStatus(String),
    #[error("the form has more than {MAX_FIELDS} fields")]
    TooManyFields,
    #[error("a field has more than {MAX_VALUES_PER_FIELD} values")]
    TooManyValues,
    #[error("a value or name is too long")]
    TooLong,
    #[error("too many notes")]
    TooManyNotes,
}

/// What the requester asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CommandAction {
    Execute,
    Complete,
    Next,
    Prev,
    Cancel,
}

impl CommandAction {
    fn parse(s: &str) -> Result<Self, AdhocError> {
        Ok(match s {
            "execute" => Self::Execute,
            "complete" => Self::Complete,
            "next" => Self::Next,
            "prev" => Self::Prev,
            "cancel" => Self::Cancel,
            other => return Err(AdhocError::UnknownAction(truncated(other))),
        })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CommandStatus {
    Executing,
    Completed,
    Canceled,
}

/// A note of a response (`info`, `warn` or `error`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Note {
    pub kind: String,
    pub text: String,
}

/// A command request as a responder receives it.
#[derive(Clone, PartialEq, Eq)]
pub struct CommandRequest {
    pub node: String,
    pub action: CommandAction,
    pub session_id: Option<String>,
    /// The submitted form's fields (first value of each; multi-value fields are joined with
    /// newlines, as text-multi would be). Empty when no form was sent.
    pub fields: BTreeMap<String, String>,
}

// Submitted fields carry tokens: keep them out of debug output.
impl fmt::Debug for CommandRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CommandRequest")
            .field("node", &self.node)
            .field("action", &self.action)
            .field("fields", &self.fields.keys().collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

/// A command response as the requester receives it.
#[derive(Clone, PartialEq, Eq)]
pub struct CommandResponse {
    pub node: String,
    pub status: CommandStatus,
    pub session_id: Option<String>,
    /// The result form's fields (see [`CommandRequest::fields`]).
    pub fields: BTreeMap<String, String>,
    pub notes: Vec<Note>,
}

// Result fields carry secrets (the push secret): keep them out of debug output.
impl fmt::Debug for CommandResponse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CommandResponse")
            .field("node", &self.node)
            .field("status", &self.status)
            .field("fields", &self.fields.keys().collect::<Vec<_>>())
            .field("notes", &self.notes)
            .finish_non_exhaustive()
    }
}

/// Requester: `<command node=… action='execute'>` with a submitted form of `fields` (the payload
/// of an IQ set to the responder).
pub fn execute(node: &str, fields: &[(&str, &str)]) -> Element {
    Element::builder("command", ns::COMMANDS)
        .attr(n!("node").into(), node)
        .attr(n!("action").into(), "execute")
        .append(form("submit", fields))
        .build()
}

/// Requester: reads the payload of the IQ result.
pub fn parse_response(command: &Element) -> Result<CommandResponse, AdhocError> {
    if !command.is("command", ns::COMMANDS) {
        return Err(AdhocError::NotACommand);
    }
    let node = bounded_attr(command, "node")?.ok_or(AdhocError::MissingNode)?;
    let status = match command.attr("status") {
        None => return Err(AdhocError::MissingStatus),
        Some("executing") => CommandStatus::Executing,
        Some("completed") => CommandStatus::Completed,
        Some("canceled") => CommandStatus::Canceled,
        Some(other) => return Err(AdhocError::UnknownStatus(truncated(other))),
    };
    let session_id = bounded_attr(command, "sessionid")?;
    let mut notes = Vec::new();
    for note in command.children().filter(|c| c.is("note", ns::COMMANDS)) {
        if notes.len() == MAX_NOTES {
            return Err(AdhocError::TooManyNotes);
        }
        let text = note.text();
        if text.len() > MAX_VALUE_BYTES {
            return Err(AdhocError::TooLong);
        }
        notes.push(Note {
            kind: note.attr("type").unwrap_or("info").to_string(),
            text,
        });
    }
    Ok(CommandResponse {
        node,
        status,
        session_id,
        fields: first_form_fields(command)?,
        notes,
    })
}

/// Responder: reads the payload of an IQ set. A missing action means `execute` (XEP-0050 3.4).
pub fn parse_request(command: &Element) -> Result<CommandRequest, AdhocError> {
    if !command.is("command", ns::COMMANDS) {
        return Err(AdhocError::NotACommand);
    }
    let node = bounded_attr(command, "node")?
        .filter(|n| !n.is_empty())
        .ok_or(AdhocError::MissingNode)?;
    let action = match command.attr("action") {
        None => CommandAction::Execute,
        Some(a) => CommandAction::parse(a)?,
    };
    Ok(CommandRequest {
        node,
        action,
        session_id: bounded_attr(command, "sessionid")?,
        fields: first_form_fields(command)?,
    })
}

/// Responder: the `completed` answer with a result form of `fields`. The session id is the
/// request's, or a fresh one (XEP-0050 requires one in every response).
pub fn completed(req: &CommandRequest, fields: &[(&str, &str)]) -> Element {
    let session_id = req.session_id.clone().unwrap_or_else(new_session_id);
    Element::builder("command", ns::COMMANDS)
        .attr(n!("node").into(), req.node.as_str())
        .attr(n!("sessionid").into(), session_id)
        .attr(n!("status").into(), "completed")
        .append(form("result", fields))
        .build()
}

fn new_session_id() -> String {
    crate::component::to_hex(&rand::random::<[u8; 8]>())
}

/// A data form of `form_type` (`submit` or `result`). A `FORM_TYPE` entry in `fields` becomes a
/// hidden field, as XEP-0068 asks.
pub(crate) fn form(form_type: &str, fields: &[(&str, &str)]) -> Element {
    let mut x = Element::builder("x", ns::DATA_FORMS).attr(n!("type").into(), form_type);
    for (var, value) in fields {
        let mut field = Element::builder("field", ns::DATA_FORMS).attr(n!("var").into(), *var);
        if *var == "FORM_TYPE" {
            field = field.attr(n!("type").into(), "hidden");
        }
        x = x.append(
            field
                .append(
                    Element::builder("value", ns::DATA_FORMS)
                        .append(*value)
                        .build(),
                )
                .build(),
        );
    }
    x.build()
}

fn first_form_fields(parent: &Element) -> Result<BTreeMap<String, String>, AdhocError> {
    match parent.get_child("x", ns::DATA_FORMS) {
        Some(x) => read_form(x),
        None => Ok(BTreeMap::new()),
    }
}

/// The fields of a form, leniently (any form type, any field type) but within the limits.
/// Fields without `var` (fixed fields) are skipped; a repeated var keeps its first occurrence.
pub(crate) fn read_form(x: &Element) -> Result<BTreeMap<String, String>, AdhocError> {
    let mut fields = BTreeMap::new();
    let mut seen = 0usize;
    for field in x.children().filter(|c| c.is("field", ns::DATA_FORMS)) {
        seen += 1;
        if seen > MAX_FIELDS {
            return Err(AdhocError::TooManyFields);
        }
        let Some(var) = field.attr("var") else {
            continue;
        };
        if var.len() > MAX_NAME_BYTES {
            return Err(AdhocError::TooLong);
        }
        let mut values = Vec::new();
        for value in field.children().filter(|c| c.is("value", ns::DATA_FORMS)) {
            if values.len() == MAX_VALUES_PER_FIELD {
                return Err(AdhocError::TooManyValues);
            }
            let text = value.text();
            if text.len() > MAX_VALUE_BYTES {
                return Err(AdhocError::TooLong);
            }
            values.push(text);
        }
        fields
            .entry(var.to_string())
            .or_insert_with(|| values.join("\n"));
    }
    Ok(fields)
}

fn bounded_attr(el: &Element, name: &str) -> Result<Option<String>, AdhocError> {
    match el.attr(name) {
        Some(v) if v.len() > MAX_NAME_BYTES => Err(AdhocError::TooLong),
        Some(v) => Ok(Some(v.to_string())),
        None => Ok(None),
    }
}

fn truncated(s: &str) -> String {
    s.chars().take(32).collect()
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    fn parse(xml: &str) -> Element {
        xml.parse().unwrap()
    }

    #[test]
    fn execute_builds_a_submitted_form() {
        let el = execute(
            "register-push-fcm",
            &[("token", "tok"), ("device-id", "dev")],
        );
        let req = parse_request(&el).unwrap();
        assert_eq!(req.node, "register-push-fcm");
        assert_eq!(req.action, CommandAction::Execute);
        assert_eq!(req.fields.get("token").map(String::as_str), Some("tok"));
        assert_eq!(req.fields.get("device-id").map(String::as_str), Some("dev"));
        let x = el.get_child("x", ns::DATA_FORMS).unwrap();
        assert_eq!(x.attr("type"), Some("submit"));
    }

    #[test]
    fn conversations_style_request_is_accepted() {
        // As Conversations sends it to p2: FORM_TYPE-less submit form, android-id legacy field.
        let el = parse(
            "<command xmlns='http://jabber.org/protocol/commands' node='register-push-fcm' action='execute'>\
               <x xmlns='jabber:x:data' type='submit'>\
                 <field var='token'><value>fcm-token-1</value></field>\
                 <field var='android-id'><value>abc</value></field>\
               </x></command>",
        );
        let req = parse_request(&el).unwrap();
        assert_eq!(
            req.fields.get("android-id").map(String::as_str),
            Some("abc")
        );
        // No action attribute: execute. No form: no fields.
        let bare =
            parse("<command xmlns='http://jabber.org/protocol/commands' node='unregister-push'/>");
        let req = parse_request(&bare).unwrap();
        assert_eq!(req.action, CommandAction::Execute);
        assert!(req.fields.is_empty());
    }

    #[test]
    fn request_errors() {
        let no_node = parse("<command xmlns='http://jabber.org/protocol/commands'/>");
        assert_eq!(parse_request(&no_node), Err(AdhocError::MissingNode));
        let wrong = parse("<query xmlns='http://jabber.org/protocol/commands' node='x'/>");
        assert_eq!(parse_request(&wrong), Err(AdhocError::NotACommand));
        let bad_action =
            parse("<command xmlns='http://jabber.org/protocol/commands' node='x' action='fly'/>");
        assert_eq!(
            parse_request(&bad_action),
            Err(AdhocError::UnknownAction("fly".into()))
        );
    }

    #[test]
    fn limits_are_enforced() {
        let many: Vec<(String, String)> = (0..=MAX_FIELDS)
            .map(|i| (format!("f{i}"), "v".to_string()))
            .collect();
        let refs: Vec<(&str, &str)> = many.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
        assert_eq!(
            parse_request(&execute("n", &refs)),
            Err(AdhocError::TooManyFields)
        );
        let long = "a".repeat(MAX_VALUE_BYTES + 1);
        assert_eq!(
            parse_request(&execute("n", &[("token", &long)])),
            Err(AdhocError::TooLong)
        );
        let mut field = String::from("<field var='v'>");
        for _ in 0..=MAX_VALUES_PER_FIELD {
            field.push_str("<value>x</value>");
        }
        field.push_str("</field>");
        let el = parse(&format!(
            "<command xmlns='http://jabber.org/protocol/commands' node='n'><x xmlns='jabber:x:data' type='submit'>{field}</x></command>"
        ));
        assert_eq!(parse_request(&el), Err(AdhocError::TooManyValues));
    }

    #[test]
    fn completed_round_trips_through_parse_response() {
        let req = parse_request(&execute("register-push-apns", &[("token", "t")])).unwrap();
        let answer = completed(
            &req,
            &[("jid", "push.example"), ("node", "n1"), ("secret", "s1")],
        );
        let resp = parse_response(&answer).unwrap();
        assert_eq!(resp.status, CommandStatus::Completed);
        assert_eq!(resp.node, "register-push-apns");
        assert_eq!(resp.session_id.as_deref().map(str::len), Some(16));
        assert_eq!(
            resp.fields.get("jid").map(String::as_str),
            Some("push.example")
        );
        assert_eq!(resp.fields.get("node").map(String::as_str), Some("n1"));
        assert_eq!(resp.fields.get("secret").map(String::as_str), Some("s1"));
        assert!(!format!("{resp:?}").contains("s1\""));
    }

    #[test]
    fn p2_style_response_with_note_is_read() {
        // The shape p2 answers with (README): completed, a result form, no field types.
        let el = parse(
            "<command xmlns='http://jabber.org/protocol/commands' node='register-push-fcm' \
               sessionid='abc' status='completed'>\
               <x xmlns='jabber:x:data' type='result'>\
                 <field var='jid'><value>p2.siacs.eu</value></field>\
                 <field var='node'><value>node-1</value></field>\
                 <field var='secret'><value>secret-1</value></field>\
               </x>\
               <note type='info'>Registered</note></command>",
        );
        let resp = parse_response(&el).unwrap();
        assert_eq!(resp.session_id.as_deref(), Some("abc"));
        assert_eq!(
            resp.notes,
            vec![Note {
                kind: "info".into(),
                text: "Registered".into()
            }]
        );
        let no_status =
            parse("<command xmlns='http://jabber.org/protocol/commands' node='x' sessionid='a'/>");
        assert_eq!(parse_response(&no_status), Err(AdhocError::MissingStatus));
    }
}
