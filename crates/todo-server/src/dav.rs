//! CalDAV at `/dav` (RFC 4918, RFC 4791, RFC 6578): the HTTP and XML side of
//! `todo_core::caldav`. A thin adapter: it reads the method, the path and the XML body, calls
//! the use cases and writes a multistatus. Errors outside a multistatus are problem+json, as
//! on every other door.
//!
//! Paths: `/dav/` and `/dav/principals/{user}/` (the principal), `/dav/calendars/{user}/`
//! (the calendar home), `/dav/calendars/{user}/{project}/` (a calendar),
//! `/dav/calendars/{user}/{project}/{name}` (a task). Another user's path is a 404.

use std::fmt::Write as _;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::FromRequestParts;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::any;
use quick_xml::escape::escape;
use quick_xml::events::Event as XmlEvent;
use quick_xml::name::ResolveResult;
use quick_xml::reader::NsReader;
use todo_core::accounts::Principal;
use todo_core::caldav::{
    Changes, DavCalendar, MAX_VTODO_BYTES, Precondition, Resource, SyncToken, TimeRange,
    calendar_color,
};

use crate::AppState;
use crate::auth::Auth;
use crate::error::ApiError;

const DAV: &str = "DAV:";
const CALDAV: &str = "urn:ietf:params:xml:ns:caldav";
const CALSERVER: &str = "http://calendarserver.org/ns/";
const APPLE: &str = "http://apple.com/ns/ical/";
const ALLOW: &str =
    "OPTIONS, GET, HEAD, PUT, DELETE, PROPFIND, PROPPATCH, REPORT, MKCALENDAR, MKCOL";
/// An XML request body is at most this long.
const MAX_XML_BYTES: usize = 256 * 1024;
/// A calendar-multiget names at most this many resources.
const MAX_HREFS: usize = 1_000;
/// An XML request nests at most this deep.
const MAX_DEPTH: usize = 32;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/.well-known/caldav",
            any(|| async { Redirect::permanent("/dav/") }),
        )
        .route("/dav", any(serve))
        .route("/dav/", any(serve))
        .route("/dav/{*path}", any(serve))
}

/// What a `/dav` path names.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Target {
    Root,
    Principal,
    Home,
    /// A calendar by its path segment: a project id, or the name a client gave it.
    Calendar(String),
    Object(String, String),
}

/// Reads a path; `None` for one that names nothing, or another user's.
fn target(path: &str, user: &str) -> Option<Target> {
    let rest = path.strip_prefix("/dav")?;
    let parts: Vec<&str> = rest.split('/').filter(|p| !p.is_empty()).collect();
    match parts.as_slice() {
        [] => Some(Target::Root),
        ["principals"] => Some(Target::Principal),
        ["principals", u] if *u == user => Some(Target::Principal),
        ["calendars"] => Some(Target::Home),
        ["calendars", u] if *u == user => Some(Target::Home),
        ["calendars", u, calendar] if *u == user => percent_decode(calendar).map(Target::Calendar),
        ["calendars", u, calendar, name] if *u == user => Some(Target::Object(
            percent_decode(calendar)?,
            percent_decode(name)?,
        )),
        _ => None,
    }
}

fn percent_decode(raw: &str) -> Option<String> {
    let bytes = raw.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = raw.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// A resource name as a path segment: unreserved characters and `@` kept, the rest escaped.
fn percent_encode(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for byte in name.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~@".contains(&byte) {
            out.push(byte as char);
        } else {
            let _ = write!(out, "%{byte:02X}");
        }
    }
    out
}

fn principal_href(user: &str) -> String {
    format!("/dav/principals/{user}/")
}

fn home_href(user: &str) -> String {
    format!("/dav/calendars/{user}/")
}

fn calendar_href(user: &str, segment: &str) -> String {
    format!("/dav/calendars/{user}/{}/", percent_encode(segment))
}

fn object_href(user: &str, segment: &str, name: &str) -> String {
    format!("{}{}", calendar_href(user, segment), percent_encode(name))
}

