//! The problem responses that the middleware and the extractors can give on any operation,
//! added to the OpenAPI document in one place so that no handler can forget one: 401 on every
//! route that takes a credential, 403 on its writes (a read-only key), 429 and 503 where rate
//! limits apply, 400/413/415/422 where a body or parameters are parsed and validated. A handler's own
//! description of a status wins; a handler's problem response without one gets the meaning that
//! status has everywhere (docs/api-design.md, Errors). An operation without a credential says so
//! (`security: []`), so that every operation declares its security.

use utoipa::Modify;
use utoipa::openapi::path::Operation;
use utoipa::openapi::{Content, OpenApi, Ref, RefOr, Response, ResponseBuilder};

use crate::error::PROBLEM_JSON;
use crate::rate_limit::EXEMPT;

pub struct CommonProblems;

impl Modify for CommonProblems {
    fn modify(&self, openapi: &mut OpenApi) {
        for (path, item) in &mut openapi.paths.paths {
            let limited = !EXEMPT.contains(&path.as_str());
            if let Some(operation) = &mut item.get {
                add_problems(operation, false, limited);
            }
            for operation in [
                &mut item.put,
                &mut item.post,
                &mut item.delete,
                &mut item.patch,
            ]
            .into_iter()
            .flatten()
            {
                add_problems(operation, true, limited);
            }
        }
    }
}

fn add_problems(operation: &mut Operation, write: bool, limited: bool) {
    for (status, response) in &mut operation.responses.responses {
        if let RefOr::T(response) = response
            && response.description.is_empty()
            && let Some(meaning) = meaning(status)
        {
            meaning.clone_into(&mut response.description);
        }
    }
    let mut add = |status: &str, description: &str| {
        operation
            .responses
            .responses
            .entry(status.to_owned())
            .or_insert_with(|| problem(description));
    };
    let secured = operation.security.is_some();
    let has_body = operation.request_body.is_some();
    let has_params = operation
        .parameters
        .as_ref()
        .is_some_and(|params| !params.is_empty());
    if has_body || has_params {
        add(
            "400",
            "Malformed request: a body that is not JSON, or a parameter of the wrong type",
        );
    }
    if has_body {
        add("413", "The body is larger than the route allows");
        add("415", "The body is not `application/json`");
    }
    if has_body || has_params {
        add(
            "422",
            "The body or a parameter does not validate; `errors` names each field",
        );
    }
    if secured {
        add(
            "401",
            "No credential, or a malformed, expired or revoked one (with `WWW-Authenticate: Bearer`)",
        );
        if write {
            add("403", "The API key lacks the `write` scope");
        }
    }
    if !secured {
        operation.security = Some(Vec::new());
    }
    if limited {
        add("429", "Rate limited; `Retry-After` says when to try again");
        add(
            "503",
            "Rate limits fail closed (`RATE_LIMIT_FAIL_OPEN=false`) and Redis is unreachable",
        );
    }
}

/// What a problem status means on any route (docs/api-design.md, Errors). A success has no
/// such meaning: its handler describes it (a test checks that every response has words).
fn meaning(status: &str) -> Option<&'static str> {
    Some(match status {
        "400" => "Malformed request: a body that is not JSON, or a parameter of the wrong type",
        "401" => {
            "No credential, or a malformed, expired or revoked one (with `WWW-Authenticate: Bearer`)"
        }
        "403" => "The credential does not allow this",
        "404" => "No such object of the caller's (another user's answers the same)",
        "409" => "Conflicts with what exists",
        "422" => "The body or a parameter does not validate; `errors` names each field",
        "503" => "Unavailable for now; `Retry-After` says when to try again",
        status if status.starts_with('4') || status.starts_with('5') => {
            "A problem; its `detail` says what went wrong"
        }
        _ => return None,
    })
}

fn problem(description: &str) -> RefOr<Response> {
    RefOr::T(
        ResponseBuilder::new()
            .description(description)
            .content(
                PROBLEM_JSON,
                Content::new(Some(Ref::from_schema_name("Problem"))),
            )
            .build(),
    )
}
