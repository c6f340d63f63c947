//! The second route shape in the OpenAPI document: every operation on the caller's own data is
//! also served under `/api/{user_id}/…` (the shape existing todo clients use). Each is documented
//! as a copy of its `/api/v1` operation with the `user_id` path parameter, the 403 that a user id
//! other than the caller's gets, and the operationId suffixed `ForUser`.

use utoipa::openapi::path::{Operation, Parameter, ParameterIn};
use utoipa::openapi::{
    Content, ObjectBuilder, OpenApi, Ref, RefOr, Required, ResponseBuilder, Type,
};

use crate::error::PROBLEM_JSON;

const WRONG_USER: &str = "The path's `user_id` is not the caller's (`wrong-user`)";

/// Adds `/api/{user_id}{path}` for each `path` (relative to `/api/v1`) of `resources`.
pub fn add_user_shape(doc: &mut OpenApi, resources: &[String]) {
    for path in resources {
        let Some(item) = doc.paths.paths.get(&format!("/api/v1{path}")) else {
            continue;
        };
        let mut item = item.clone();
        for operation in [
            &mut item.get,
            &mut item.put,
            &mut item.post,
            &mut item.delete,
            &mut item.patch,
        ]
        .into_iter()
        .flatten()
        {
            for_user(operation);
        }
        doc.paths
            .paths
            .insert(format!("/api/{{user_id}}{path}"), item);
    }
}

fn for_user(operation: &mut Operation) {
    if let Some(id) = &mut operation.operation_id {
        id.push_str("ForUser");
    }
    let mut user_id = Parameter::new("user_id");
    user_id.parameter_in = ParameterIn::Path;
    user_id.required = Required::True;
    user_id.description = Some("The caller's own user id; any other answers 403".to_owned());
    user_id.schema = Some(RefOr::T(
        ObjectBuilder::new()
            .schema_type(Type::String)
            .min_length(Some(1))
            .max_length(Some(255))
            .into(),
    ));
    operation
        .parameters
        .get_or_insert_with(Vec::new)
        .insert(0, RefOr::T(user_id));
    let responses = &mut operation.responses.responses;
    match responses.get_mut("403") {
        Some(RefOr::T(forbidden)) => {
            forbidden.description = format!("{}; or: {WRONG_USER}", forbidden.description);
        }
        _ => {
            responses.insert(
                "403".to_owned(),
                RefOr::T(
                    ResponseBuilder::new()
                        .description(WRONG_USER)
                        .content(
                            PROBLEM_JSON,
                            Content::new(Some(Ref::from_schema_name("Problem"))),
                        )
                        .build(),
                ),
            );
        }
    }
}