async fn serve(State(state): State<AppState>, request: Request) -> Response {
    match handle(state, request).await {
        Ok(response) => response,
        Err(error) => {
            let unauthenticated = error.status() == StatusCode::UNAUTHORIZED;
            let mut response = error.into_response();
            if unauthenticated {
                // What CalDAV clients answer: they ask for the account's email and an app
                // password (an API key).
                response.headers_mut().insert(
                    header::WWW_AUTHENTICATE,
                    HeaderValue::from_static("Basic realm=\"todo\", charset=\"UTF-8\""),
                );
            }
            response
        }
    }
}

async fn handle(state: AppState, request: Request) -> Result<Response, ApiError> {
    let (mut parts, body) = request.into_parts();
    if parts.method == Method::OPTIONS {
        return Ok(options());
    }
    // Authenticated, CSRF-checked for a cookie and scope-checked for the method.
    let auth = Auth::from_request_parts(&mut parts, &state).await;
    let limit = match parts.method.as_str() {
        "PUT" => MAX_VTODO_BYTES,
        _ => MAX_XML_BYTES,
    };
    // The (bounded) body is read before a refusal is sent: a 401 answered over an unread
    // PROPFIND body closes the connection with the body still arriving, and the client can
    // see the reset instead of the 401 that asks for credentials.
    let body = axum::body::to_bytes(body, limit).await;
    let Auth(principal) = auth?;
    let body = body.map_err(|_| too_large(limit))?;
    let user = principal.user_id.to_string();
    let target = target(parts.uri.path(), &user)
        .ok_or_else(|| ApiError::not_found("no such CalDAV resource"))?;
    let dav = Dav {
        state: &state,
        principal: &principal,
        user: &user,
    };
    let todo = &state.todo;
    let user_id = &principal.user_id;
    if matches!(parts.method.as_str(), "MKCALENDAR" | "MKCOL") {
        let Target::Calendar(segment) = target else {
            return Ok(method_not_allowed());
        };
        let request = parse_xml(&body)?;
        let text_of = |local: &str| {
            request
                .as_ref()
                .and_then(|r| r.first(local))
                .map(|e| e.text.clone())
        };
        todo.dav_make_calendar(
            user_id,
            &segment,
            text_of("displayname"),
            text_of("calendar-color"),
        )
        .await?;
        return Ok(StatusCode::CREATED.into_response());
    }
    match (parts.method.as_str(), target) {
        ("PROPFIND", target) => dav.propfind(&parts.headers, &body, target).await,
        ("REPORT", Target::Calendar(segment)) => dav.report(&segment, &body).await,
        ("GET" | "HEAD", Target::Object(segment, name)) => {
            let project = todo.dav_project(user_id, &segment).await?;
            let resource = todo.dav_resource(user_id, project, &name).await?;
            Ok(ics_response(resource, parts.method == Method::HEAD))
        }
        ("GET" | "HEAD", Target::Calendar(segment)) => {
            let project = todo.dav_project(user_id, &segment).await?;
            let feed = todo.calendar_feed(user_id, Some(project)).await?;
            Ok((
                [(header::CONTENT_TYPE, "text/calendar; charset=utf-8")],
                feed,
            )
                .into_response())
        }
        ("PUT", Target::Object(segment, name)) => {
            let project = todo.dav_project(user_id, &segment).await?;
            let text = std::str::from_utf8(&body)
                .map_err(|_| ApiError::from(todo_core::Error::invalid("body", "not UTF-8 text")))?;
            let precondition = precondition(&parts.headers);
            let (_, created) = todo
                .dav_put(user_id, project, &name, text, &precondition)
                .await?;
            // No ETag: todo stores the task, not the client's bytes; a client that wants
            // the stored text reads it back (RFC 4791 §5.3.4).
            Ok(if created {
                StatusCode::CREATED
            } else {
                StatusCode::NO_CONTENT
            }
            .into_response())
        }
        ("DELETE", Target::Object(segment, name)) => {
            let project = todo.dav_project(user_id, &segment).await?;
            todo.dav_delete(user_id, project, &name, &precondition(&parts.headers))
                .await?;
            Ok(StatusCode::NO_CONTENT.into_response())
        }
        ("DELETE", Target::Calendar(segment)) => {
            let project = todo.dav_project(user_id, &segment).await?;
            todo.delete_project(user_id, project).await?;
            Ok(StatusCode::NO_CONTENT.into_response())
        }
        ("PROPPATCH", Target::Calendar(segment)) => dav.proppatch(&segment, &body).await,
        _ => Ok(method_not_allowed()),
    }
}

fn too_large(limit: usize) -> ApiError {
    ApiError::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        "too-large",
        format!("a CalDAV body is at most {limit} bytes"),
    )
}

fn options() -> Response {
    let mut response = StatusCode::OK.into_response();
    let headers = response.headers_mut();
    headers.insert("dav", HeaderValue::from_static("1, 3, calendar-access"));
    headers.insert(
        header::ALLOW,
        HeaderValue::from_static("OPTIONS, GET, HEAD, PUT, DELETE, PROPFIND, PROPPATCH, REPORT"),
    );
    response
}

fn method_not_allowed() -> Response {
    let mut response = ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method-not-allowed",
        "this CalDAV resource does not take that method",
    )
    .into_response();
    response
        .headers_mut()
        .insert(header::ALLOW, HeaderValue::from_static(ALLOW));
    response
}

fn precondition(headers: &HeaderMap) -> Precondition {
    let header_text = |name: header::HeaderName| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
            .map(str::to_owned)
    };
    if let Some(etag) = header_text(header::IF_MATCH) {
        return Precondition::Matches(etag);
    }
    match header_text(header::IF_NONE_MATCH) {
        Some(star) if star == "*" => Precondition::Absent,
        _ => Precondition::None,
    }
}

fn ics_response(resource: Resource, head: bool) -> Response {
    let etag = HeaderValue::from_str(&resource.etag).ok();
    let body = if head {
        Body::empty()
    } else {
        Body::from(resource.ics)
    };
    let mut response = (
        [(header::CONTENT_TYPE, "text/calendar; charset=utf-8")],
        body,
    )
        .into_response();
    if let Some(etag) = etag {
        response.headers_mut().insert(header::ETAG, etag);
    }
    response
}

/// A property name: namespace and local name.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Name {
    ns: String,
    local: String,
}

impl Name {
    fn is(&self, ns: &str, local: &str) -> bool {
        self.ns == ns && self.local == local
    }
}

/// An XML element of a request body, namespaces resolved.
#[derive(Debug, Default)]
struct Element {
    name: Option<Name>,
    attributes: Vec<(String, String)>,
    text: String,
    children: Vec<Element>,
}

impl Element {
    fn local(&self) -> &str {
        self.name.as_ref().map_or("", |n| n.local.as_str())
    }

    /// Every descendant named `local`, depth first.
    fn find_all<'a>(&'a self, local: &str, out: &mut Vec<&'a Element>) {
        for child in &self.children {
            if child.local() == local {
                out.push(child);
            }
            child.find_all(local, out);
        }
    }

    fn first(&self, local: &str) -> Option<&Element> {
        let mut found = Vec::new();
        self.find_all(local, &mut found);
        found.into_iter().next()
    }

    fn attribute(&self, name: &str) -> Option<&str> {
        self.attributes
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    }
}

fn bad_xml(detail: &str) -> ApiError {
    ApiError::new(
        StatusCode::BAD_REQUEST,
        "bad-request",
        format!("the XML body cannot be read: {detail}"),
    )
}

/// Reads an XML body into its root element; an empty body is `None`.
fn parse_xml(body: &[u8]) -> Result<Option<Element>, ApiError> {
    let text = std::str::from_utf8(body).map_err(|_| bad_xml("not UTF-8"))?;
    if text.trim().is_empty() {
        return Ok(None);
    }
    let mut reader = NsReader::from_str(text);
    let mut stack: Vec<Element> = vec![Element::default()];
    loop {
        let (ns, event) = reader
            .read_resolved_event()
            .map_err(|e| bad_xml(&e.to_string()))?;
        let ns = match ns {
            ResolveResult::Bound(ns) => ns.as_ref().to_owned(),
            _ => String::new(),
        };
        match event {
            XmlEvent::Start(start) | XmlEvent::Empty(start) if stack.len() > MAX_DEPTH => {
                let _ = start;
                return Err(bad_xml("nested too deep"));
            }
            XmlEvent::Start(start) => {
                stack.push(element(ns, &start));
            }
            XmlEvent::Empty(start) => {
                let done = element(ns, &start);
                if let Some(parent) = stack.last_mut() {
                    parent.children.push(done);
                }
            }
            XmlEvent::End(_) => {
                let done = stack.pop().ok_or_else(|| bad_xml("unbalanced"))?;
                let parent = stack.last_mut().ok_or_else(|| bad_xml("unbalanced"))?;
                parent.children.push(done);
            }
            XmlEvent::Text(text) => {
                if let Some(current) = stack.last_mut() {
                    let raw = text.xml_content(quick_xml::XmlVersion::Implicit1_0);
                    current.text.push_str(raw.trim());
                }
            }
            XmlEvent::GeneralRef(reference) => {
                if let Some(current) = stack.last_mut() {
                    let name: &str = reference.as_ref();
                    current.text.push_str(match name {
                        "amp" => "&",
                        "lt" => "<",
                        "gt" => ">",
                        "quot" => "\"",
                        "apos" => "'",
                        _ => "",
                    });
                }
            }
            XmlEvent::Eof => break,
            _ => {}
        }
    }
    let mut root = stack.pop().ok_or_else(|| bad_xml("unbalanced"))?;
    if !stack.is_empty() {
        return Err(bad_xml("unclosed element"));
    }
    Ok(root.children.pop())
}

fn element(ns: String, start: &quick_xml::events::BytesStart<'_>) -> Element {
    let local = start.local_name().as_ref().to_owned();
    let attributes = start
        .attributes()
        .flatten()
        .map(|a| (a.key.local_name().as_ref().to_owned(), a.value.to_string()))
        .collect();
    Element {
        name: Some(Name { ns, local }),
        attributes,
        ..Element::default()
    }
}

/// Which properties a PROPFIND or REPORT asks for.
enum Wanted {
    All,
    Names(Vec<Name>),
}

impl Wanted {
    fn of(request: Option<&Element>) -> Self {
        let Some(prop) = request.and_then(|r| r.children.iter().find(|c| c.local() == "prop"))
        else {
            return Wanted::All;
        };
        Wanted::Names(
            prop.children
                .iter()
                .filter_map(|c| c.name.clone())
                .collect(),
        )
    }

    fn wants(&self, ns: &str, local: &str) -> bool {
        match self {
            Wanted::All => true,
            Wanted::Names(names) => names.iter().any(|n| n.is(ns, local)),
        }
    }
}

/// One `<response>` of a multistatus: the properties found, and those asked for but absent.
struct Entry {
    href: String,
    found: Vec<(&'static str, &'static str, String)>,
}

/// Writes a multistatus of `entries` (each answering `wanted`), plus `gone` hrefs as 404 and
/// a sync token when there is one.
fn multistatus(
    entries: &[Entry],
    wanted: &Wanted,
    gone: &[String],
    token: Option<SyncToken>,
) -> Response {
    let mut xml = String::from(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<d:multistatus xmlns:d=\"DAV:\" \
         xmlns:c=\"urn:ietf:params:xml:ns:caldav\" xmlns:cs=\"http://calendarserver.org/ns/\" \
         xmlns:a=\"http://apple.com/ns/ical/\">\n",
    );
    for entry in entries {
        let _ = write!(xml, "<d:response><d:href>{}</d:href>", escape(&entry.href));
        let mut ok = String::new();
        for (ns, local, value) in &entry.found {
            if wanted.wants(ns, local) {
                let prefix = prefix(ns);
                if value.is_empty() {
                    let _ = write!(ok, "<{prefix}:{local}/>");
                } else {
                    let _ = write!(ok, "<{prefix}:{local}>{value}</{prefix}:{local}>");
                }
            }
        }
        if !ok.is_empty() {
            let _ = write!(
                xml,
                "<d:propstat><d:prop>{ok}</d:prop><d:status>HTTP/1.1 200 OK</d:status></d:propstat>"
            );
        }
        if let Wanted::Names(names) = wanted {
            let missing: String = names
                .iter()
                .filter(|n| !entry.found.iter().any(|(ns, local, _)| n.is(ns, local)))
                .enumerate()
                .map(|(i, n)| {
                    format!(
                        "<x{i}:{} xmlns:x{i}=\"{}\"/>",
                        escape(&n.local),
                        escape(&n.ns)
                    )
                })
                .collect();
            if !missing.is_empty() {
                let _ = write!(
                    xml,
                    "<d:propstat><d:prop>{missing}</d:prop>\
                     <d:status>HTTP/1.1 404 Not Found</d:status></d:propstat>"
                );
            }
        }
        xml.push_str("</d:response>\n");
    }
    for href in gone {
        let _ = writeln!(
            xml,
            "<d:response><d:href>{}</d:href><d:status>HTTP/1.1 404 Not Found</d:status></d:response>",
            escape(href)
        );
    }
    if let Some(token) = token {
        let _ = writeln!(
            xml,
            "<d:sync-token>{}</d:sync-token>",
            escape(token.to_string())
        );
    }
    xml.push_str("</d:multistatus>\n");
    (
        StatusCode::MULTI_STATUS,
        [(header::CONTENT_TYPE, "application/xml; charset=utf-8")],
        xml,
    )
        .into_response()
}

fn prefix(ns: &str) -> &'static str {
    match ns {
        CALDAV => "c",
        CALSERVER => "cs",
        APPLE => "a",
        _ => "d",
    }
}

fn href(path: &str) -> String {
    format!("<d:href>{}</d:href>", escape(path))
}

/// A DAV error body (`<d:error><precondition/></d:error>`) with `status`.
fn dav_error(status: StatusCode, ns_prefix: &str, condition: &str) -> Response {
    let xml = format!(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<d:error xmlns:d=\"DAV:\" \
         xmlns:c=\"urn:ietf:params:xml:ns:caldav\"><{ns_prefix}:{condition}/></d:error>\n"
    );
    (
        status,
        [(header::CONTENT_TYPE, "application/xml; charset=utf-8")],
        xml,
    )
        .into_response()
}

/// One request's context.
struct Dav<'a> {
    state: &'a AppState,
    principal: &'a Principal,
    user: &'a str,
}

impl Dav<'_> {
    fn principal_props(&self) -> Vec<(&'static str, &'static str, String)> {
        vec![
            (
                DAV,
                "current-user-principal",
                href(&principal_href(self.user)),
            ),
            (DAV, "principal-URL", href(&principal_href(self.user))),
            (CALDAV, "calendar-home-set", href(&home_href(self.user))),
            (DAV, "resourcetype", "<d:principal/>".into()),
            (DAV, "displayname", "todo".into()),
        ]
    }

    fn calendar_entry(&self, calendar: &DavCalendar) -> Entry {
        let project = &calendar.project;
        let privileges = if calendar.writable {
            "<d:privilege><d:read/></d:privilege><d:privilege><d:write/></d:privilege>\
             <d:privilege><d:write-content/></d:privilege><d:privilege><d:bind/></d:privilege>\
             <d:privilege><d:unbind/></d:privilege>"
        } else {
            "<d:privilege><d:read/></d:privilege>"
        };
        let mut found = vec![
            (
                DAV,
                "resourcetype",
                "<d:collection/><c:calendar/>".to_owned(),
            ),
            (DAV, "displayname", escape(&project.name).into_owned()),
            (
                CALDAV,
                "supported-calendar-component-set",
                "<c:comp name=\"VTODO\"/>".into(),
            ),
            (CALSERVER, "getctag", escape(calendar.token.to_string()).into_owned()),
            (DAV, "sync-token", escape(calendar.token.to_string()).into_owned()),
            (DAV, "current-user-privilege-set", privileges.into()),
            (DAV, "current-user-principal", href(&principal_href(self.user))),
            (
                DAV,
                "supported-report-set",
                "<d:supported-report><d:report><c:calendar-multiget/></d:report></d:supported-report>\
                 <d:supported-report><d:report><c:calendar-query/></d:report></d:supported-report>\
                 <d:supported-report><d:report><d:sync-collection/></d:report></d:supported-report>"
                    .into(),
            ),
        ];
        if let Some(color) = &project.color {
            found.push((APPLE, "calendar-color", escape(color).into_owned()));
        }
        Entry {
            href: calendar_href(self.user, &calendar.segment),
            found,
        }
    }

    fn object_entry(&self, segment: &str, resource: &Resource, data: bool) -> Entry {
        let mut found = vec![
            (DAV, "getetag", escape(&resource.etag).into_owned()),
            (
                DAV,
                "getcontenttype",
                "text/calendar; charset=utf-8; component=VTODO".into(),
            ),
            (DAV, "resourcetype", String::new()),
        ];
        if data {
            found.push((CALDAV, "calendar-data", escape(&resource.ics).into_owned()));
        }
        Entry {
            href: object_href(self.user, segment, &resource.name),
            found,
        }
    }

    async fn propfind(
        &self,
        headers: &HeaderMap,
        body: &Bytes,
        target: Target,
    ) -> Result<Response, ApiError> {
        let request = parse_xml(body)?;
        let wanted = Wanted::of(request.as_ref());
        let deep = headers
            .get("depth")
            .and_then(|v| v.to_str().ok())
            .is_none_or(|depth| depth.trim() != "0");
        let todo = &self.state.todo;
        let user_id = &self.principal.user_id;
        let entries = match target {
            Target::Root | Target::Principal => {
                let href = if target == Target::Root {
                    "/dav/".to_owned()
                } else {
                    principal_href(self.user)
                };
                let mut found = self.principal_props();
                if target == Target::Root {
                    found.retain(|(_, local, _)| *local != "resourcetype");
                    found.push((DAV, "resourcetype", "<d:collection/>".into()));
                }
                vec![Entry { href, found }]
            }
            Target::Home => {
                let mut entries = vec![Entry {
                    href: home_href(self.user),
                    found: vec![
                        (DAV, "resourcetype", "<d:collection/>".into()),
                        (DAV, "displayname", "todo".into()),
                        (
                            DAV,
                            "current-user-principal",
                            href(&principal_href(self.user)),
                        ),
                    ],
                }];
                if deep {
                    for calendar in todo.dav_calendars(user_id).await? {
                        if !calendar.project.archived {
                            entries.push(self.calendar_entry(&calendar));
                        }
                    }
                }
                entries
            }
            Target::Calendar(segment) => {
                let calendar = todo.dav_calendar(user_id, &segment).await?;
                let mut entries = vec![self.calendar_entry(&calendar)];
                if deep {
                    for resource in todo.dav_resources(user_id, calendar.project.id).await? {
                        entries.push(self.object_entry(&segment, &resource, false));
                    }
                }
                entries
            }
            Target::Object(segment, name) => {
                let project = todo.dav_project(user_id, &segment).await?;
                let resource = todo.dav_resource(user_id, project, &name).await?;
                vec![self.object_entry(&segment, &resource, false)]
            }
        };
        Ok(multistatus(&entries, &wanted, &[], None))
    }

    async fn report(&self, segment: &str, body: &Bytes) -> Result<Response, ApiError> {
        let request = parse_xml(body)?.ok_or_else(|| bad_xml("a REPORT needs a body"))?;
        // Membership first: a multiget naming nothing still answers 404 to a stranger.
        let calendar = self
            .state
            .todo
            .dav_calendar(&self.principal.user_id, segment)
            .await?;
        let project = calendar.project.id;
        let wanted = Wanted::of(Some(&request));
        let data = wanted.wants(CALDAV, "calendar-data");
        let todo = &self.state.todo;
        let user_id = &self.principal.user_id;
        match request.local() {
            "calendar-multiget" => {
                let mut hrefs = Vec::new();
                request.find_all("href", &mut hrefs);
                if hrefs.len() > MAX_HREFS {
                    return Err(ApiError::forbidden(
                        "too-many",
                        format!("a calendar-multiget names at most {MAX_HREFS} resources"),
                    ));
                }
                let mut entries = Vec::new();
                let mut gone = Vec::new();
                for element in hrefs {
                    let path = element.text.as_str();
                    let path = url_path(path);
                    match target(&path, self.user) {
                        Some(Target::Object(s, name)) if s == segment => {
                            match todo.dav_resource(user_id, project, &name).await {
                                Ok(resource) => {
                                    entries.push(self.object_entry(segment, &resource, data));
                                }
                                Err(todo_core::Error::NotFound(_)) => gone.push(path),
                                Err(err) => return Err(err.into()),
                            }
                        }
                        _ => gone.push(path),
                    }
                }
                Ok(multistatus(&entries, &wanted, &gone, None))
            }
            "calendar-query" => {
                let range = request
                    .first("time-range")
                    .map(|r| TimeRange {
                        start: r.attribute("start").and_then(ical_time),
                        end: r.attribute("end").and_then(ical_time),
                    })
                    .unwrap_or_default();
                let wants_todos = request
                    .first("comp-filter")
                    .and_then(|c| c.children.iter().find(|x| x.local() == "comp-filter"))
                    .is_none_or(|inner| inner.attribute("name") == Some("VTODO"));
                let mut entries = Vec::new();
                if wants_todos {
                    for resource in todo.dav_query(user_id, project, &range).await? {
                        entries.push(self.object_entry(segment, &resource, data));
                    }
                }
                Ok(multistatus(&entries, &wanted, &[], None))
            }
            "sync-collection" => {
                let raw = request
                    .first("sync-token")
                    .map(|t| t.text.trim().to_owned());
                let changes = match raw.as_deref() {
                    None | Some("") => Changes {
                        changed: todo.dav_resources(user_id, project).await?,
                        gone: Vec::new(),
                        token: calendar.token,
                    },
                    Some(raw) => {
                        let Ok(token) = raw.parse::<SyncToken>() else {
                            return Ok(dav_error(StatusCode::FORBIDDEN, "d", "valid-sync-token"));
                        };
                        match todo.dav_changes(user_id, project, token).await {
                            Ok(changes) => changes,
                            Err(todo_core::Error::PreconditionFailed(_)) => {
                                return Ok(dav_error(
                                    StatusCode::FORBIDDEN,
                                    "d",
                                    "valid-sync-token",
                                ));
                            }
                            Err(err) => return Err(err.into()),
                        }
                    }
                };
                let entries: Vec<Entry> = changes
                    .changed
                    .iter()
                    .map(|resource| self.object_entry(segment, resource, data))
                    .collect();
                let gone: Vec<String> = changes
                    .gone
                    .iter()
                    .map(|name| object_href(self.user, segment, name))
                    .collect();
                Ok(multistatus(&entries, &wanted, &gone, Some(changes.token)))
            }
            _ => Ok(dav_error(StatusCode::FORBIDDEN, "d", "supported-report")),
        }
    }

    /// Renames or recolours a calendar (its project: the owner's to change).
    async fn proppatch(&self, segment: &str, body: &Bytes) -> Result<Response, ApiError> {
        let request = parse_xml(body)?.ok_or_else(|| bad_xml("a PROPPATCH needs a body"))?;
        let project = self
            .state
            .todo
            .dav_project(&self.principal.user_id, segment)
            .await?;
        let mut input = todo_core::project::ProjectPatchInput::default();
        let mut changed = Vec::new();
        if let Some(name) = request.first("displayname").filter(|n| !n.text.is_empty()) {
            input.name = todo_core::patch::Patch::Value(name.text.clone());
            changed.push((DAV, "displayname"));
        }
        if let Some(color) = request.first("calendar-color") {
            input.color = todo_core::patch::Patch::Value(calendar_color(&color.text));
            changed.push((APPLE, "calendar-color"));
        }
        if !changed.is_empty() {
            self.state
                .todo
                .update_project(&self.principal.user_id, project, input)
                .await?;
        }
        let entry = Entry {
            href: calendar_href(self.user, segment),
            found: changed
                .iter()
                .map(|(ns, local)| (*ns, *local, String::new()))
                .collect(),
        };
        Ok(multistatus(&[entry], &Wanted::All, &[], None))
    }
}

/// The path of an href that may be a full URL.
fn url_path(href: &str) -> String {
    match href.find("://") {
        Some(scheme) => {
            let rest = &href[scheme + 3..];
            rest.find('/')
                .map_or("/".to_owned(), |at| rest[at..].to_owned())
        }
        None => href.to_owned(),
    }
}

/// An iCalendar UTC time (`20261201T000000Z`) from a time-range attribute.
fn ical_time(raw: &str) -> Option<chrono::DateTime<chrono::Utc>> {
    chrono::NaiveDateTime::parse_from_str(raw.trim_end_matches('Z'), "%Y%m%dT%H%M%S")
        .ok()
        .map(|t| t.and_utc())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_name_only_the_caller_s_resources() {
        assert_eq!(target("/dav/", "u1"), Some(Target::Root));
        assert_eq!(target("/dav/principals/u1/", "u1"), Some(Target::Principal));
        assert_eq!(target("/dav/calendars/u1", "u1"), Some(Target::Home));
        assert_eq!(
            target("/dav/calendars/u1/7/", "u1"),
            Some(Target::Calendar("7".into()))
        );
        assert_eq!(
            target("/dav/calendars/u1/7/a%20b.ics", "u1"),
            Some(Target::Object("7".into(), "a b.ics".into()))
        );
        assert_eq!(target("/dav/calendars/u2/7/", "u1"), None);
        assert_eq!(target("/dav/calendars/u1/7/%zz", "u1"), None);
    }

    #[test]
    fn names_survive_the_round_trip_through_a_path() {
        for name in ["task-1@todo.ics", "a b/c?.ics", "ünï.ics"] {
            assert_eq!(percent_decode(&percent_encode(name)).as_deref(), Some(name));
        }
    }

    #[test]
    fn xml_bodies_are_read_with_their_namespaces_and_bounded() {
        let body = br#"<?xml version="1.0"?><d:propfind xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:caldav">
            <d:prop><d:getetag/><c:calendar-data/><x:odd xmlns:x="urn:x"/></d:prop></d:propfind>"#;
        let root = parse_xml(body).expect("xml").expect("a root");
        assert_eq!(root.local(), "propfind");
        let Wanted::Names(names) = Wanted::of(Some(&root)) else {
            panic!("names")
        };
        assert_eq!(names.len(), 3);
        assert!(names[1].is(CALDAV, "calendar-data"));
        assert!(names[2].is("urn:x", "odd"));
        assert!(parse_xml(b"<a><b></a>").is_err());
        let deep = "<a>".repeat(MAX_DEPTH + 2);
        assert!(parse_xml(deep.as_bytes()).is_err());
        assert!(parse_xml(b"  ").expect("empty").is_none());
        let href = parse_xml(b"<d:href xmlns:d=\"DAV:\">/a&amp;b</d:href>")
            .expect("xml")
            .expect("root");
        assert_eq!(href.text, "/a&b");
    }
}
